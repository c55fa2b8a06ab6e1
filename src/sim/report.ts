/**
 * Reports of a scenario: a text table, CSV, and an SVG plot of goodput versus offered load with one
 * line per policy (written by hand as SVG text: no plotting dependency).
 */
import { CATEGORIES } from '../scheduler/categories.js';
import type { RunMetrics } from './metrics.js';

const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '-');
const num = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '-');

const SHORT: Record<string, string> = { 'latency-single': 'lat-1', 'latency-multi': 'lat-N', 'frequency-single': 'freq-1', 'frequency-multi': 'freq-N' };

/** One row per (load, policy); the ratio column is goodput over round-robin's at the same load. */
export function formatTable(results: readonly RunMetrics[]): string {
  const head = ['load', 'policy', 'offered/s', 'goodput/s', 'vs RR', 'SLO', 'bal.good/s', 'bal.SLO', ...CATEGORIES.map((c) => SHORT[c]!), 'p50 ms', 'p99 ms', 'drop', 'util', 'churn'];
  const rr = new Map(results.filter((r) => r.policy === 'round-robin').map((r) => [r.load, r.goodputRps]));
  const rows = results.map((r) => {
    const base = rr.get(r.load);
    return [
      String(r.load), r.policy, num(r.offeredRps), num(r.goodputRps), base ? `${(r.goodputRps / base).toFixed(2)}x` : '-', pct(r.attainment), num(r.balancedGoodputRps), pct(r.balancedAttainment),
      ...CATEGORIES.map((c) => pct(r.byCategory[c].attainment)), num(r.p50Ms, 0), num(r.p99Ms, 0), pct(r.dropRate), pct(r.utilisation), String(r.loads + r.unloads),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** One row per run; `trace` (the workload's file name) fills a last column when given, so a CSV says what it was run on. */
export function toCsv(results: readonly RunMetrics[], trace?: string): string {
  const head = ['load', 'policy', 'duration_s', 'requests', 'offered_rps', 'goodput_rps', 'slo_attainment', 'balanced_goodput_rps', 'balanced_attainment', ...CATEGORIES.flatMap((c) => [`${c}_total`, `${c}_met`, `${c}_dropped`, `${c}_attainment`]), 'p50_ms', 'p99_ms', 'drop_rate', 'utilisation', 'loads', 'unloads', 'placements', ...(trace === undefined ? [] : ['trace'])];
  const f = (x: number): string => (Number.isFinite(x) ? String(+x.toFixed(6)) : '');
  const rows = results.map((r) => [
    f(r.load), r.policy, f(r.durationSec), String(r.requests), f(r.offeredRps), f(r.goodputRps), f(r.attainment), f(r.balancedGoodputRps), f(r.balancedAttainment),
    ...CATEGORIES.flatMap((c) => [String(r.byCategory[c].total), String(r.byCategory[c].met), String(r.byCategory[c].dropped), f(r.byCategory[c].attainment)]),
    f(r.p50Ms), f(r.p99Ms), f(r.dropRate), f(r.utilisation), String(r.loads), String(r.unloads), String(r.placements),
    ...(trace === undefined ? [] : [trace.replace(/[,\n"]/g, '_')]),
  ].join(','));
  return [head.join(','), ...rows].join('\n') + '\n';
}

const COLORS = ['#d62728', '#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Goodput (y) against offered load in requests/s (x), one polyline per policy. */
export function goodputSvg(results: readonly RunMetrics[], title = 'Goodput vs offered load'): string {
  const W = 720;
  const H = 440;
  const L = 70;
  const R = 190;
  const T = 40;
  const B = 55;
  const policies = [...new Set(results.map((r) => r.policy))];
  const xMax = niceMax(Math.max(...results.map((r) => r.offeredRps)));
  const yMax = niceMax(Math.max(...results.map((r) => r.goodputRps)));
  const x = (v: number): number => L + (v / xMax) * (W - L - R);
  const y = (v: number): number => H - B - (v / yMax) * (H - T - B);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const gx = (xMax * i) / 5;
    const gy = (yMax * i) / 5;
    out.push(`<line x1="${x(gx).toFixed(1)}" y1="${T}" x2="${x(gx).toFixed(1)}" y2="${H - B}" stroke="#eee"/>`);
    out.push(`<line x1="${L}" y1="${y(gy).toFixed(1)}" x2="${W - R}" y2="${y(gy).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${x(gx).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${+gx.toFixed(1)}</text>`);
    out.push(`<text x="${L - 6}" y="${(y(gy) + 4).toFixed(1)}" text-anchor="end">${+gy.toFixed(1)}</text>`);
  }
  out.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 15}" text-anchor="middle">offered load (requests/s)</text>`);
  out.push(`<text x="18" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 18 ${(T + H - B) / 2})">goodput (requests/s within SLO)</text>`);
  out.push(`<line x1="${x(0)}" y1="${y(0)}" x2="${x(Math.min(xMax, yMax))}" y2="${y(Math.min(xMax, yMax))}" stroke="#bbb" stroke-dasharray="4 4"/>`);
  policies.forEach((p, i) => {
    const c = COLORS[i % COLORS.length]!;
    const pts = results.filter((r) => r.policy === p).sort((a, b) => a.offeredRps - b.offeredRps);
    const path = pts.map((r) => `${x(r.offeredRps).toFixed(1)},${y(r.goodputRps).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="${p === 'epara' ? 3 : 1.6}" points="${path}"/>`);
    for (const r of pts) out.push(`<circle cx="${x(r.offeredRps).toFixed(1)}" cy="${y(r.goodputRps).toFixed(1)}" r="3" fill="${c}"><title>${esc(`${p} load ×${r.load}: ${r.goodputRps.toFixed(1)} of ${r.offeredRps.toFixed(1)} req/s`)}</title></circle>`);
    const ly = T + 10 + i * 18;
    out.push(`<line x1="${W - R + 15}" y1="${ly}" x2="${W - R + 40}" y2="${ly}" stroke="${c}" stroke-width="${p === 'epara' ? 3 : 1.6}"/><text x="${W - R + 46}" y="${ly + 4}">${esc(p)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
