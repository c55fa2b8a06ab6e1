/**
 * Reader for the Azure LLM Inference Trace 2023 (conversation), the real production trace in
 * data/azure-llm-2023/ (vendored in the repository) — Microsoft Azure Public Dataset, CC BY 4.0; Patel et al.,
 * "Splitwise: Efficient generative LLM inference using phase splitting", ISCA 2024.
 *
 * Deterministic time scaling (documented so results can be reproduced and compared):
 *  - time is relative to the first row (t − t0, seconds); the absolute date is not used;
 *  - at load factor x the run of length D seconds replays the trace window [start, start + x·D)
 *    compressed by x (x > 1 raises the rate, x < 1 stretches it); rows past the trace end are not
 *    wrapped, so x·D must stay within the trace (3,501 s) — longer windows are clipped and noted;
 *  - rows are split between the two chat services by row number: every 4th row (i mod 4 = 3)
 *    goes to the larger model (`bigService`), the rest to `service`;
 *  - a request's size is its reference work (ContextTokens·prefillMsPerToken +
 *    GeneratedTokens·decodeMsPerToken) over the trace mean, so service times follow the tokens;
 *  - its deadline is slackMs + sloScale × its own isolated time on the reference device;
 *  - its ingress device is spread by row number (a multiplicative hash), i.e. users land on any site.
 */
import { ConfigError } from '../errors.js';

export interface AzureRow {
  tSec: number;
  contextTokens: number;
  generatedTokens: number;
}

export interface AzureTrace {
  rows: AzureRow[];
  spanSec: number;
}

export function parseAzureTrace(text: string): AzureTrace {
  const lines = text.split(/\r?\n/);
  const head = lines[0]?.trim();
  if (head !== 'TIMESTAMP,ContextTokens,GeneratedTokens') {
    throw new ConfigError({ code: 'sim.trace', reason: `not an Azure LLM trace: header is ${JSON.stringify(head?.slice(0, 60))}`, hint: 'expected TIMESTAMP,ContextTokens,GeneratedTokens (AzureLLMInferenceTrace_conv.csv)' });
  }
  const rows: AzureRow[] = [];
  let t0 = NaN;
  const re = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d+)?,(\d+),(\d+)$/;
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (l === '') continue;
    const m = re.exec(l);
    if (!m) throw new ConfigError({ code: 'sim.trace', reason: `Azure trace line ${i + 1} is malformed: ${JSON.stringify(l.slice(0, 60))}`, hint: 'use the unmodified AzureLLMInferenceTrace_conv.csv', field: `line ${i + 1}` });
    const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) + (m[7] ? Number(m[7]) * 1000 : 0);
    if (Number.isNaN(t0)) t0 = ms;
    rows.push({ tSec: (ms - t0) / 1000, contextTokens: +m[8]!, generatedTokens: +m[9]! });
  }
  if (rows.length === 0) throw new ConfigError({ code: 'sim.trace', reason: 'Azure trace has no rows', hint: 'check the file' });
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

/** The requests of the window [startSec, startSec + load·durationSec), compressed by `load`, in order. */
export function azureRequests(t: AzureTrace, m: AzureMapping, opts: { load: number; durationSec: number; startSec?: number; overheadMs?: number }): { requests: TraceRequest[]; note: string } {
  const start = opts.startSec ?? 0;
  const end = start + opts.load * opts.durationSec;
  const mean = m.workMs > 0 ? m.workMs : meanWorkMs(t, m);
  const out: TraceRequest[] = [];
  t.rows.forEach((r, i) => {
    if (r.tSec < start || r.tSec >= end) return;
    const big = i % 4 === 3;
    const work = referenceWorkMs(r, m);
    const size = Math.max(0.01, work / mean);
    const isolated = (big ? m.bigFactor : 1) * work + (opts.overheadMs ?? 1);
    out.push({
      timeMs: ((r.tSec - start) / opts.load) * 1000,
      service: big ? m.bigService : m.service,
      size,
      deadlineMs: m.slackMs + m.sloScale * isolated,
      ingress: Math.imul(i + 1, 2654435761) >>> 0,
    });
  });
  const clipped = end > t.spanSec ? ` (clipped at the trace end, ${t.spanSec.toFixed(0)} s)` : '';
  return { requests: out, note: `Azure LLM 2023 conv trace (CC BY 4.0): window ${start}–${Math.min(end, t.spanSec).toFixed(0)} s compressed ×${opts.load}${clipped}, ${out.length} requests` };
}

/**
 * Expected largest request size of a batch of `batch` requests drawn from the trace, over the mean
 * size (ServiceSpec.sizeSpread): Σ_i s_(i) · (F_i^b − F_(i−1)^b) over the sorted sizes, exact for
 * independent draws from the trace's own size distribution (no sampling).
 */
export function batchSpread(t: AzureTrace, m: Pick<AzureMapping, 'prefillMsPerToken' | 'decodeMsPerToken'>, batch: number): number {
  const sizes = t.rows.map((r) => referenceWorkMs(r, m)).sort((a, b) => a - b);
  const n = sizes.length;
  const mean = sizes.reduce((a, b) => a + b, 0) / n;
  let e = 0;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const f = ((i + 1) / n) ** batch;
    e += sizes[i]! * (f - prev);
    prev = f;
  }
  return e / mean;
}
