import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { DeployError, EparaError } from '../../errors.js';
import { ArtifactReader, type ArtifactReaderOptions } from './artifact-reader.js';

/**
 * Content-addressed artifact files under `<dataDir>/artifacts/<sha256>.bin`. Written to a temp
 * file, fsynced and renamed before the deployment row that names them is committed, so a
 * restarted server always finds the bytes it needs to resume.
 */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** An artifact's SHA-256 as the store names it: 64 lowercase hex digits. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

export function emptyArtifactError(): DeployError {
  return new DeployError({ code: 'deploy.artifact_empty', reason: 'the artifact is empty', hint: 'deploy a non-empty file with `epara deploy <file>`', field: 'artifact' });
}

export class ArtifactStore {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'artifacts');
    mkdirSync(this.dir, { recursive: true });
    // Temp files of uploads cut short by a crash: never referenced by any record.
    for (const f of readdirSync(this.dir)) if (f.endsWith('.tmp')) unlinkSync(join(this.dir, f));
  }

  /** True when an artifact with this SHA-256 (64 lowercase hex digits) is stored. */
  has(sha: string): boolean {
    return SHA256_HEX.test(sha) && existsSync(this.pathOf(sha));
  }

  /** Size in bytes of a stored artifact, undefined when it is not stored. */
  sizeOf(sha: string): number | undefined {
    if (!SHA256_HEX.test(sha)) return undefined;
    try {
      return statSync(this.pathOf(sha)).size;
    } catch {
      return undefined;
    }
  }

  /**
   * Stores bytes that arrive as a stream (an HTTP upload, a local file) without holding them
   * whole: each chunk is hashed and appended to a temp file in the store's directory, which is
   * fsynced and renamed to `<sha256>.bin` (the directory fsynced too) once the stream ended. More
   * than `maxBytes` aborts with `http.too_large` and removes the temp file, as does a stream
   * error (a client that went away). Idempotent: the same bytes again leave the stored file.
   */
  async putStream(source: AsyncIterable<Uint8Array>, opts: { maxBytes: number }): Promise<{ sha256: string; size: number }> {
    const tmp = join(this.dir, `upload-${randomBytes(8).toString('hex')}.tmp`);
    const fh = await open(tmp, 'wx', 0o600);
    const hash = createHash('sha256');
    let size = 0;
    let renamed = false;
    try {
      for await (const chunk of source) {
        size += chunk.length;
        if (size > opts.maxBytes) {
          throw new EparaError({ code: 'http.too_large', reason: `the artifact exceeds ${opts.maxBytes} bytes`, hint: 'deploy a smaller artifact or raise http.maxArtifactBytes of `epara serve`', field: 'artifact', details: { maxBytes: opts.maxBytes } });
        }
        hash.update(chunk);
        let off = 0;
        while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
      }
      if (size === 0) throw emptyArtifactError();
      await fh.sync();
      await fh.close();
      const sha = hash.digest('hex');
      const path = this.pathOf(sha);
      if (existsSync(path)) unlinkSync(tmp);
      else {
        renameSync(tmp, path);
        // The rename must survive a crash before the deployment row that names it commits.
        const dfd = openSync(this.dir, 'r');
        try {
          fsyncSync(dfd);
        } finally {
          closeSync(dfd);
        }
      }
      renamed = true;
      return { sha256: sha, size };
    } finally {
      if (!renamed) {
        await fh.close().catch(() => undefined);
        try {
          unlinkSync(tmp);
        } catch {
          /* already gone */
        }
      }
    }
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
    return sha;
  }

  /**
   * Opens a stored artifact for reading by offset (the deploy sender streams from it; nothing
   * is kept in memory beyond the reader's small readahead). deploy.artifact_missing when the file
   * is gone or its size is not the recorded one; the content is checked by ArtifactReader.verify().
   */
  open(sha: string, size: number, o?: ArtifactReaderOptions): Promise<ArtifactReader> {
    return ArtifactReader.open(this.pathOf(sha), { size, sha256: sha, label: `${sha.slice(0, 12)}…` }, o);
  }
}
