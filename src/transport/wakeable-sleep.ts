/**
 * Sleeps `ms` (real time), or until the wake function handed to `onWake` is called, whichever is
 * first: a backoff or a wait for an answer that a close or an arriving message must cut short.
 */
export function wakeableSleep(ms: number, onWake: (wake: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    onWake(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
