/**
 * Coalesces small writes into one transaction. A registration storm of 10k devices produces
 * 10k last-seen updates and 10k audit rows; committing each on its own would cost one WAL
 * append + commit per device. The batcher queues them and commits once per `intervalMs`, or as
 * soon as `maxBatch` writes are waiting.
 */
export class WriteBatcher {
  private queue: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly commit: (writes: Array<() => void>) => void,
    private readonly intervalMs: number,
    private readonly maxBatch: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  add(write: () => void): void {
    if (this.closed) return;
    this.queue.push(write);
    if (this.queue.length >= this.maxBatch) {
      this.flush();
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.intervalMs);
      // A pending batch must not keep a process alive that is otherwise done.
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.queue.length === 0) return;
    const writes = this.queue;
    this.queue = [];
    try {
      this.commit(writes);
    } catch (err) {
      this.onError(err);
    }
  }

  close(): void {
    this.flush();
    this.closed = true;
  }
}
