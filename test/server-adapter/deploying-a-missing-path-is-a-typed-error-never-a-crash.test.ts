/**
 * A deploy of a path that does not exist is deploy.artifact_missing, every time: the read stream's
 * open error used to fire while the store was still opening its temp file, with no listener yet,
 * so about one deploy in four threw an uncaught exception instead (a crash of the server process).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../src/device-mgmt/deployment/artifact-store.js';
import { storeArtifact } from '../../src/server-adapter/deploy-artifact.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('deploying a missing path', () => {
  it('is deploy.artifact_missing each of 200 times, and nothing escapes as an uncaught exception', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'epara-missing-'));
    dirs.push(dir);
    const store = new ArtifactStore(join(dir, 'store'));
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown): void => void uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const codes: string[] = [];
      for (let i = 0; i < 200; i++) {
        await Promise.resolve(storeArtifact(store, join(dir, `missing-${i}.onnx`))).then(
          () => codes.push('stored'),
          (e: { code?: string }) => codes.push(e.code ?? 'untyped'),
        );
      }
      await new Promise((r) => setTimeout(r, 100));
      expect(new Set(codes)).toEqual(new Set(['deploy.artifact_missing']));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
