/**
 * A workload: request arrivals in virtual time, stored column-wise (an hour of camera frames is a
 * few million rows). Built from the Azure trace (azure-trace.ts), synthetic camera flows
 * (camera-flows.ts) or a user file in the format below (`epara sim --trace FILE`).
 *
 * Workload file format, version 1 (CSV, UTF-8, one request per line, `#` lines are comments):
 *
 *     # epara-workload v1
 *     #service {"name":"ocr","category":"latency-single","memoryMiB":300,"kind":"vision","workMs":8,"deadlineMs":200,"demandRps":5}
 *     time_ms,service,size,deadline_ms,flow,ingress
 *     0,chat-7b,1.2,9000,,3
 *     66.7,seg-cam,1,150,4,
 *
 * - time_ms: arrival, ms from the start of the run (≥ 0; rows need not be sorted).
 * - service: a service of the scenario, or one declared by a `#service <ServiceSpec JSON>` line.
 * - size: the request's work relative to the service mean (> 0; empty = 1).
 * - deadline_ms: the request's budget from arrival (> 0; empty = the service's deadlineMs).
 * - flow: integer id of a frequency flow (empty for latency requests).
 * - ingress: index of the device the request lands on, taken modulo the fleet size (empty = spread by row).
 * The header row is optional. Bad rows raise ConfigError `sim.workload` naming the line.
 */
import { ConfigError } from '../errors.js';
import { validateService } from '../scheduler/categories.js';
import type { ServiceSpec } from '../scheduler/types.js';

export interface Workload {
  /** Service names; rows refer to them by index. */
  services: string[];
  count: number;
  timeMs: Float64Array;
  service: Uint16Array;
  size: Float32Array;
  /** Relative budget, ms. */
  deadlineMs: Float32Array;
  /** -1 when the row is not part of a flow. */
  flow: Int32Array;
  /** -1 when unspecified. */
  ingress: Int32Array;
  /** Length of the run, ms (arrivals lie in [0, durationMs)). */
  durationMs: number;
  /** Services declared inside the workload file. */
  declared: ServiceSpec[];
  /** Human-readable provenance (trace, scaling) for reports. */
  notes: string[];
}

export interface Row {
  timeMs: number;
  service: string;
  size: number;
  deadlineMs: number;
  flow: number;
  ingress: number;
}

/**
 * Collects rows column-wise (an hour of frames on thousands of devices is over ten million rows;
 * one object per row ran the heap out) and sorts them by time once, in build(). Rows usually come
 * as a few already-sorted runs (the trace, then camera flow after camera flow), so build() merges
 * the natural runs — stable: equal times keep insertion order, so a seed always yields the same run.
 */
export class WorkloadBuilder {
  readonly declared: ServiceSpec[] = [];
  readonly notes: string[] = [];
  private n = 0;
  private timeMs = new Float64Array(1024);
  private service = new Uint16Array(1024);
  private size = new Float32Array(1024);
  private deadlineMs = new Float32Array(1024);
  private flow = new Int32Array(1024);
  private ingress = new Int32Array(1024);
  private readonly names: string[] = [];
  private readonly nameIdx = new Map<string, number>();

  get count(): number {
    return this.n;
  }

  add(r: Row): void {
    let k = this.nameIdx.get(r.service);
    if (k === undefined) {
      k = this.names.length;
      if (k > 0xffff) throw new ConfigError({ code: 'sim.workload', reason: `more than ${0xffff + 1} services in one workload`, hint: 'merge services or split the workload', field: 'service' });
      this.names.push(r.service);
      this.nameIdx.set(r.service, k);
    }
    if (this.n === this.timeMs.length) this.grow();
    const i = this.n++;
    this.timeMs[i] = r.timeMs;
    this.service[i] = k;
    this.size[i] = r.size;
    this.deadlineMs[i] = r.deadlineMs;
    this.flow[i] = r.flow;
    this.ingress[i] = r.ingress;
  }

