/**
 * Reader for the Azure LLM Inference Trace format (the 2023 conv and code files, the 2024 week-long
 * files); the 2023 conversation trace is vendored in data/azure-llm-2023/ — Microsoft Azure Public Dataset, CC BY 4.0; Patel et al.,
 * "Splitwise: Efficient generative LLM inference using phase splitting", ISCA 2024.
 *
 * Deterministic time scaling (documented so results can be reproduced and compared):
 *  - time is relative to the first row (t − t0, seconds); the absolute date is not used;
 *  - at load factor x the run of length D seconds replays x·D seconds of the trace window
 *    [start, end) compressed by x (x > 1 raises the rate, x < 1 stretches it); a run that needs
 *    more than the window replays it again from its start (noted);
 *  - rows are split between the two chat services by a seeded hash of (seed, row, replay pass):
 *    a quarter go to the larger model (`bigService`), the rest to `service`;
 *  - a request's size is its reference work (ContextTokens·prefillMsPerToken +
 *    GeneratedTokens·decodeMsPerToken) over the trace mean, so service times follow the tokens;
 *  - its deadline is slackMs + sloScale × its own isolated time on the reference device;
 *  - its ingress device comes from the same hash, i.e. users land on any site.
 */
import { ConfigError } from '../errors.js';
import { bucketedSpread, fcfsSpread } from '../scheduler/batch-spread.js';

export interface AzureRow {
  tSec: number;
  contextTokens: number;
  generatedTokens: number;
}

export interface AzureTrace {
  rows: AzureRow[];
  spanSec: number;
}

/**
 * Any file of the Azure LLM inference trace format: the 2023 conv and code files
 * (`2023-11-16 18:15:46.6805900,374,44`) and the 2024 week-long ones, whose timestamps may carry
 * a UTC offset (`+00:00`) or a `T`. Fields may be quoted. Rows out of time order are sorted.
 */
export function parseAzureTrace(text: string): AzureTrace {
  const lines = text.split(/\r?\n/);
  const head = lines[0]?.replace(/^\uFEFF/, '').replace(/"/g, '').replace(/\s+/g, '');
  if (head !== 'TIMESTAMP,ContextTokens,GeneratedTokens') {
    throw new ConfigError({ code: 'sim.trace', reason: `not an Azure LLM trace: header is ${JSON.stringify(lines[0]?.slice(0, 60))}`, hint: 'an Azure LLM inference trace starts with the header TIMESTAMP,ContextTokens,GeneratedTokens; a workload file (epara-workload v1) goes to epara sim --trace FILE' });
  }
  const rows: AzureRow[] = [];
  const re = /^"?(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?"?,"?(\d+)"?,"?(\d+)"?$/;
  let sorted = true;
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (l === '') continue;
    const m = re.exec(l);
    if (!m) throw new ConfigError({ code: 'sim.trace', reason: `Azure trace line ${i + 1} is malformed: ${JSON.stringify(l.slice(0, 60))}`, hint: 'rows are TIMESTAMP,ContextTokens,GeneratedTokens as in the Azure public dataset files; pass the file unmodified to epara sim --azure-trace FILE', field: `line ${i + 1}` });
    let ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) + (m[7] ? Number(m[7]) * 1000 : 0);
    const tz = m[8];
    if (tz && tz !== 'Z') {
      const d = tz.replace(':', '');
      ms -= (d[0] === '-' ? -1 : 1) * (Number(d.slice(1, 3)) * 60 + Number(d.slice(3, 5))) * 60_000;
    }
    if (rows.length > 0 && ms < rows[rows.length - 1]!.tSec) sorted = false;
    rows.push({ tSec: ms, contextTokens: +m[9]!, generatedTokens: +m[10]! });
  }
  if (rows.length === 0) throw new ConfigError({ code: 'sim.trace', reason: 'Azure trace has no rows', hint: 'check the file: it holds the header only' });
  if (!sorted) rows.sort((x, y) => x.tSec - y.tSec);
  const t0 = rows[0]!.tSec;
  for (const r of rows) r.tSec = (r.tSec - t0) / 1000;
  return { rows, spanSec: rows[rows.length - 1]!.tSec };
}

