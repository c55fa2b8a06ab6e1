/**
 * The time source of the reliability layer. Production uses the real clock; link emulators and
 * benches may inject a virtual clock (firmware-sims/links/virtual-clock.ts) so that a 9600-baud
 * transfer of a megabyte is measured in seconds of CPU rather than minutes of waiting.
 */
export interface TimerHandle {
  /** Opaque. */
  readonly id: unknown;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    return { id: setTimeout(fn, ms) };
  },
  clearTimeout(handle) {
    if (handle) clearTimeout(handle.id as NodeJS.Timeout);
  },
};
