/**
 * JUnit XML for CI systems (GitLab, Jenkins, GitHub test reporters): one <testsuite> per check
 * family, one <testcase> per check named by its id, classname `epara.conform.<family>`; a failed
 * check is a <failure> whose message is the one-line reason, a skipped one is <skipped> with
 * the reason, and the SPEC section and warnings travel as <properties> and <system-out>.
 */
import type { ConformReport } from './runner.js';
import { FAMILIES } from './check.js';

function esc(s: string): string {
  // XML 1.0 forbids most control characters even escaped: drop them
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function toJUnit(rep: ConformReport): string {
  const sec = (ms: number) => (ms / 1000).toFixed(3);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const device = rep.device ? `${rep.device.id} (${rep.device.deviceClass}, ${rep.device.firmware})` : 'unknown device';
  out.push(`<testsuites name="${esc(`epara conform ${rep.target}: ${device}`)}" tests="${rep.summary.total}" failures="${rep.summary.failed}" skipped="${rep.summary.skipped}" errors="0" time="${sec(rep.durationMs)}">`);
  for (const fam of FAMILIES) {
    const rows = rep.results.filter((r) => r.family === fam);
    if (!rows.length) continue;
    const time = rows.reduce((a, r) => a + r.durationMs, 0);
    out.push(`  <testsuite name="${fam}" tests="${rows.length}" failures="${rows.filter((r) => r.status === 'fail').length}" skipped="${rows.filter((r) => r.status === 'skip').length}" errors="0" time="${sec(time)}">`);
    for (const r of rows) {
      out.push(`    <testcase classname="epara.conform.${fam}" name="${esc(r.id)}" time="${sec(r.durationMs)}">`);
      out.push(`      <properties><property name="spec" value="${esc(r.spec)}"/><property name="title" value="${esc(r.title)}"/><property name="required" value="${r.required}"/></properties>`);
      if (r.status === 'fail') out.push(`      <failure message="${esc(r.detail)}" type="${r.required ? 'required' : 'optional'}">${esc(`${r.title} (SPEC ${r.spec}): ${r.detail}`)}</failure>`);
      if (r.status === 'skip') out.push(`      <skipped message="${esc(r.detail)}"/>`);
      const text = [r.status === 'pass' ? r.detail : '', ...r.warnings.map((w) => `warning: ${w}`)].filter(Boolean).join('\n');
      if (text) out.push(`      <system-out>${esc(text)}</system-out>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
