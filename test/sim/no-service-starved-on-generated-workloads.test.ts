/**
 * No starvation, as a property over generated workloads that are NOT the vendored conv trace:
 * at the same load, a service that some baseline keeps at ≥ 90% SLO attainment must not fall
 * below 50% under EPARA, and no service may get less than half of the best baseline's attainment
 * under EPARA (the same rule where no baseline reaches 90%).
 *
 * The workloads are synthetic Azure-format traces (synthetic-trace.ts) run through the same
 * mapping as a production file: short requests with a heavier size tail than the conv trace
 * (expected longest of 16 ≈ 5× the mean against 2.4), bursty arrivals (inter-arrival CV ≥ 10
 * against 1.1), on the LLM-dominated and the mixed scenario, on a two-site fleet.
 *
 * On the code of 3f28881 this fails: with requests short enough for a Jetson to hold chat-7b
 * within its SLO, chat-7b counted as "flexible", the scarce stage of the placement gave every GPU
 * server's memory to chat-13b and seg-hd, and chat-7b ran on Jetsons only (7% at ×2 where
 * least-outstanding kept 47%).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAzureTrace } from '../../src/sim/azure-trace.js';
import type { RunMetrics } from '../../src/sim/metrics.js';
import { runScenario } from '../../src/sim/scenario.js';
import { syntheticTrace, toAzureCsv } from '../../src/sim/synthetic-trace.js';

const dir = mkdtempSync(join(tmpdir(), 'epara-starve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Attainment per service (per category where a run has no per-service figures: one service each here). */
function perService(m: RunMetrics): Record<string, number> {
  const src = (m as { byService?: Record<string, { total: number; attainment: number }> }).byService ?? m.byCategory;
  return Object.fromEntries(Object.entries(src).filter(([, v]) => v.total > 0).map(([k, v]) => [k, v.attainment]));
}

function interArrivalCv(tSec: number[]): number {
  const d = tSec.slice(1).map((t, i) => t - tSec[i]!);
  const mu = d.reduce((a, b) => a + b, 0) / d.length;
  const v = d.reduce((a, b) => a + (b - mu) ** 2, 0) / d.length;
  return Math.sqrt(v) / mu;
}

const CASES = [
  { name: 'mixed, trace seed 1', scenario: 'mixed' as const, seed: 1, loads: [2, 3] },
  { name: 'llm-heavy, trace seed 3', scenario: 'llm-heavy' as const, seed: 3, loads: [2, 3] },
];

describe('no service is starved by EPARA on generated workloads (heavier size tail, CV ≥ 10)', () => {
  it.each(CASES)('$name', ({ scenario, seed, loads }) => {
    const trace = syntheticTrace({ rows: 8000, contextMedian: 1500, generatedMedian: 12, sigma: 1.4, burstMean: 200, burstGapSec: 0.1, seed });
    const file = join(dir, `synthetic-${seed}.csv`);
    writeFileSync(file, toAzureCsv(trace));
    expect(interArrivalCv(parseAzureTrace(toAzureCsv(trace)).rows.map((r) => r.tSec))).toBeGreaterThanOrEqual(10);
    const r = runScenario({ azureFile: file, scenario, devices: 32, durationSec: 120, loads, seed: 1 });
    const failures: string[] = [];
    for (const load of loads) {
      const runs = r.results.filter((m) => m.load === load);
      const epara = perService(runs.find((m) => m.policy === 'epara')!);
      for (const [service, a] of Object.entries(epara)) {
        let best = { policy: '', a: -1 };
        for (const m of runs) if (m.policy !== 'epara' && (perService(m)[service] ?? -1) > best.a) best = { policy: m.policy, a: perService(m)[service]! };
        const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
        if (best.a >= 0.9 && a < 0.5) failures.push(`×${load} ${service}: ${best.policy} keeps ${pct(best.a)}, EPARA ${pct(a)} (< 50%)`);
        if (a < 0.5 * best.a) failures.push(`×${load} ${service}: EPARA ${pct(a)} is under half of ${best.policy}'s ${pct(best.a)}`);
      }
    }
    expect(failures).toEqual([]);
  }, 60_000);
});
