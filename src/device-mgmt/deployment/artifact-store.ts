import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DeployError } from '../../errors.js';

/**
 * Content-addressed artifact files under `<dataDir>/artifacts/<sha256>.bin`. Written to a temp
 * file, fsynced and renamed before the deployment row that names them is committed, so a
 * restarted server always finds the bytes it needs to resume.
 */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class ArtifactStore {
  private readonly dir: string;
  private readonly cache = new Map<string, Uint8Array>();

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'artifacts');
    mkdirSync(this.dir, { recursive: true });
  }

  pathOf(sha: string): string {
    return join(this.dir, `${sha}.bin`);
  }

  /** Stores the bytes; returns their SHA-256 (hex). Idempotent. */
  put(bytes: Uint8Array): string {
    const sha = sha256Hex(bytes);
    const path = this.pathOf(sha);
    if (!existsSync(path)) {
      const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, bytes);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    }
    this.cache.set(sha, bytes);
    return sha;
  }

  get(sha: string): Uint8Array {
    const hit = this.cache.get(sha);
    if (hit) return hit;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(this.pathOf(sha)));
    } catch (err) {
      throw new DeployError({
        code: 'deploy.artifact_missing',
        reason: `artifact ${sha.slice(0, 12)}… is not in ${this.dir}`,
        hint: 'the data directory lost the artifact; deploy it again',
        cause: err,
      });
    }
    if (sha256Hex(bytes) !== sha) {
      throw new DeployError({
        code: 'deploy.hash_mismatch',
        reason: `artifact file ${sha.slice(0, 12)}… on disk does not match its hash`,
        hint: 'the data directory is corrupted; deploy the artifact again',
      });
    }
    this.cache.set(sha, bytes);
    return bytes;
  }

  /** Drops the in-memory copy (the file stays). */
  release(sha: string): void {
    this.cache.delete(sha);
  }
}
