import type { Clock, TimerHandle } from '../../src/transport/clock.js';

interface Timer {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A discrete-event clock for link emulators and benches. Time only moves when `run` pops the
 * next timer, and it pops one only after the event loop went idle (a setImmediate turn, which
 * drains every promise continuation), so code under test sees exactly the ordering it would
 * see in real time — just without waiting. Everything on it must be in-process (emulated links,
 * FrameLink with `clock`); a real socket would not follow virtual time.
 *
 * With `waitForIo`, time also stands still while a file-system request of this thread is in
 * flight (a device writing a chunk, hashing an artifact, the server reading one): the disk is
 * then infinitely fast next to the emulated line, as it is next to a real 115200-baud UART, and
 * a real EparaServer and EparaDevice can run end to end on it. Their own real-time timers
 * (heartbeats, sweeps) keep running; when only those are left, `run` waits for them in real time
 * (up to `idleRealMs`) instead of calling it a deadlock.
 */
export interface VirtualClockOptions {
  waitForIo?: boolean;
  /** With waitForIo: real time to wait with no virtual timer left before calling it a deadlock. */
  idleRealMs?: number;
}

/**
 * libuv file-system requests in flight on this thread, as process.getActiveResourcesInfo names
 * them: FSReqCallback / FSReqPromise, and CloseReq (a FileHandle being closed).
 */
function fsPending(): boolean {
  for (const r of process.getActiveResourcesInfo()) if (r.startsWith('FSReq') || r === 'CloseReq') return true;
  return false;
}

export class VirtualClock implements Clock {
  private readonly waitForIo: boolean;
  private readonly idleRealMs: number;

  constructor(o: VirtualClockOptions = {}) {
    this.waitForIo = o.waitForIo === true;
    this.idleRealMs = o.idleRealMs ?? 30_000;
  }

  private t = 0;
  private seq = 0;
  private heap: Timer[] = [];

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.t + Math.max(0, ms), order: this.seq++, fn, cancelled: false };
    this.push(timer);
    return { id: timer };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) (handle.id as Timer).cancelled = true;
  }

  get pending(): number {
    return this.heap.filter((x) => !x.cancelled).length;
  }

  /**
   * Runs timers until `until` settles (or, without it, until no timer is left). Rejects if
   * virtual time passes `limitMs`, which turns a protocol deadlock into a failure, not a hang.
   */
  async run<T>(until?: Promise<T>, limitMs = 3_600_000): Promise<T | undefined> {
    let settled = false;
    let value: T | undefined;
    let error: unknown;
    let failed = false;
    until?.then(
      (v) => {
        settled = true;
        value = v;
      },
      (e) => {
        settled = true;
        failed = true;
        error = e;
      },
    );
    for (;;) {
      await new Promise<void>((r) => setImmediate(r));
      if (this.waitForIo) {
        // A few turns first (a chunk write takes microseconds), then 1 ms steps for a long one.
        for (let spins = 0; fsPending(); spins++) await new Promise<void>((r) => (spins < 50 ? setImmediate(r) : setTimeout(r, 1)));
      }
      if (settled) break;
      const next = this.pop();
      if (!next) {
        if (!until) break;
        if (this.waitForIo) {
          const since = performance.now();
          while (!settled && this.heap.length === 0 && performance.now() - since < this.idleRealMs) await new Promise<void>((r) => setTimeout(r, 1));
          if (settled || this.heap.length > 0) continue;
        }
        // Nothing scheduled but the promise is still pending: give real I/O one more turn.
        await new Promise<void>((r) => setTimeout(r, 1));
        if (settled) break;
        if (this.heap.length === 0) throw new Error('VirtualClock: deadlock — awaited promise pending and no timers left');
        continue;
      }
      if (next.at > limitMs) throw new Error(`VirtualClock: passed ${limitMs} ms of virtual time`);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    if (failed) throw error;
    return value;
  }

  private pop(): Timer | undefined {
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      const last = this.heap.pop()!;
      if (this.heap.length > 0) {
        this.heap[0] = last;
        this.down(0);
      }
      if (!top.cancelled) return top;
    }
    return undefined;
  }

  private less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }

  private push(x: Timer): void {
    const h = this.heap;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
