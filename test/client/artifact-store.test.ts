import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, existsSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArtifactStore, type ArtifactOffer } from '../../src/client/artifact-store.js';
import { DeployError, ConfigError } from '../../src/errors.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'epara-store-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function artifact(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}
function offerFor(bytes: Uint8Array, over: Partial<ArtifactOffer> = {}): ArtifactOffer {
  return { deploymentId: 7, service: 'cls', version: 'v1', kind: 'onnx', size: bytes.length, sha256: createHash('sha256').update(bytes).digest(), ...over };
}
async function sendAll(store: ArtifactStore, id: number, bytes: Uint8Array, from: number, chunk = 100): Promise<number> {
  let next = from;
  while (next < bytes.length) next = await store.write(id, next, bytes.subarray(next, next + chunk));
  return next;
}

describe('ArtifactStore', () => {
  it('receives in order, drops out-of-order and duplicate chunks, verifies and renames into place', async () => {
    const store = new ArtifactStore(tmp());
    const bytes = artifact(350);
    expect(await store.begin(offerFor(bytes))).toBe(0);
    expect(await store.write(7, 100, bytes.subarray(100, 200))).toBe(0); // out of order: dropped
    expect(await store.write(7, 0, bytes.subarray(0, 100))).toBe(100);
    expect(await store.write(7, 0, bytes.subarray(0, 100))).toBe(100); // duplicate: dropped
    expect(await sendAll(store, 7, bytes, 100)).toBe(350);
    const rec = await store.finish(7);
    expect(readFileSync(rec.path)).toEqual(Buffer.from(bytes));
    expect(rec.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(await store.partial(7)).toBeUndefined();
  });

  it('resumes a transfer after a restart from the persisted offset (same id and hash)', async () => {
    const dir = tmp();
    const bytes = artifact(1000);
    const a = new ArtifactStore(dir);
    await a.begin(offerFor(bytes));
    await sendAll(a, 7, bytes.subarray(0, 400), 0);
    // The device shuts down (what it received is made durable); a new store object over the same
    // directory stands for it after the restart. (A crash: artifact-store-checkpoints-bound-….)
    await a.close();
    const b = new ArtifactStore(dir);
    expect(await b.begin(offerFor(bytes))).toBe(400);
    await sendAll(b, 7, bytes, 400);
    const rec = await b.finish(7);
    expect(readFileSync(rec.path)).toEqual(Buffer.from(bytes));
  });

  it('restarts at 0 when the same deployment id is offered with another hash', async () => {
    const store = new ArtifactStore(tmp());
    const one = artifact(500, 1), two = artifact(500, 2);
    await store.begin(offerFor(one));
    await sendAll(store, 7, one.subarray(0, 300), 0);
    expect(await store.begin(offerFor(two))).toBe(0);
    await sendAll(store, 7, two, 0);
    expect(readFileSync((await store.finish(7)).path)).toEqual(Buffer.from(two));
  });

  it('answers nextOffset = size when the artifact is already verified on disk', async () => {
    const store = new ArtifactStore(tmp());
    const bytes = artifact(200);
    await store.begin(offerFor(bytes));
    await sendAll(store, 7, bytes, 0);
    await store.activate(await store.finish(7));
    expect(await store.begin(offerFor(bytes, { deploymentId: 8 }))).toBe(200);
  });

  it('rejects a hash mismatch with deploy.hash_mismatch and discards the partial', async () => {
    const store = new ArtifactStore(tmp());
    const bytes = artifact(300);
    await store.begin(offerFor(bytes, { sha256: createHash('sha256').update('other').digest() }));
    await sendAll(store, 7, bytes, 0);
    const err = await store.finish(7).catch((e) => e);
    expect(err).toBeInstanceOf(DeployError);
    expect(err.code).toBe('deploy.hash_mismatch');
    expect(err.wire).toBe(400);
    expect(await store.partial(7)).toBeUndefined();
  });

  it('rejects an early commit, chunks past the size, unknown ids, and oversize offers with typed errors', async () => {
    const store = new ArtifactStore(tmp(), { maxArtifactBytes: 1000 });
    const bytes = artifact(300);
    await store.begin(offerFor(bytes));
    await store.write(7, 0, bytes.subarray(0, 100));
    await expect(store.finish(7)).rejects.toMatchObject({ code: 'deploy.offset' });
    await expect(store.write(7, 100, new Uint8Array(250))).rejects.toMatchObject({ code: 'deploy.offset' });
    await expect(store.write(99, 0, bytes)).rejects.toMatchObject({ code: 'deploy.unknown', wire: 406 });
    await expect(store.begin(offerFor(artifact(1001)))).rejects.toMatchObject({ code: 'deploy.too_large', wire: 408 });
    await expect(store.begin(offerFor(bytes, { sha256: new Uint8Array(5) }))).rejects.toBeInstanceOf(DeployError);
  });

  it('refuses offers that do not fit the capacity with deploy.no_space', async () => {
    const store = new ArtifactStore(tmp(), { capacityBytes: 500 });
    const a = artifact(300);
    await store.begin(offerFor(a));
    await sendAll(store, 7, a, 0);
    await store.activate(await store.finish(7));
    await expect(store.begin(offerFor(artifact(300, 3), { deploymentId: 9 }))).rejects.toMatchObject({ code: 'deploy.no_space', wire: 402 });
  });

  it('keeps exactly one previous version and rolls back to it', async () => {
    const store = new ArtifactStore(tmp());
    const recs = [];
    for (let v = 1; v <= 3; v++) {
      const bytes = artifact(100 + v, v);
      await store.begin(offerFor(bytes, { deploymentId: v, version: `v${v}` }));
      await sendAll(store, v, bytes, 0);
      const rec = await store.finish(v);
      await store.activate(rec);
      recs.push(rec);
    }
    const act = await store.active('cls');
    expect(act.current?.version).toBe('v3');
    expect(act.previous?.version).toBe('v2');
    expect(existsSync(recs[0]!.path)).toBe(false); // v1 is no longer kept
    const back = await store.rollback('cls');
    expect(back?.version).toBe('v2');
    expect(existsSync(recs[2]!.path)).toBe(false);
    expect((await store.activeServices()).map((r) => r.version)).toEqual(['v2']);
    expect(await store.rollback('cls')).toBeUndefined();
  });

  it('treats torn metadata as no partial (restart at 0), and validates its options', async () => {
    const dir = tmp();
    const store = new ArtifactStore(dir);
    const bytes = artifact(100);
    await store.begin(offerFor(bytes));
    writeFileSync(join(dir, 'artifacts', 'partial', '7.json'), '{"deploym');
    expect(await store.begin(offerFor(bytes))).toBe(0);
    expect(() => new ArtifactStore(dir, { maxArtifactBytes: -1 })).toThrow(ConfigError);
  });

  it('keeps services with hostile names inside the data directory', async () => {
    const dir = tmp();
    const store = new ArtifactStore(dir);
    const bytes = artifact(50);
    await store.begin(offerFor(bytes, { service: '../../etc/passwd' }));
    await sendAll(store, 7, bytes, 0);
    const rec = await store.finish(7);
    expect(rec.path.startsWith(join(dir, 'artifacts'))).toBe(true);
  });
});