export interface AzureMapping {
  service: string;
  bigService: string;
  prefillMsPerToken: number;
  decodeMsPerToken: number;
  /** Mean reference work of `service` (ms); the big model's work is `bigFactor` times it. */
  workMs: number;
  bigFactor: number;
  sloScale: number;
  slackMs: number;
}

export const DEFAULT_AZURE_MAPPING: AzureMapping = {
  service: 'chat-7b',
  bigService: 'chat-13b',
  prefillMsPerToken: 0.04,
  decodeMsPerToken: 12,
  workMs: 0,
  bigFactor: 1.8,
  sloScale: 5,
  slackMs: 2000,
};

export function referenceWorkMs(r: AzureRow, m: Pick<AzureMapping, 'prefillMsPerToken' | 'decodeMsPerToken'>): number {
  return r.contextTokens * m.prefillMsPerToken + r.generatedTokens * m.decodeMsPerToken;
}

export function meanWorkMs(t: AzureTrace, m: Pick<AzureMapping, 'prefillMsPerToken' | 'decodeMsPerToken'>): number {
  let s = 0;
  for (const r of t.rows) s += referenceWorkMs(r, m);
  return s / t.rows.length;
}

export interface TraceRequest {
  timeMs: number;
  service: string;
  size: number;
  deadlineMs: number;
  ingress: number;
}

/** A 32-bit mix of two integers (seeded row draws: which service a row goes to, its ingress). */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ Math.imul(b, 0x9e3779b1), 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export interface AzureReplay {
  load: number;
  durationSec: number;
  /** Start of the trace window replayed, seconds from the first row (default 0). */
  startSec?: number;
  /** End of the window (default the trace end). A run that needs more than the window replays it again (wraps). */
  endSec?: number;
  /** Varies which rows go to the big model and where each request enters (default 1). */
  seed?: number;
  overheadMs?: number;
  /** The trace's name in the note (default 'Azure LLM trace'). */
  name?: string;
}

/**
 * The requests of a run: the window [startSec, endSec) of the trace, compressed by `load`, for
 * `durationSec`; a run that needs more than the window (load × duration > its length) replays it
 * from its start again, so the offered rate keeps growing with the load (clipping would cap it and
 * make a capacity search see attainment recover at high load). Each row goes to the big model
 * with probability 1/4 and enters at a device drawn from a hash of (seed, row, replay pass).
 */
export function azureRequests(t: AzureTrace, m: AzureMapping, opts: AzureReplay): { requests: TraceRequest[]; note: string } {
  const start = opts.startSec ?? 0;
  const end = Math.min(opts.endSec ?? t.spanSec, t.spanSec);
  const seed = opts.seed ?? 1;
  const mean = m.workMs > 0 ? m.workMs : meanWorkMs(t, m);
  const out: TraceRequest[] = [];
  // Rows of the window (the last row sits at spanSec: an open end would lose it from a whole-trace window).
  let lo = 0;
  while (lo < t.rows.length && t.rows[lo]!.tSec < start) lo++;
  let hi = lo;
  while (hi < t.rows.length && (t.rows[hi]!.tSec < end || (end >= t.spanSec && t.rows[hi]!.tSec <= end))) hi++;
  const width = Math.max(end - start, 1e-3);
  const need = opts.load * opts.durationSec;
  const passes = hi > lo ? Math.ceil(need / width) : 0;
  for (let k = 0; k < passes; k++) {
    for (let i = lo; i < hi; i++) {
      const r = t.rows[i]!;
      const offset = r.tSec - start + k * width;
      if (offset >= need) break;
      const h = mix(i + 1, mix(seed, k));
      const big = (h & 3) === 3;
      const work = referenceWorkMs(r, m);
      const size = Math.max(0.01, work / mean);
      const isolated = (big ? m.bigFactor : 1) * work + (opts.overheadMs ?? 1);
      out.push({
        timeMs: (offset / opts.load) * 1000,
        service: big ? m.bigService : m.service,
        size,
        deadlineMs: m.slackMs + m.sloScale * isolated,
        ingress: mix(h, 0x2545f491),
      });
    }
  }
  const wrapped = passes > 1 ? ` (replayed ${(need / width).toFixed(2)} times: the run needs ${need.toFixed(0)} s of a ${width.toFixed(0)} s window)` : '';
  return { requests: out, note: `${opts.name ?? 'Azure LLM trace'}: window ${start}–${end.toFixed(0)} s compressed ×${opts.load}${wrapped}, ${out.length} requests, seed ${seed}` };
}

