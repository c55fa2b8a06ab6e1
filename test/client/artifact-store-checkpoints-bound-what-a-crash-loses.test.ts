import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../src/client/artifact-store.js';
import { WRITE_BATCH } from '../../src/client/partial-transfer.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'epara-ckpt-'));
  dirs.push(d);
  return d;
};
const bytes = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 29 + 3) & 0xff);
const offer = { deploymentId: 5, service: 's', version: '1', kind: 'blob' as const, size: bytes.length, sha256: createHash('sha256').update(bytes).digest() };
const partial = (dir: string, ext: string) => join(dir, 'artifacts', 'partial', `5.${ext}`);

async function send(store: ArtifactStore, from: number, to: number, chunk = 1000): Promise<number> {
  let next = from;
  while (next < to) next = await store.write(5, next, bytes.subarray(next, Math.min(to, next + chunk)));
  return next;
}

describe('device artifact store: checkpoints bound what a crash can lose', () => {
  it('checkpoints every syncEveryBytes: the recorded offset trails the received one by at most two intervals (one sync may be in flight)', async () => {
    const dir = tmp();
    const store = new ArtifactStore(dir, { syncEveryBytes: 64_000, syncEveryMs: 3_600_000 });
    await store.begin(offer);
    // Chunks arrive from the network: the event loop turns between them, and a checkpoint's
    // sync (in the thread pool) completes meanwhile.
    let next = 0;
    while (next < 200_500) {
      next = await store.write(5, next, bytes.subarray(next, Math.min(200_500, next + 1000)));
      await new Promise((r) => setTimeout(r, 0));
    }
    const ckpt = JSON.parse(readFileSync(partial(dir, 'ckpt'), 'utf8')) as { offset: number };
    expect(next).toBe(200_500);
    expect(ckpt.offset).toBeLessThanOrEqual(next);
    expect(next - ckpt.offset).toBeLessThan(2 * 64_000 + 1000);
    expect(ckpt.offset).toBeGreaterThan(0);
  });

  it('a crash of the device process (no close) loses at most the last write batch it acknowledged: the next run resumes from the file', async () => {
    const dir = tmp();
    const a = new ArtifactStore(dir, { syncEveryBytes: 1 << 30, syncEveryMs: 3_600_000 });
    await a.begin(offer);
    await send(a, 0, 123_000);
    // `a` is abandoned without close(), as a SIGKILL would: the page cache still has its writes.
    const b = new ArtifactStore(dir);
    const resumed = await b.begin(offer);
    expect(resumed).toBeLessThanOrEqual(123_000);
    expect(resumed).toBeGreaterThan(123_000 - WRITE_BATCH);
    expect(Buffer.compare(readFileSync(partial(dir, 'part')), Buffer.from(bytes.subarray(0, resumed)))).toBe(0);
    await send(b, resumed, bytes.length);
    const rec = await b.finish(5);
    expect(Buffer.compare(readFileSync(rec.path), Buffer.from(bytes))).toBe(0);
  });

  it('after a reboot (another boot id) only the checkpoint is trusted: the file is cut back to it, and the transfer still completes byte-exact', async () => {
    const dir = tmp();
    const a = new ArtifactStore(dir, { syncEveryBytes: 50_000, syncEveryMs: 3_600_000 });
    await a.begin(offer);
    await send(a, 0, 180_000);
    await a.close();
    // Stand in for a power cut: the checkpoint was recorded in an earlier boot at 100,000 bytes;
    // the 80,000 after it were never synced and may be garbage on disk.
    writeFileSync(partial(dir, 'ckpt'), JSON.stringify({ offset: 100_000, bootId: 'an-earlier-boot' }));
    const damaged = readFileSync(partial(dir, 'part'));
    damaged.fill(0, 150_000);
    writeFileSync(partial(dir, 'part'), damaged);
    const b = new ArtifactStore(dir);
    expect(await b.begin(offer)).toBe(100_000);
    expect(statSync(partial(dir, 'part')).size).toBe(100_000);
    await send(b, 100_000, bytes.length);
    const rec = await b.finish(5);
    expect(createHash('sha256').update(readFileSync(rec.path)).digest('hex')).toBe(offer.sha256.toString('hex'));
  });

  it('commits without reading the file back: the running hash still catches a mismatch', async () => {
    const dir = tmp();
    const store = new ArtifactStore(dir);
    await store.begin({ ...offer, sha256: createHash('sha256').update('something else').digest() });
    await send(store, 0, bytes.length);
    await expect(store.finish(5)).rejects.toMatchObject({ code: 'deploy.hash_mismatch' });
    // The partial is discarded: the next offer starts at 0.
    expect(await store.begin(offer)).toBe(0);
  });
});
