/**
 * Artifacts on the device's disk: resumable partial transfers, SHA-256 verification, atomic
 * promotion, and one previous version kept per service so a failed load can roll back.
 *
 * Layout under `<dataDir>/artifacts/`:
 *   partial/<deploymentId>.part   bytes received in order (its size IS nextOffset: chunks are only
 *                                 ever appended at nextOffset, so no separate counter can disagree)
 *   partial/<deploymentId>.ckpt   the last synced offset and the boot it was synced in
 *                                 (partial-transfer.ts says what a crash can lose)
 *   partial/<deploymentId>.json   the offer being received (service, version, sha256, size, kind)
 *   svc-<hash of service>/<sha256>.<kind>   verified artifacts
 *   svc-<hash of service>/active.json       { current, previous } records
 * Service names are hashed into directory names so no name can escape the data directory.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveNumbers } from '../options.js';
import { deployError } from './client-errors.js';
import { PartialTransfer } from './partial-transfer.js';
import { atomicWrite, dirBytes, exists, fileSize, readJson } from './store-files.js';

export { sha256File } from './store-files.js';

import type { ArtifactKind, DeployOfferMessage } from '../protocol/messages/types.js';
export type { ArtifactKind };

/** What the store needs of a DEPLOY_OFFER (its meta kept as the generic record it stores). */
export type ArtifactOffer = Pick<DeployOfferMessage, 'deploymentId' | 'service' | 'version' | 'kind' | 'size' | 'sha256'> & { meta?: Record<string, unknown> };

export interface ArtifactRecord {
  service: string;
  version: string;
  kind: ArtifactKind;
  sha256: string;
  size: number;
  path: string;
  meta?: Record<string, unknown>;
}

interface PartialMeta {
  deploymentId: number;
  service: string;
  version: string;
  kind: ArtifactKind;
  size: number;
  sha256: string;
  meta?: Record<string, unknown>;
}

interface ActiveFile {
  current?: ArtifactRecord;
  previous?: ArtifactRecord;
  /** The operator unloaded the service: a restart keeps it unloaded until a deploy or a load. */
  unloaded?: boolean;
}

export interface ArtifactStoreOptions {
  /** Largest single artifact accepted, bytes. */
  maxArtifactBytes?: number;
  /** Total bytes of partial + verified artifacts the store may hold. */
  capacityBytes?: number;
  /**
   * Received bytes between two checkpoints (fdatasync + the synced offset recorded). A device
   * process crash loses nothing acknowledged; a power cut or OS crash loses at most this much (or
   * `syncEveryMs` worth) of a transfer, which is sent again. 0 syncs every chunk.
   */
  syncEveryBytes?: number;
  /** Longest time received bytes stay unsynced (slow links reach syncEveryBytes rarely). */
  syncEveryMs?: number;
}

const SPECS = {
  maxArtifactBytes: { default: 256 * 1024 * 1024, min: 1, max: 2 ** 40, integer: true, unit: 'bytes' },
  capacityBytes: { default: 1024 * 1024 * 1024, min: 1, max: 2 ** 44, integer: true, unit: 'bytes' },
  syncEveryBytes: { default: 4 * 1024 * 1024, min: 0, max: 2 ** 40, integer: true, unit: 'bytes' },
  syncEveryMs: { default: 1000, min: 0, max: 3_600_000, integer: true, unit: 'ms' },
};