/**
 * Arrivals per window of `windowSec` (trace time) at their 99th percentile over the mean, over the
 * non-overlapping windows of the trace (≥ 1; 1 with fewer than 10 windows). ServiceSpec.burstFactor.
 */
export function burstFactor(t: AzureTrace, windowSec: number, q = 0.99): number {
  const n = Math.floor(t.spanSec / windowSec);
  if (!(windowSec > 0) || n < 10) return 1;
  const counts = new Float64Array(n);
  for (const r of t.rows) {
    const k = Math.floor(r.tSec / windowSec);
    if (k < n) counts[k]!++;
  }
  const sorted = Array.from(counts).sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / n;
  return mean > 0 ? Math.max(1, sorted[Math.min(n - 1, Math.floor(q * n))]! / mean) : 1;
}

export interface TraceStats {
  rows: number;
  spanSec: number;
  ratePerSec: number;
  meanWorkMs: number;
  /** Expected largest of 16 sizes over the mean (batchSpread). */
  spread16: number;
  /** The same under EPARA's length bucketing (bucketedBatchSpread). */
  bucketedSpread16: number;
  /** Coefficient of variation of the inter-arrival times (1 for Poisson arrivals; bursty traces ≫ 1). */
  interArrivalCv: number;
}

/** What the services are sized from, computed from the file in use (reported beside every run). */
export function traceStats(t: AzureTrace, m: Pick<AzureMapping, 'prefillMsPerToken' | 'decodeMsPerToken'>): TraceStats {
  let s = 0;
  let s2 = 0;
  const n = t.rows.length - 1;
  for (let i = 1; i < t.rows.length; i++) {
    const d = t.rows[i]!.tSec - t.rows[i - 1]!.tSec;
    s += d;
    s2 += d * d;
  }
  const mu = n > 0 ? s / n : 0;
  const cv = n > 1 && mu > 0 ? Math.sqrt(Math.max(0, s2 / n - mu * mu)) / mu : 0;
  return { rows: t.rows.length, spanSec: t.spanSec, ratePerSec: t.rows.length / Math.max(t.spanSec, 1e-3), meanWorkMs: meanWorkMs(t, m), spread16: batchSpread(t, m, 16), bucketedSpread16: bucketedBatchSpread(t, m, 16), interArrivalCv: cv };
}

/**
 * Expected largest request size of a batch of `batch` requests drawn from the trace, over the mean
 * size (ServiceSpec.sizeSpread): Σ_i s_(i) · (F_i^b − F_(i−1)^b) over the sorted sizes, exact for
 * independent draws from the trace's own size distribution (no sampling).
 */
/** The same under EPARA's length bucketing (batch-spread.ts bucketedSpread). */
export function bucketedBatchSpread(t: AzureTrace, m: Pick<AzureMapping, 'prefillMsPerToken' | 'decodeMsPerToken'>, batch: number): number {
  return bucketedSpread(t.rows.map((r) => referenceWorkMs(r, m)), batch);
}

export function batchSpread(t: AzureTrace, m: Pick<AzureMapping, 'prefillMsPerToken' | 'decodeMsPerToken'>, batch: number): number {
  return fcfsSpread(t.rows.map((r) => referenceWorkMs(r, m)), batch);
}