  addAll(w: Workload): void {
    for (let i = 0; i < w.count; i++) {
      this.add({ timeMs: w.timeMs[i]!, service: w.services[w.service[i]!]!, size: w.size[i]!, deadlineMs: w.deadlineMs[i]!, flow: w.flow[i]!, ingress: w.ingress[i]! });
    }
    this.declared.push(...w.declared);
    this.notes.push(...w.notes);
  }

  private grow(): void {
    const cap = this.timeMs.length * 2;
    const widen = <T extends Float64Array | Float32Array | Uint16Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.timeMs = widen(this.timeMs, (n) => new Float64Array(n));
    this.service = widen(this.service, (n) => new Uint16Array(n));
    this.size = widen(this.size, (n) => new Float32Array(n));
    this.deadlineMs = widen(this.deadlineMs, (n) => new Float32Array(n));
    this.flow = widen(this.flow, (n) => new Int32Array(n));
    this.ingress = widen(this.ingress, (n) => new Int32Array(n));
  }

  build(durationMs?: number): Workload {
    const n = this.n;
    const order = sortedOrder(this.timeMs, n);
    const w: Workload = {
      services: [...this.names],
      count: n,
      timeMs: new Float64Array(n),
      service: new Uint16Array(n),
      size: new Float32Array(n),
      deadlineMs: new Float32Array(n),
      flow: new Int32Array(n),
      ingress: new Int32Array(n),
      durationMs: 0,
      declared: [...this.declared],
      notes: [...this.notes],
    };
    let last = 0;
    for (let i = 0; i < n; i++) {
      const src = order[i]!;
      const t = this.timeMs[src]!;
      w.timeMs[i] = t;
      w.service[i] = this.service[src]!;
      w.size[i] = this.size[src]!;
      w.deadlineMs[i] = this.deadlineMs[src]!;
      w.flow[i] = this.flow[src]!;
      w.ingress[i] = this.ingress[src]!;
      if (t > last) last = t;
    }
    w.durationMs = durationMs ?? last + 1;
    return w;
  }
}

/**
 * Row indices in time order, stable (equal times keep index order): a bottom-up merge of the
 * natural non-decreasing runs of `t[0..n)`, so k sorted runs cost n·log2(k) moves.
 */
export function sortedOrder(t: Float64Array, n: number): Uint32Array {
  let a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  // Run boundaries: starts of maximal non-decreasing stretches, plus n.
  const bounds: number[] = [0];
  for (let i = 1; i < n; i++) if (t[i]! < t[i - 1]!) bounds.push(i);
  bounds.push(n);
  if (bounds.length <= 2) return a;
  let b = new Uint32Array(n);
  let runs = bounds;
  while (runs.length > 2) {
    const next: number[] = [0];
    for (let r = 0; r + 1 < runs.length; r += 2) {
      const lo = runs[r]!;
      const mid = runs[r + 1]!;
      const hi = r + 2 < runs.length ? runs[r + 2]! : mid;
      let i = lo;
      let j = mid;
      let k = lo;
      // Ties go to the left run, which holds the lower indices: the merge is stable.
      while (i < mid && j < hi) b[k++] = t[a[j]!]! < t[a[i]!]! ? a[j++]! : a[i++]!;
      while (i < mid) b[k++] = a[i++]!;
      while (j < hi) b[k++] = a[j++]!;
      next.push(hi);
    }
    [a, b] = [b, a];
    runs = next;
  }
  return a;
}

function bad(line: number, reason: string, hint = 'see the format in src/sim/workload.ts or docs/scheduling.md'): ConfigError {
  return new ConfigError({ code: 'sim.workload', reason: `workload line ${line}: ${reason}`, hint, field: `line ${line}` });
}

/**
 * Parse a workload file (format above). `known` maps service names to specs; rows may only use
 * those or services declared in the file. A relative deadline left empty takes the spec's.
 */
