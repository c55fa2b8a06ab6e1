/**
 * One artifact being received on the device: the append-only `.part` file, the SHA-256 of the
 * bytes so far (hashed as they arrive, so the commit does not read the file back), and the
 * checkpoints that make the resume offset durable.
 *
 * What a crash can lose:
 *  - chunks are gathered into writes of up to WRITE_BATCH bytes (64 KiB: a write per 4 KiB chunk
 *    would cost more than the disk), so a crash of the device process (SIGKILL, OOM, a panic)
 *    loses at most the last 64 KiB it acknowledged: what was written survives in the page cache,
 *    the resume offset is the file's length, and the server follows the device's offset back;
 *  - the file is synced (fdatasync) at checkpoints, every `syncEveryBytes` received or
 *    `syncEveryMs` after the first unsynced byte, whichever comes first, and the synced offset is
 *    recorded beside it (`<id>.ckpt`, with the kernel's boot id). After a power cut or an OS crash
 *    (another boot id) only the checkpoint is trusted: the file is cut back to it, so at most one
 *    checkpoint interval of received bytes (default 4 MiB or 1 s) is lost and sent again. The
 *    final SHA-256 check stays the backstop either way. A checkpoint's sync runs in the thread
 *    pool while chunks keep arriving; its offset is recorded once the sync is done.
 *
 * Writes are synchronous: a page-cache write of 64 KiB takes microseconds, less than a round
 * trip through the thread pool, and that is what lets a device take chunks at disk speed.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fdatasync, fdatasyncSync, ftruncateSync, fstatSync, openSync, readFileSync, readSync, renameSync, writeFileSync, writeSync } from 'node:fs';

export interface CheckpointPolicy {
  syncEveryBytes: number;
  syncEveryMs: number;
}

interface Checkpoint {
  offset: number;
  bootId: string;
}

/** The kernel's boot id: the same value means the page cache of the last run is still there. */
function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // No boot id (not Linux): never trust more than the checkpoint.
    return `unknown-${process.pid}-${Date.now()}`;
  }
}

const BOOT_ID = bootId();
/** Bytes gathered before one write to the file. */
export const WRITE_BATCH = 64 * 1024;

export class PartialTransfer {
  private readonly hash: Hash = createHash('sha256');
  private syncedAt = 0;
  private unsynced = 0;
  private firstUnsyncedAt = 0;
  private closed = false;
  private readonly batch = Buffer.allocUnsafe(WRITE_BATCH);
  private batched = 0;
  /** The checkpoint sync in flight, if any. */
  private syncing: Promise<void> | undefined;

  private constructor(
    private readonly fd: number,
    private readonly ckptPath: string,
    readonly size: number,
    /** Bytes received in order (the file's length). */
    public next: number,
    private readonly policy: CheckpointPolicy,
  ) {
    this.syncedAt = next;
  }

  /**
   * Opens (or reopens after a restart) the partial file for `size` bytes: its length, cut back to
   * the last checkpoint when the machine rebooted since, is where the transfer resumes. The bytes
   * already there are hashed once.
   */
  static open(path: string, ckptPath: string, size: number, policy: CheckpointPolicy): PartialTransfer {
    const fd = openSync(path, 'a+');
    try {
      let have = Math.min(fstatSync(fd).size, size);
      // No readable checkpoint (a partial from before checkpoints existed): its length is what
      // we have, as it always was; the final hash checks it.
      const ckpt = readCheckpoint(ckptPath);
      if (ckpt && ckpt.bootId !== BOOT_ID) have = Math.min(have, ckpt.offset);
      if (fstatSync(fd).size !== have) ftruncateSync(fd, have);
      const t = new PartialTransfer(fd, ckptPath, size, have, policy);
      t.hashPrefix(have);
      // Every partial has a checkpoint from its first open on, so a reboot before the first
      // interval is over resumes from what was synced, not from the file's unsynced length.
      if (!ckpt) t.checkpointNow();
      return t;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  private hashPrefix(n: number): void {
    const buf = Buffer.allocUnsafe(Math.min(n, 1 << 20));
    for (let at = 0; at < n; ) {
      const got = readSync(this.fd, buf, 0, Math.min(buf.length, n - at), at);
      if (got <= 0) break;
      this.hash.update(buf.subarray(0, got));
      at += got;
    }
  }

  /** Appends bytes at `next` (the caller checked the offset); checkpoints when due. */
  append(data: Uint8Array, now: number): number {
    if (this.batched + data.length > WRITE_BATCH) this.flush();
    if (data.length >= WRITE_BATCH) this.writeAll(data);
    else {
      this.batch.set(data, this.batched);
      this.batched += data.length;
    }
    this.hash.update(data);
    this.next += data.length;
    if (this.unsynced === 0) this.firstUnsyncedAt = now;
    this.unsynced += data.length;
    if (this.unsynced >= this.policy.syncEveryBytes || now - this.firstUnsyncedAt >= this.policy.syncEveryMs || this.next === this.size) this.checkpoint();
    return this.next;
  }

  private writeAll(data: Uint8Array): void {
    let written = 0;
    while (written < data.length) written += writeSync(this.fd, data, written, data.length - written);
  }

  /** Hands the gathered bytes to the kernel. */
  private flush(): void {
    if (this.batched === 0) return;
    this.writeAll(this.batch.subarray(0, this.batched));
    this.batched = 0;
  }

  /**
   * Starts a checkpoint: writes what is gathered and syncs the file in the thread pool, then
   * records the offset that sync covered. One at a time; a checkpoint due meanwhile waits for the
   * next chunk after it.
   */
  checkpoint(): void {
    if (this.closed || this.syncing || (this.unsynced === 0 && this.syncedAt === this.next)) return;
    this.flush();
    const at = this.next;
    this.unsynced = 0;
    this.syncing = new Promise<void>((resolve) => {
      fdatasync(this.fd, (err) => {
        this.syncing = undefined;
        if (!err) this.record(at);
        resolve();
      });
    });
  }

  /** The same, done before returning (open, close). */
  private checkpointNow(): void {
    this.flush();
    fdatasyncSync(this.fd);
    this.unsynced = 0;
    this.record(this.next);
  }

  private record(at: number): void {
    this.syncedAt = at;
    // No sync of the record itself: if a power cut loses it, the older one (a smaller offset,
    // safe) or none (then the file's length, checked by the final hash) is found.
    const tmp = `${this.ckptPath}.tmp`;
    writeFileSync(tmp, JSON.stringify({ offset: at, bootId: BOOT_ID } satisfies Checkpoint));
    renameSync(tmp, this.ckptPath);
  }

  /** SHA-256 (hex) of the bytes received; only meaningful once next === size. */
  digest(): string {
    return this.hash.copy().digest('hex');
  }

  /** Waits for a checkpoint in flight, makes everything durable, and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.syncing;
    try {
      if (this.unsynced > 0 || this.batched > 0 || this.syncedAt !== this.next) this.checkpointNow();
    } finally {
      this.closed = true;
      closeSync(this.fd);
    }
  }
}

function readCheckpoint(path: string): Checkpoint | undefined {
  try {
    const c = JSON.parse(readFileSync(path, 'utf8')) as Partial<Checkpoint>;
    if (typeof c.offset === 'number' && Number.isSafeInteger(c.offset) && c.offset >= 0 && typeof c.bootId === 'string') return { offset: c.offset, bootId: c.bootId };
  } catch {
    // Missing or torn.
  }
  return undefined;
}
