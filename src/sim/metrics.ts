/**
 * Run metrics. Definitions (used by every table, CSV and plot):
 *  - goodput: requests that completed within their SLO, per second of run time;
 *  - SLO attainment: completed within SLO ÷ all requests of the category (drops and rejects count as misses);
 *    for frequency flows the SLO is per frame (frame done within its budget), so a flow's achieved
 *    rate is attainment × its target fps;
 *  - p50 / p99 latency: over completed requests (arrival at the ingress to the response back there);
 *  - drop rate: rejected (admission, credits, queue full, no device) or discarded late ÷ all;
 *  - utilisation: busy time (batches and model loads) ÷ (devices × run time);
 *  - churn: model loads + unloads after the initial placement;
 *  - balanced attainment: the mean of the per-category SLO attainments (categories with requests),
 *    and balanced goodput = offered rate × balanced attainment — goodput with every category
 *    weighted equally, so a cheap, numerous class (camera frames) cannot hide the others.
 */
import { CATEGORIES } from '../scheduler/categories.js';
import type { Category } from '../scheduler/types.js';

export interface CategoryStats {
  total: number;
  met: number;
  dropped: number;
}

export interface RunMetrics {
  policy: string;
  load: number;
  durationSec: number;
  requests: number;
  offeredRps: number;
  goodputRps: number;
  attainment: number;
  balancedAttainment: number;
  balancedGoodputRps: number;
  byCategory: Record<Category, CategoryStats & { attainment: number }>;
  /**
   * The same per service (the SLO capacity, capacity.ts, needs every service to hold its target:
   * a category's average can hide one starved service). Keyed by service name.
   */
  byService: Record<string, CategoryStats & { category: Category; attainment: number }>;
  p50Ms: number;
  p99Ms: number;
  dropRate: number;
  dropsByCode: Record<string, number>;
  utilisation: number;
  loads: number;
  unloads: number;
  placements: number;
}

export class MetricsCollector {
  private readonly cats = new Map<Category, CategoryStats>(CATEGORIES.map((c) => [c, { total: 0, met: 0, dropped: 0 }]));
  private readonly svcs: (CategoryStats & { name: string; category: Category })[];

  /** `services`: name and category of each service, in the index order `complete` / `drop` are given (`si`). */
  constructor(services: readonly { name: string; category: Category }[] = []) {
    this.svcs = services.map((s) => ({ name: s.name, category: s.category, total: 0, met: 0, dropped: 0 }));
  }
  private lat = new Float64Array(1024);
  private nLat = 0;
  readonly dropsByCode: Record<string, number> = {};
  loads = 0;
  unloads = 0;
  placements = 0;

  complete(category: Category, latencyMs: number, met: boolean, si = -1): void {
    const c = this.cats.get(category)!;
    c.total++;
    if (met) c.met++;
    const v = this.svcs[si];
    if (v) {
      v.total++;
      if (met) v.met++;
    }
    if (this.nLat === this.lat.length) {
      const n = new Float64Array(this.lat.length * 2);
      n.set(this.lat);
      this.lat = n;
    }
    this.lat[this.nLat++] = latencyMs;
  }

  drop(category: Category, code: string, si = -1): void {
    const c = this.cats.get(category)!;
    c.total++;
    c.dropped++;
    const v = this.svcs[si];
    if (v) {
      v.total++;
      v.dropped++;
    }
    this.dropsByCode[code] = (this.dropsByCode[code] ?? 0) + 1;
  }

  finish(policy: string, load: number, durationMs: number, busyMs: number, devices: number): RunMetrics {
    const lat = this.lat.subarray(0, this.nLat).slice().sort();
    const pct = (p: number): number => (lat.length === 0 ? NaN : lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!);
    let total = 0;
    let met = 0;
    let dropped = 0;
    const byCategory = {} as RunMetrics['byCategory'];
    for (const [k, c] of this.cats) {
      total += c.total;
      met += c.met;
      dropped += c.dropped;
      byCategory[k] = { ...c, attainment: c.total > 0 ? c.met / c.total : NaN };
    }
    const byService: RunMetrics['byService'] = {};
    for (const v of this.svcs) if (v.total > 0) byService[v.name] = { category: v.category, total: v.total, met: v.met, dropped: v.dropped, attainment: v.met / v.total };
    const sec = durationMs / 1000;
    const atts = Object.values(byCategory).filter((c) => c.total > 0).map((c) => c.attainment);
    const balanced = atts.length > 0 ? atts.reduce((a, b) => a + b, 0) / atts.length : NaN;
    return {
      policy,
      load,
      durationSec: sec,
      requests: total,
      offeredRps: total / sec,
      goodputRps: met / sec,
      attainment: total > 0 ? met / total : NaN,
      balancedAttainment: balanced,
      balancedGoodputRps: Number.isFinite(balanced) ? (total / sec) * balanced : 0,
      byCategory,
      byService,
      p50Ms: pct(0.5),
      p99Ms: pct(0.99),
      dropRate: total > 0 ? dropped / total : 0,
      dropsByCode: { ...this.dropsByCode },
      utilisation: devices > 0 ? busyMs / (devices * durationMs) : 0,
      loads: this.loads,
      unloads: this.unloads,
      placements: this.placements,
    };
  }
}
