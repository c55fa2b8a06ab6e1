/**
 * A repeated COMMIT (activate) and an unload (setUnloaded) of the same service can arrive
 * together. Each is a read-modify-write of the service's active.json; unserialised, one rename
 * found the other's temporary file gone (the unload answered 900 `internal`, seen in the full
 * suite under load) or one change overwrote the other. They now run one at a time, in order.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArtifactStore, type ArtifactRecord } from '../../src/client/artifact-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function stored(store: ArtifactStore, id: number, seed: number): Promise<ArtifactRecord> {
  const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 13 + seed) & 0xff);
  const sha256 = createHash('sha256').update(bytes).digest();
  await store.begin({ deploymentId: id, service: 'cls', version: `v${seed}`, kind: 'onnx', size: bytes.length, sha256 });
  await store.write(id, 0, bytes);
  return store.finish(id);
}

describe('ArtifactStore active.json changes', () => {
  it('runs concurrent activate / setUnloaded one at a time, in the order they were asked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'epara-active-'));
    dirs.push(dir);
    const store = new ArtifactStore(dir);
    const one = await stored(store, 1, 1);
    const two = await stored(store, 2, 2);
    await store.activate(one);
    for (let round = 0; round < 20; round++) {
      // Fired together, as a COMMIT retransmitted under load meets an operator's unload.
      const results = await Promise.allSettled([store.activate(two), store.setUnloaded('cls', true), store.activate(two), store.setUnloaded('cls', true)]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
      // The last change asked for wins: unloaded, with two current.
      expect(await store.active('cls')).toMatchObject({ current: { sha256: two.sha256 }, unloaded: true });
      await Promise.all([store.setUnloaded('cls', false), store.activate(two), store.setUnloaded('cls', true), store.setUnloaded('cls', false)]);
      expect(await store.active('cls')).toMatchObject({ current: { sha256: two.sha256 }, previous: { sha256: one.sha256 } });
      expect((await store.active('cls')).unloaded).toBeUndefined();
    }
    // No temporary file is left behind.
    const serviceDirs = readdirSync(join(dir, 'artifacts')).filter((f) => f.startsWith('svc-'));
    expect(serviceDirs).toHaveLength(1);
    expect(readdirSync(join(dir, 'artifacts', serviceDirs[0]!)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