export function parseWorkload(text: string, known: ReadonlyMap<string, ServiceSpec>, maxRows = 20_000_000): Workload {
  const b = new WorkloadBuilder();
  const services = new Map(known);
  let rows = 0;
  let ln = 0;
  // Line by line without splitting: an array of twenty million line strings was the largest
  // thing a big file cost, far more than the columns it becomes.
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const raw = text.slice(start, end).trim();
    start = end + 1;
    ln++;
    if (raw === '') continue;
    if (raw.startsWith('#service ')) {
      let spec: ServiceSpec;
      try {
        spec = JSON.parse(raw.slice('#service '.length)) as ServiceSpec;
      } catch {
        throw bad(ln, 'the #service line is not valid JSON');
      }
      try {
        validateService(spec);
      } catch (e) {
        throw bad(ln, `the #service line is not a valid service: ${(e as Error).message}`);
      }
      services.set(spec.name, spec);
      b.declared.push(spec);
      continue;
    }
    if (raw.startsWith('#')) continue;
    const f = raw.split(',');
    if (f[0] === 'time_ms') continue;
    if (f.length < 2 || f.length > 6) throw bad(ln, `expected 2..6 comma-separated fields, got ${f.length}`);
    if (++rows > maxRows) throw bad(ln, `more than ${maxRows} rows`, 'split the workload or raise the row limit');
    const num = (s: string | undefined, name: string, dflt: number, positive: boolean): number => {
      if (s === undefined || s.trim() === '') return dflt;
      const v = Number(s);
      if (!Number.isFinite(v) || (positive ? v <= 0 : v < 0)) throw bad(ln, `${name} must be a ${positive ? 'positive' : 'non-negative'} number, got ${JSON.stringify(s)}`);
      return v;
    };
    const timeMs = num(f[0], 'time_ms', NaN, false);
    if (Number.isNaN(timeMs)) throw bad(ln, 'time_ms is required');
    const name = (f[1] ?? '').trim();
    const spec = services.get(name);
    if (!spec) throw bad(ln, `unknown service ${JSON.stringify(name)}`, `use one of ${[...services.keys()].join(', ')} or declare it with a #service line`);
    const size = num(f[2], 'size', 1, true);
    const deadlineMs = num(f[3], 'deadline_ms', spec.deadlineMs, true);
    const flowS = f[4]?.trim() ?? '';
    const ingS = f[5]?.trim() ?? '';
    const flow = flowS === '' ? -1 : Number(flowS);
    const ingress = ingS === '' ? -1 : Number(ingS);
    if (!Number.isInteger(flow) || flow < -1) throw bad(ln, `flow must be a non-negative integer, got ${JSON.stringify(flowS)}`);
    if (!Number.isInteger(ingress) || ingress < -1) throw bad(ln, `ingress must be a non-negative integer, got ${JSON.stringify(ingS)}`);
    b.add({ timeMs, service: name, size, deadlineMs, flow, ingress });
  }
  if (rows === 0) throw bad(ln, 'no request rows', 'a workload needs at least one row: time_ms,service');
  b.notes.push(`user workload: ${rows} rows`);
  return b.build();
}

/** Serialise a workload in the file format (used to export the default scenario for users to edit). */
export function formatWorkload(w: Workload): string {
  const out = ['# epara-workload v1', ...w.declared.map((s) => `#service ${JSON.stringify(s)}`), 'time_ms,service,size,deadline_ms,flow,ingress'];
  for (let i = 0; i < w.count; i++) {
    out.push(`${+w.timeMs[i]!.toFixed(3)},${w.services[w.service[i]!]},${+w.size[i]!.toFixed(4)},${+w.deadlineMs[i]!.toFixed(1)},${w.flow[i]! >= 0 ? w.flow[i] : ''},${w.ingress[i]! >= 0 ? w.ingress[i] : ''}`);
  }
  return out.join('\n') + '\n';
}
