/**
 * Synthetic LLM traces in the Azure LLM inference trace format (TIMESTAMP, ContextTokens,
 * GeneratedTokens), so they run through exactly the mapping a production file does
 * (`epara sim --azure-trace FILE`). They exist to test the scheduler on workloads that are NOT the
 * vendored conv trace, as the production traces it will be judged on differ from it:
 *  - a heavier size tail: token counts log-normal with a wider spread (`sigma`);
 *  - bursty arrivals: requests come in clusters (geometric size, mean `burstMean`) that start as a
 *    Poisson process; with a cluster mean of k the inter-arrival CV is about √(2k − 1), so
 *    the default `burstMean` 100 gives a CV near 14 (the conv trace's is about 1.1).
 * Seeded (mulberry32), so a trace is reproducible from its options.
 */
import { Rng } from './rng.js';
import type { AzureTrace } from './azure-trace.js';

export interface SyntheticTraceOptions {
  /** Rows (default 6,000). */
  rows?: number;
  /** Mean requests per second over the whole trace (default 5.5, the conv trace's). */
  ratePerSec?: number;
  /** Mean requests per burst (1 = Poisson arrivals; default 100: CV ≈ 14). */
  burstMean?: number;
  /** Seconds between the requests of a burst (default 0.05). */
  burstGapSec?: number;
  /** Median context and generated tokens (default 1,000 and 200). */
  contextMedian?: number;
  generatedMedian?: number;
  /** Log-normal σ of the token counts (default 1.3: a heavier tail than the conv trace). */
  sigma?: number;
  seed?: number;
}

export function syntheticTrace(o: SyntheticTraceOptions = {}): AzureTrace {
  const rows = o.rows ?? 6000;
  const rate = o.ratePerSec ?? 5.5;
  const burst = Math.max(1, o.burstMean ?? 100);
  const gap = o.burstGapSec ?? 0.05;
  const sigma = o.sigma ?? 1.3;
  const rng = new Rng(o.seed ?? 1).fork(11);
  const out: AzureTrace['rows'] = [];
  // Bursts start at rate / burst per second, so the mean rate is `rate`.
  const burstRate = rate / burst;
  let t = 0;
  while (out.length < rows) {
    t += -Math.log(Math.max(rng.next(), 1e-12)) / burstRate;
    // Geometric burst size with mean `burst`.
    let k = 1;
    while (rng.next() > 1 / burst) k++;
    for (let i = 0; i < k && out.length < rows; i++) {
      out.push({
        tSec: t + i * gap,
        contextTokens: Math.max(1, Math.round((o.contextMedian ?? 1000) * Math.exp(sigma * rng.normal()))),
        generatedTokens: Math.max(1, Math.round((o.generatedMedian ?? 200) * Math.exp(sigma * rng.normal()))),
      });
    }
  }
  out.sort((a, b) => a.tSec - b.tSec);
  const t0 = out[0]!.tSec;
  for (const r of out) r.tSec -= t0;
  return { rows: out, spanSec: out[out.length - 1]!.tSec };
}

/** The trace as an Azure-format CSV (timestamps from 2023-11-16 00:00:00 UTC, 100 ns digits as in the files). */
export function toAzureCsv(t: AzureTrace): string {
  const base = Date.UTC(2023, 10, 16);
  const lines = ['TIMESTAMP,ContextTokens,GeneratedTokens'];
  for (const r of t.rows) {
    const ms = base + r.tSec * 1000;
    const whole = Math.floor(ms / 1000) * 1000;
    const frac = Math.round((ms - whole) * 10_000).toString().padStart(7, '0').slice(0, 7);
    const d = new Date(whole).toISOString().slice(0, 19).replace('T', ' ');
    lines.push(`${d}.${frac},${r.contextTokens},${r.generatedTokens}`);
  }
  return lines.join('\n') + '\n';
}