/** A transfer being received: its offer and the partial file with its running hash. */
interface OpenTransfer {
  meta: PartialMeta;
  part: PartialTransfer;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export class ArtifactStore {
  readonly root: string;
  private readonly opts: { maxArtifactBytes: number; capacityBytes: number; syncEveryBytes: number; syncEveryMs: number };
  private readonly openTransfers = new Map<number, OpenTransfer>();
  /** Digests of transfers released complete, for finish() (bounded: one per open transfer at most). */
  private readonly completed = new Map<number, { next: number; digest: string }>();
  /** The last pending change of each service's active.json (see changeActive). */
  private readonly activeChanges = new Map<string, Promise<void>>();

  constructor(dataDir: string, options: ArtifactStoreOptions = {}) {
    this.root = join(dataDir, 'artifacts');
    this.opts = resolveNumbers(SPECS, options, 'artifactStore.');
  }

  private partialDir(): string {
    return join(this.root, 'partial');
  }
  private partPath(id: number): string {
    return join(this.partialDir(), `${id}.part`);
  }
  private ckptPath(id: number): string {
    return join(this.partialDir(), `${id}.ckpt`);
  }
  private partMetaPath(id: number): string {
    return join(this.partialDir(), `${id}.json`);
  }
  private serviceDir(service: string): string {
    return join(this.root, `svc-${createHash('sha256').update(service).digest('hex').slice(0, 24)}`);
  }

  /**
   * Start or resume receiving an offer. Returns the offset the sender should continue from:
   * 0 for a fresh transfer, the persisted count for the same id and hash, `size` when an
   * artifact with this hash is already verified on disk for this service.
   */
  async begin(offer: ArtifactOffer): Promise<number> {
    if (!Number.isSafeInteger(offer.size) || offer.size < 0) {
      throw deployError('deploy.offset', { reason: `offered size ${offer.size} is not a valid byte count`, hint: 'the server sent a malformed DEPLOY_OFFER', field: 'size' });
    }
    if (offer.sha256.length !== 32) {
      throw deployError('deploy.hash_mismatch', { reason: `offered sha256 has ${offer.sha256.length} bytes, expected 32`, hint: 'the server sent a malformed DEPLOY_OFFER', field: 'sha256' });
    }
    if (offer.size > this.opts.maxArtifactBytes) {
      throw deployError('deploy.too_large', {
        reason: `artifact of ${offer.size} bytes exceeds this device's limit of ${this.opts.maxArtifactBytes}`,
        hint: 'deploy a smaller model or raise maxArtifactBytes on the device',
        details: { size: offer.size, limit: this.opts.maxArtifactBytes },
      });
    }
    const sha = hex(offer.sha256);
    await this.release(offer.deploymentId);
    this.completed.delete(offer.deploymentId);
    await mkdir(this.partialDir(), { recursive: true });
    const complete = join(this.serviceDir(offer.service), `${sha}.${offer.kind}`);
    if (await exists(complete)) return offer.size;

    const prev = await this.readPartialMeta(offer.deploymentId);
    if (prev && prev.sha256 === sha && prev.size === offer.size) {
      // Reopening finds the resume offset: the file's length, or the last checkpoint after a reboot.
      return (await this.transfer(offer.deploymentId)).part.next;
    }
    // Same id with another hash (or no partial at all): restart at 0.
    const used = await this.bytesUsed();
    if (used + offer.size > this.opts.capacityBytes) {
      throw deployError('deploy.no_space', {
        reason: `artifact of ${offer.size} bytes does not fit: ${used} of ${this.opts.capacityBytes} bytes in use`,
        hint: 'undeploy unused services on this device or raise capacityBytes',
        details: { size: offer.size, used, capacity: this.opts.capacityBytes },
      });
    }
    const meta: PartialMeta = { deploymentId: offer.deploymentId, service: offer.service, version: offer.version, kind: offer.kind, size: offer.size, sha256: sha, meta: offer.meta };
    await writeFile(this.partPath(offer.deploymentId), new Uint8Array(0));
    await rm(this.ckptPath(offer.deploymentId), { force: true });
    await atomicWrite(this.partMetaPath(offer.deploymentId), JSON.stringify(meta));
    return 0;
  }

  /** Bytes received in order so far for a deployment (its nextOffset). */
  async nextOffset(deploymentId: number): Promise<number> {
    return (await this.transfer(deploymentId)).part.next;
  }

  /**
   * Go-back-N receive: appends `data` only when `offset` equals nextOffset, drops anything else,
   * and returns the (possibly unchanged) nextOffset. Calls for one deployment must not overlap
   * (EparaDevice serialises them).
   */
  async write(deploymentId: number, offset: number, data: Uint8Array): Promise<number> {
    const t = await this.transfer(deploymentId);
    if (offset !== t.part.next || data.length === 0) return t.part.next;
    if (offset + data.length > t.meta.size) {
      throw deployError('deploy.offset', {
        reason: `chunk at ${offset} of ${data.length} bytes runs past the offered size ${t.meta.size}`,
        hint: 'the server sent more bytes than it offered; redeploy',
        details: { offset, length: data.length, size: t.meta.size },
      });
    }
    return t.part.append(data, Date.now());
  }

  /** The open transfer, reopened from disk after a restart (the file's size is the offset). */
  private async transfer(deploymentId: number): Promise<OpenTransfer> {
    const have = this.openTransfers.get(deploymentId);
    if (have) return have;
    const meta = await this.readPartialMeta(deploymentId);
    if (!meta) throw unknownDeployment(deploymentId);
    // Another call may have opened it while the metadata was read.
    const raced = this.openTransfers.get(deploymentId);
    if (raced) return raced;
    const part = PartialTransfer.open(this.partPath(deploymentId), this.ckptPath(deploymentId), meta.size, this.opts);
    const t: OpenTransfer = { meta, part };
    this.openTransfers.set(deploymentId, t);
    return t;
  }

  private async release(deploymentId: number): Promise<void> {
    const t = this.openTransfers.get(deploymentId);
    if (!t) return;
    this.openTransfers.delete(deploymentId);
    if (t.part.next === t.meta.size) this.completed.set(deploymentId, { next: t.part.next, digest: t.part.digest() });
    try {
      await t.part.close();
    } catch {
      // A failed final sync leaves the last checkpoint in force: safe.
    }
  }

  /** Flush and close every open transfer (the device is shutting down). */
  async close(): Promise<void> {
    for (const id of [...this.openTransfers.keys()]) await this.release(id);
  }

  /**
   * Verify the completed transfer and move it into place with a rename (atomic on one
   * filesystem), so a reader never sees a half-written artifact.
   *
   * Idempotent given the offer: when the partial is gone because the artifact is already verified
   * on disk (a COMMIT repeated after either side crashed, or an offer of an artifact this device
   * already holds, which `begin` answers with `size`), it returns that artifact's record.
   */
  async finish(deploymentId: number, offer?: ArtifactOffer): Promise<ArtifactRecord> {
    await this.release(deploymentId);
    const meta = (await this.readPartialMeta(deploymentId)) ?? (offer ? await this.verifiedMeta(offer) : undefined);
    if (!meta) throw unknownDeployment(deploymentId);
    const dir = this.serviceDir(meta.service);
    const final = join(dir, `${meta.sha256}.${meta.kind}`);
    const record: ArtifactRecord = { service: meta.service, version: meta.version, kind: meta.kind, sha256: meta.sha256, size: meta.size, path: final, meta: meta.meta };
    if (await exists(final)) {
      await this.discard(deploymentId);
      return record;
    }
    const part = this.partPath(deploymentId);
    // The running hash of the received bytes, kept when the transfer was released complete: no
    // read-back of the file (a reopen after a restart hashes what is there, once).
    let done = this.completed.get(deploymentId);
    this.completed.delete(deploymentId);
    if (!done) {
      const t = await this.transfer(deploymentId);
      done = { next: t.part.next, digest: t.part.digest() };
      await this.release(deploymentId);
      this.completed.delete(deploymentId);
    }
    const { next: have, digest } = done;
    if (have !== meta.size) {
      throw deployError('deploy.offset', {
        reason: `commit after ${have} of ${meta.size} bytes`,
        hint: 'the server committed before sending every chunk; it should resume the transfer',
        details: { nextOffset: have, size: meta.size },
      });
    }
    if (digest !== meta.sha256) {
      await this.discard(deploymentId);
      throw deployError('deploy.hash_mismatch', {
        reason: `received artifact hashes to ${digest.slice(0, 16)}…, offer said ${meta.sha256.slice(0, 16)}…`,
        hint: 'the bytes were corrupted in transit or the offer was wrong; redeploy (the transfer restarts from 0)',
      });
    }
    await mkdir(dir, { recursive: true });
    await rename(part, final);
    await rm(this.partMetaPath(deploymentId), { force: true });
    await rm(this.ckptPath(deploymentId), { force: true });
    return record;
  }

  /** The offer as partial metadata when its artifact is already verified on disk. */
  private async verifiedMeta(offer: ArtifactOffer): Promise<PartialMeta | undefined> {
    const sha = hex(offer.sha256);
    if (!(await exists(join(this.serviceDir(offer.service), `${sha}.${offer.kind}`)))) return undefined;
    return { deploymentId: offer.deploymentId, service: offer.service, version: offer.version, kind: offer.kind, size: offer.size, sha256: sha, meta: offer.meta };
  }

  async discard(deploymentId: number): Promise<void> {
    await this.release(deploymentId);
    this.completed.delete(deploymentId);
    await rm(this.partPath(deploymentId), { force: true });
    await rm(this.ckptPath(deploymentId), { force: true });
    await rm(this.partMetaPath(deploymentId), { force: true });
  }

  /** The offer a partial transfer belongs to, if any (used to answer a resumed OFFER). */
  async partial(deploymentId: number): Promise<{ service: string; version: string; sha256: string; size: number } | undefined> {
    const m = await this.readPartialMeta(deploymentId);
    return m ? { service: m.service, version: m.version, sha256: m.sha256, size: m.size } : undefined;
  }

  /** Make `record` the active version of its service; the old active one becomes `previous`. */
  async activate(record: ArtifactRecord): Promise<void> {
    return this.changeActive(record.service, (active) => this.activateIn(active, record));
  }

  private async activateIn(active: ActiveFile, record: ArtifactRecord): Promise<void> {
    delete active.unloaded;
    if (active.current?.sha256 === record.sha256) {
      active.current = record;
    } else {
      const dropped = active.previous;
      active.previous = active.current;
      active.current = record;
      if (dropped && dropped.sha256 !== record.sha256 && dropped.sha256 !== active.previous?.sha256) await rm(dropped.path, { force: true });
    }
    await this.writeActive(record.service, active);
  }

  /**
   * Forget a candidate that failed to load: the active record is untouched, the candidate's
   * file is removed unless it is the active or previous artifact.
   */
  async reject(record: ArtifactRecord): Promise<void> {
    const active = await this.readActive(record.service);
    if (active.current?.sha256 !== record.sha256 && active.previous?.sha256 !== record.sha256) await rm(record.path, { force: true });
  }

  /** Swap back to the previous version. Returns it, or undefined when there is none. */
  async rollback(service: string): Promise<ArtifactRecord | undefined> {
    return this.changeActive(service, async (active) => {
      if (!active.previous) return undefined;
      const failed = active.current;
      active.current = active.previous;
      active.previous = undefined;
      await this.writeActive(service, active);
      if (failed && failed.sha256 !== active.current.sha256) await rm(failed.path, { force: true });
      return active.current;
    });
  }

  async remove(service: string): Promise<void> {
    await rm(this.serviceDir(service), { recursive: true, force: true });
  }

  async active(service: string): Promise<{ current?: ArtifactRecord; previous?: ArtifactRecord; unloaded?: boolean }> {
    return this.readActive(service);
  }

  /**
   * Persist that the service is unloaded (or loaded again): committed before the device answers
   * the PLACEMENT, so a crash right after cannot bring back a service the operator removed.
   */
  async setUnloaded(service: string, unloaded: boolean): Promise<void> {
    return this.changeActive(service, async (active) => {
      if (!active.current || (active.unloaded === true) === unloaded) return;
      if (unloaded) active.unloaded = true;
      else delete active.unloaded;
      await this.writeActive(service, active);
    });
  }

  /** Every service with an active artifact: what a rebooted device loads again. */
  async activeServices(): Promise<ArtifactRecord[]> {
    const out: ArtifactRecord[] = [];
    let entries: string[] = [];
    try {
      entries = await readdir(this.root);
    } catch {
      return out;
    }
    for (const e of entries.filter((x) => x.startsWith('svc-')).sort()) {
      const a = await readJson<ActiveFile>(join(this.root, e, 'active.json'));
      if (a?.current) out.push(a.current);
    }
    return out.sort((x, y) => x.service.localeCompare(y.service));
  }

  async bytesUsed(): Promise<number> {
    return dirBytes(this.root);
  }

  private async readPartialMeta(id: number): Promise<PartialMeta | undefined> {
    return readJson<PartialMeta>(this.partMetaPath(id));
  }
  private async readActive(service: string): Promise<ActiveFile> {
    return (await readJson<ActiveFile>(join(this.serviceDir(service), 'active.json'))) ?? {};
  }
  /**
   * Read-modify-write of a service's active.json, one at a time per service. A repeated COMMIT
   * (activate) and an unload (setUnloaded) can arrive together; unserialised, one rename found the
   * other's temporary file gone (the unload answered 900) or one change overwrote the other.
   */
  private changeActive<T>(service: string, change: (active: ActiveFile) => Promise<T>): Promise<T> {
    const prev = this.activeChanges.get(service) ?? Promise.resolve();
    const run = prev.then(async () => change(await this.readActive(service)));
    const settled = run.then(() => undefined, () => undefined);
    this.activeChanges.set(service, settled);
    void settled.then(() => {
      if (this.activeChanges.get(service) === settled) this.activeChanges.delete(service);
    });
    return run;
  }

  private async writeActive(service: string, a: ActiveFile): Promise<void> {
    await mkdir(this.serviceDir(service), { recursive: true });
    await atomicWrite(join(this.serviceDir(service), 'active.json'), JSON.stringify(a));
  }
}

function unknownDeployment(id: number) {
  return deployError('deploy.unknown', { reason: `no transfer in progress for deployment ${id}`, hint: 'send DEPLOY_OFFER before chunks or commit', details: { deploymentId: id } });
}
