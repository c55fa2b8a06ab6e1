/** The human report: one row per check (result, id, SPEC section, what was seen), warnings, a summary. */
import { renderTable, type Palette } from '../cli/output.js';
import type { ConformReport } from './runner.js';

export function toTable(rep: ConformReport, c: Palette): string {
  const mark = { pass: 'pass', fail: 'FAIL', skip: 'skip' } as const;
  const table = renderTable(rep.results, [
    { header: 'RESULT', value: (r) => mark[r.status] + (r.warnings.length ? '*' : ''), paint: (s, r) => (r.status === 'pass' ? c.green(s) : r.status === 'fail' ? c.red(s) : c.dim(s)) },
    { header: 'CHECK', value: (r) => r.id },
    { header: 'SPEC', value: (r) => r.spec },
    { header: 'DETAIL', value: (r) => (r.detail.length > 140 ? r.detail.slice(0, 139) + '…' : r.detail) },
  ], c);
  const lines = [table.trimEnd()];
  const warned = rep.results.filter((r) => r.warnings.length);
  if (warned.length) {
    lines.push('', c.bold('warnings (* above: the spec asks for it, the check does not fail on it):'));
    for (const r of warned) for (const w of r.warnings) lines.push(`  ${r.id}: ${w}`);
  }
  const s = rep.summary;
  const dev = rep.device ? `${rep.device.id} (${rep.device.deviceClass}, ${rep.device.firmware})` : 'no device';
  lines.push('', `${dev} over ${rep.target}: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped, ${s.warnings} warnings in ${(rep.durationMs / 1000).toFixed(1)} s — ${rep.ok ? c.green('CONFORMS') : c.red('DOES NOT CONFORM')}`);
  return lines.join('\n') + '\n';
}
