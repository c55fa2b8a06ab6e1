import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { DeployError } from '../../errors.js';
import { resolveNumber } from '../../options.js';

/**
 * Reads a stored artifact by offset for the deploy sender, so the server never holds an artifact
 * whole (issue 15, defect 5: it used to keep every artifact it had sent in memory for good).
 * Reads go through a readahead of `blockBytes` and keep the last `blocks` blocks, enough for the
 * sender's go-backs, which only ever reach back one window. Memory is bounded by
 * blocks × blockBytes plus the chunks still in flight (they are views of the blocks they came
 * from, and a block is never written again once read: evicting it only drops the reference).
 *
 * The bytes are hashed as the transfer first reads them in order; `verify()` hashes what the
 * transfer did not read (the part a resumed transfer skipped) and checks the digest, so a file
 * damaged on the server's disk fails as deploy.hash_mismatch before the device is asked to commit.
 */
export interface ArtifactReaderOptions {
  blockBytes?: number;
  blocks?: number;
}

interface Block {
  start: number;
  bytes: Uint8Array;
}

export class ArtifactReader {
  private readonly blockBytes: number;
  private readonly maxBlocks: number;
  private blocks: Block[] = [];
  private readonly hash: Hash = createHash('sha256');
  private hashedTo = 0;

  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    private readonly sha256: string,
    private readonly label: string,
    o: ArtifactReaderOptions,
  ) {
    this.blockBytes = resolveNumber('blockBytes', o.blockBytes, { default: 256 * 1024, min: 4096, max: 64 << 20, integer: true, unit: 'bytes' });
    this.maxBlocks = resolveNumber('blocks', o.blocks, { default: 2, min: 1, max: 64, integer: true });
  }

  /** Opens the file; deploy.artifact_missing when it is gone or has another size than recorded. */
  static async open(path: string, expect: { size: number; sha256: string; label: string }, o: ArtifactReaderOptions = {}): Promise<ArtifactReader> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      throw missing(expect.label, `is not in the data directory (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, err);
    }
    const size = (await fh.stat()).size;
    if (size !== expect.size) {
      await fh.close().catch(() => undefined);
      throw missing(expect.label, `has ${size} bytes on disk, the deployment records ${expect.size}`);
    }
    return new ArtifactReader(fh, size, expect.sha256, expect.label, o);
  }

  /** Bytes [offset, offset+length): a view valid for as long as the caller keeps it. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(this.size, offset + length);
    const first = await this.block(offset);
    if (end <= first.start + first.bytes.length) return first.bytes.subarray(offset - first.start, end - first.start);
    // Straddles two blocks: one copy of at most one chunk.
    const out = new Uint8Array(end - offset);
    let at = offset;
    while (at < end) {
      const b = await this.block(at);
      const n = Math.min(end, b.start + b.bytes.length) - at;
      out.set(b.bytes.subarray(at - b.start, at - b.start + n), at - offset);
      at += n;
    }
    return out;
  }

  private async block(offset: number): Promise<Block> {
    const start = offset - (offset % this.blockBytes);
    const hit = this.blocks.find((b) => b.start === start);
    if (hit) return hit;
    const want = Math.min(this.blockBytes, this.size - start);
    const bytes = new Uint8Array(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.fh.read(bytes, got, want - got, start + got);
      if (bytesRead === 0) throw missing(this.label, `ended at ${start + got} bytes while being read`);
      got += bytesRead;
    }
    const b = { start, bytes };
    if (start === this.hashedTo) {
      this.hash.update(bytes);
      this.hashedTo += bytes.length;
    }
    this.blocks.push(b);
    if (this.blocks.length > this.maxBlocks) this.blocks.shift();
    return b;
  }

  /**
   * Hashes whatever the reads did not cover in order and compares with the recorded SHA-256.
   * Reads the skipped part through the same bounded buffer.
   */
  async verify(): Promise<void> {
    while (this.hashedTo < this.size) await this.block(this.hashedTo);
    const digest = this.hash.digest('hex');
    if (digest !== this.sha256) {
      throw new DeployError({
        code: 'deploy.hash_mismatch',
        reason: `artifact file ${this.label} on the server's disk hashes to ${digest.slice(0, 12)}…, not its recorded SHA-256`,
        hint: 'the data directory is damaged: deploy the artifact again (`epara deploy <file>`), which stores a fresh copy',
        details: { sha256: this.sha256, digest },
      });
    }
  }

  async close(): Promise<void> {
    this.blocks = [];
    await this.fh.close().catch(() => undefined);
  }
}

function missing(label: string, what: string, cause?: unknown): DeployError {
  return new DeployError({
    code: 'deploy.artifact_missing',
    reason: `artifact ${label} ${what}`,
    hint: 'the data directory lost the artifact: deploy it again (`epara deploy <file>`)',
    ...(cause === undefined ? {} : { cause }),
  });
}
