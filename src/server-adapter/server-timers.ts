/**
 * The gateway's periodic jobs: the liveness sweep and, when something plans, the placement
 * round. Unref'd, so an idle server does not keep a process alive that its owner let go.
 */
export class ServerTimers {
  private readonly timers: NodeJS.Timeout[] = [];

  start(periods: { heartbeatMs: number; placementMs: number }, sweep: () => void, placement: (() => void) | undefined): void {
    // A quarter of the heartbeat, kept within 20 ms..1 s.
    this.every(Math.max(20, Math.min(1000, Math.floor(periods.heartbeatMs / 4))), sweep);
    if (placement) this.every(periods.placementMs, placement);
  }

  stop(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  private every(ms: number, job: () => void): void {
    const t = setInterval(job, ms);
    t.unref();
    this.timers.push(t);
  }
}
