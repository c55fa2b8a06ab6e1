/**
 * What the gateway measures per service: arrivals (the demand the planner uses when none was
 * declared, smoothed over the placement window) and finished requests (goodput, SLO attainment and
 * p99 latency over the last window, for `epara services`, GET /services and /metrics). Bounded:
 * at most SAMPLES_MAX results per service are kept, however fast requests come.
 */
export const STATS_WINDOW_MS = 60_000;
const SAMPLES_MAX = 8192;
/** Weight of the newest placement window in the smoothed demand (older windows decay by 1 − this). */
const DEMAND_ALPHA = 0.5;

interface Result {
  at: number;
  latencyMs: number;
  withinSlo: boolean;
}

interface PerService {
  arrivals: number;
  /** Smoothed arrivals per second over placement windows (undefined before the first window closed). */
  smoothedRps: number | undefined;
  results: Result[];
}

export interface ServiceWindow {
  /** Requests per second answered within their SLO over the window. */
  goodputRps: number;
  /** Answered within SLO / finished (ok or failed) over the window; null when none finished. */
  attainment: number | null;
  p99Ms: number | null;
  finished: number;
}

export class ServiceStats {
  private readonly by = new Map<string, PerService>();
  private windowStart: number;

  constructor(now = Date.now()) {
    this.windowStart = now;
  }

  private of(service: string): PerService {
    let s = this.by.get(service);
    if (!s) this.by.set(service, (s = { arrivals: 0, smoothedRps: undefined, results: [] }));
    return s;
  }

  arrived(service: string): void {
    this.of(service).arrivals++;
  }

  finished(service: string, latencyMs: number, withinSlo: boolean, now = Date.now()): void {
    const r = this.of(service).results;
    r.push({ at: now, latencyMs, withinSlo });
    if (r.length > SAMPLES_MAX) r.splice(0, r.length - SAMPLES_MAX);
  }

  /** Closes a placement window: the arrival rate over it joins the smoothed demand. */
  closeWindow(now = Date.now()): void {
    const secs = Math.max(0.001, (now - this.windowStart) / 1000);
    for (const s of this.by.values()) {
      const rate = s.arrivals / secs;
      s.smoothedRps = s.smoothedRps === undefined ? rate : s.smoothedRps + DEMAND_ALPHA * (rate - s.smoothedRps);
      s.arrivals = 0;
    }
    this.windowStart = now;
  }

  /** Measured demand, requests per second (undefined before any window closed with the service seen). */
  measuredRps(service: string): number | undefined {
    return this.by.get(service)?.smoothedRps;
  }

  window(service: string, now = Date.now()): ServiceWindow {
    const since = now - STATS_WINDOW_MS;
    const r = (this.by.get(service)?.results ?? []).filter((x) => x.at >= since);
    const good = r.filter((x) => x.withinSlo).length;
    const lat = r.map((x) => x.latencyMs).sort((a, b) => a - b);
    // Over the part of the window that has passed since the first result in it (a new service is not diluted by 60 s).
    const spanS = r.length ? Math.max(1, (now - Math.max(since, r[0]!.at)) / 1000) : STATS_WINDOW_MS / 1000;
    return {
      goodputRps: good / spanS,
      attainment: r.length ? good / r.length : null,
      p99Ms: lat.length ? lat[Math.min(lat.length - 1, Math.ceil(0.99 * lat.length) - 1)]! : null,
      finished: r.length,
    };
  }
}
