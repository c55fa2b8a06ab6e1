import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../src/client/artifact-store.js';

/**
 * Go-back-N receive as a property: whatever the network does to the chunk stream (reorder,
 * duplicate, drop, restart the device in between), the bytes kept are always a prefix of the
 * artifact, nextOffset never moves backwards within a run, and once every chunk has arrived in
 * order the artifact verifies.
 */
describe('ArtifactStore receive (property)', () => {
  it('keeps only a correct prefix under reordering, duplicates, drops and restarts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 1, max: 700 }),
        fc.array(fc.record({ chunk: fc.nat(), restart: fc.boolean() }), { minLength: 0, maxLength: 40 }),
        fc.integer({ min: 0, max: 2000 }),
        async (size, chunkSize, noise, syncEvery) => {
          const dir = mkdtempSync(join(tmpdir(), 'epara-prop-'));
          try {
            const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 131 + 7) & 0xff);
            const offer = { deploymentId: 3, service: 's', version: '1', kind: 'blob' as const, size, sha256: createHash('sha256').update(bytes).digest() };
            const chunks = Math.ceil(size / chunkSize);
            let store = new ArtifactStore(dir, { syncEveryBytes: syncEvery });
            let next = await store.begin(offer);
            for (const n of noise) {
              if (n.restart) {
                await store.close();
                store = new ArtifactStore(dir, { syncEveryBytes: syncEvery });
                next = await store.begin(offer);
              }
              const off = (n.chunk % chunks) * chunkSize;
              const got = await store.write(3, off, bytes.subarray(off, off + chunkSize));
              expect(got).toBeGreaterThanOrEqual(next);
              next = got;
              const part = readFileSync(join(dir, 'artifacts', 'partial', '3.part'));
              expect(Buffer.compare(part, Buffer.from(bytes.subarray(0, part.length)))).toBe(0);
            }
            while (next < size) next = await store.write(3, next, bytes.subarray(next, next + chunkSize));
            const rec = await store.finish(3);
            expect(Buffer.compare(readFileSync(rec.path), Buffer.from(bytes))).toBe(0);
            await store.close();
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 60, seed: 20261123 },
    );
  });
});
