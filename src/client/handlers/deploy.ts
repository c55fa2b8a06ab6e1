import type { DeployChunkMessage, DeployCommitMessage, DeployOfferMessage, DeployResultMessage, DeviceClass, Message } from '../../protocol/index.js';
import { toErrorMessage } from '../../protocol/index.js';
import type { ArtifactStore } from '../artifact-store.js';
import { asEparaError, deployError } from '../client-errors.js';
import { commitDeployment, type CommitHost } from '../deploy-commit.js';
import type { DeployedEvent } from '../device.js';
import type { DeviceHooks } from '../device-options.js';
import type { ServiceTable } from '../services.js';
import type { DeviceHandlers } from './table.js';

const MAX_TRANSFERS = 32;

interface Transfer {
  offer: DeployOfferMessage;
  chunks: number;
  /** Chunks and commit of one deployment run one at a time, in arrival order. */
  chain: Promise<unknown>;
}

export interface DeployReceiverHost {
  readonly deviceId: string;
  readonly deviceClass: DeviceClass;
  readonly formats: readonly string[];
  readonly store: ArtifactStore;
  readonly services: ServiceTable;
  readonly window: number;
  readonly hooks: DeviceHooks | undefined;
  /** A DEPLOY_RESULT progress notification on the current link. */
  notify(m: DeployResultMessage): void;
  progress(info: { deploymentId: number; service: string; version: string; nextOffset: number; size: number }): void;
  deployed(e: DeployedEvent): void;
  changed(): void;
}

/**
 * DEPLOY_OFFER / DEPLOY_CHUNK / DEPLOY_COMMIT (SPEC §7.5), the device's side: a resumable transfer
 * into the artifact store (the offset survives a restart), then verify, load, warm up, activate
 * (deploy-commit.ts). Chunks and the commit of one deployment are serialized per transfer.
 */
export class DeployReceiver {
  private readonly transfers = new Map<number, Transfer>();

  constructor(private readonly h: DeployReceiverHost) {}

  readonly handlers: Pick<DeviceHandlers, 'DEPLOY_OFFER' | 'DEPLOY_CHUNK' | 'DEPLOY_COMMIT'> = {
    DEPLOY_OFFER: (m) => this.onOffer(m),
    DEPLOY_CHUNK: (m) => this.onChunk(m),
    DEPLOY_COMMIT: (m) => this.onCommit(m),
  };

  private serialize<T>(t: Transfer, fn: () => Promise<T>): Promise<T> {
    const run = t.chain.then(fn, fn);
    t.chain = run.catch(() => undefined);
    return run;
  }

  private async onOffer(msg: DeployOfferMessage): Promise<Message> {
    const h = this.h;
    try {
      if (!h.services.loaderFor(msg.kind)) {
        throw deployError('deploy.unsupported_kind', { reason: `device ${h.deviceId} (${h.deviceClass}) cannot run ${msg.kind} artifacts`, hint: `it accepts ${h.formats.join(', ') || 'no artifacts'}; use a custom handler or another device`, field: 'kind' });
      }
      const existing = this.transfers.get(msg.deploymentId);
      const t: Transfer = existing && Buffer.compare(existing.offer.sha256, msg.sha256) === 0 ? existing : { offer: msg, chunks: 0, chain: existing?.chain ?? Promise.resolve() };
      t.offer = msg;
      this.transfers.set(msg.deploymentId, t);
      // Offers the server abandoned must not pile up: keep the most recent few (their bytes stay on disk for a resume).
      for (const old of this.transfers.keys()) {
        if (this.transfers.size <= MAX_TRANSFERS) break;
        this.transfers.delete(old);
      }
      const nextOffset = await this.serialize(t, () =>
        h.store.begin({ deploymentId: msg.deploymentId, service: msg.service, version: msg.version, kind: msg.kind, size: msg.size, sha256: msg.sha256, meta: msg.meta as Record<string, unknown> | undefined }),
      );
      return { type: 'DEPLOY_ACCEPT', deploymentId: msg.deploymentId, nextOffset, window: h.window };
    } catch (e) {
      return toErrorMessage(asEparaError(e, (m) => deployError('deploy.no_space', { reason: m, hint: 'check the device data directory', cause: e })));
    }
  }

  private async onChunk(msg: DeployChunkMessage): Promise<Message> {
    const h = this.h;
    let t = this.transfers.get(msg.deploymentId);
    if (!t) {
      // A rebooted device can still hold the partial; the server normally re-offers first.
      const p = await h.store.partial(msg.deploymentId);
      if (!p) return toErrorMessage(deployError('deploy.unknown', { reason: `no transfer in progress for deployment ${msg.deploymentId}`, hint: 'send DEPLOY_OFFER first (again after a reconnect)' }));
      t = { offer: { type: 'DEPLOY_OFFER', deploymentId: msg.deploymentId, service: p.service, version: p.version, kind: 'blob', size: p.size, sha256: Buffer.from(p.sha256, 'hex'), chunkSize: msg.data.length, category: 'latency-single' }, chunks: 0, chain: Promise.resolve() };
      this.transfers.set(msg.deploymentId, t);
    }
    const transfer = t;
    try {
      const nextOffset = await this.serialize(transfer, async () => {
        const index = transfer.chunks++;
        if (h.hooks?.acceptChunk && !h.hooks.acceptChunk(msg, index)) return h.store.nextOffset(msg.deploymentId);
        const next = await h.store.write(msg.deploymentId, msg.offset, msg.data);
        const info = { deploymentId: msg.deploymentId, service: transfer.offer.service, version: transfer.offer.version, nextOffset: next, size: transfer.offer.size };
        h.progress(info);
        h.hooks?.chunkStored?.(info);
        return next;
      });
      return { type: 'DEPLOY_CHUNK_ACK', deploymentId: msg.deploymentId, nextOffset };
    } catch (e) {
      return toErrorMessage(asEparaError(e, (m) => deployError('deploy.no_space', { reason: `could not store the chunk: ${m}`, hint: 'check free space in the device data directory', cause: e })));
    }
  }

  private async onCommit(msg: DeployCommitMessage): Promise<Message> {
    const t = this.transfers.get(msg.deploymentId);
    if (!t) return toErrorMessage(deployError('deploy.unknown', { reason: `no transfer to commit for deployment ${msg.deploymentId}`, hint: 'offer and send the artifact first' }));
    // Verify, load, warm up, activate — or keep serving the previous version and say so (deploy-commit.ts).
    return this.serialize(t, () => commitDeployment(this.commitHost, t.offer));
  }

  private readonly commitHost: CommitHost = {
    store: () => this.h.store,
    services: () => this.h.services.entries,
    notify: (m) => this.h.notify(m),
    forgetTransfer: (id) => this.transfers.delete(id),
    loadRunner: (r) => this.h.services.loadRunner(r),
    install: (r, runner) => this.h.services.install(r, runner),
    deployed: (e) => this.h.deployed(e),
    changed: () => this.h.changed(),
  };
}
