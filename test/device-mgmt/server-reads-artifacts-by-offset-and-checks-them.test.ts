import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../src/device-mgmt/deployment/artifact-store.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('server artifact reader (the deploy sender streams from the stored file)', () => {
  const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 13 + 5) & 0xff);
  const sha = createHash('sha256').update(bytes).digest('hex');

  it('reads any range, across readahead blocks and back after a go-back, and verifies the hash', async () => {
    dir = mkdtempSync(join(tmpdir(), 'epara-reader-'));
    const store = new ArtifactStore(dir);
    expect(store.put(bytes)).toBe(sha);
    const r = await store.open(sha, bytes.length, { blockBytes: 4096, blocks: 2 });
    const ranges: Array<[number, number]> = [[0, 1000], [1000, 5000], [4000, 300], [90_000, 20_000], [8000, 100], [0, 100_000]];
    for (const [o, l] of ranges) expect(Buffer.from(await r.read(o, l)).equals(Buffer.from(bytes.subarray(o, o + l)))).toBe(true);
    await r.verify();
    await r.close();
  });

  it('a resumed transfer (first read past 0) still verifies the whole file', async () => {
    dir = mkdtempSync(join(tmpdir(), 'epara-reader-'));
    const store = new ArtifactStore(dir);
    store.put(bytes);
    const r = await store.open(sha, bytes.length, { blockBytes: 4096 });
    await r.read(60_000, 4000);
    await r.verify();
    await r.close();
  });

  it('a file damaged on disk fails verify() with deploy.hash_mismatch; a missing or resized one fails open() with deploy.artifact_missing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'epara-reader-'));
    const store = new ArtifactStore(dir);
    store.put(bytes);
    const damaged = Uint8Array.from(bytes);
    damaged[77_777] ^= 0x40;
    writeFileSync(store.pathOf(sha), damaged);
    const r = await store.open(sha, bytes.length, { blockBytes: 4096 });
    for (let o = 0; o < bytes.length; o += 1000) await r.read(o, 1000);
    await expect(r.verify()).rejects.toMatchObject({ code: 'deploy.hash_mismatch' });
    await r.close();
    writeFileSync(store.pathOf(sha), bytes.subarray(0, 10));
    await expect(store.open(sha, bytes.length)).rejects.toMatchObject({ code: 'deploy.artifact_missing' });
    await expect(store.open('0'.repeat(64), 5)).rejects.toMatchObject({ code: 'deploy.artifact_missing' });
  });
});
