/**
 * The sliding window of a FrameLink: at most `size` requests outstanding, later ones wait in
 * order for a slot, and a bounded number may wait (more is link.backpressure, not memory).
 */
import type { EparaError } from '../errors.js';
import { linkError } from './link-errors.js';

export class RequestWindow {
  inFlight = 0;
  private readonly waiters: Array<{ go: () => void; fail: (e: EparaError) => void }> = [];

  constructor(
    private window: number,
    private readonly maxQueued: number,
    private readonly description: () => string,
  ) {}

  get size(): number {
    return this.window;
  }

  acquire(): Promise<void> {
    if (this.inFlight < this.window && this.waiters.length === 0) {
      this.inFlight++;
      return Promise.resolve();
    }
    if (this.waiters.length >= this.maxQueued) {
      return Promise.reject(
        linkError('link.backpressure', `${this.waiters.length} requests already wait for a window slot on ${this.description()}`, 'the link is slower than the offered load: await responses before sending more, or lower the request rate', {
          details: { queued: this.waiters.length, window: this.window, maxQueuedRequests: this.maxQueued },
        }),
      );
    }
    return new Promise((go, fail) => this.waiters.push({ go, fail }));
  }

  release(): void {
    this.inFlight--;
    this.pump();
  }

  /** The handshake agreed on another window: waiters move up at once if it grew. */
  resize(window: number): void {
    this.window = window;
    this.pump();
  }

  /** The link ended: every waiter fails with `err`. */
  failAll(err: EparaError): void {
    for (const w of this.waiters.splice(0)) w.fail(err);
  }

  private pump(): void {
    while (this.inFlight < this.window && this.waiters.length > 0) {
      this.inFlight++;
      this.waiters.shift()!.go();
    }
  }
}
