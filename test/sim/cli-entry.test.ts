import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simCommand } from '../../src/sim/cli-entry.js';
import { runScenario } from '../../src/sim/scenario.js';

const dir = mkdtempSync(join(tmpdir(), 'epara-sim-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A small user workload in the documented format: two chat requests and a 10 fps camera for 2 s.
const lines = ['# epara-workload v1', 'time_ms,service,size,deadline_ms,flow,ingress', '0,chat-7b,1,,,0', '500,chat-7b,0.5,,,1'];
for (let i = 0; i < 20; i++) lines.push(`${i * 100},seg-cam,1,150,1,2`);
const traceFile = join(dir, 'w.csv');
writeFileSync(traceFile, lines.join('\n'));

describe('epara sim entry point', () => {
  it('runs a user workload for two policies, prints the table, writes CSV and SVG', async () => {
    const out: string[] = [];
    const code = await simCommand({ trace: traceFile, out: join(dir, 'out'), devices: '8', policies: 'epara,round-robin', loads: '1', seed: 3, print: (l) => out.push(l), printError: () => {} });
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/epara\s/);
    expect(text).toMatch(/round-robin\s/);
    expect(text).toMatch(/goodput\/s/);
    const csv = readFileSync(join(dir, 'out', 'results.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[0]).toMatch(/^load,policy,duration_s,requests,offered_rps,goodput_rps/);
    expect(csv[1]!.split(',')[3]).toBe('22');
    const svg = readFileSync(join(dir, 'out', 'goodput.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('<polyline');
    expect(svg).toContain('>epara</text>');
  });

  it('returns 2 with a typed error for bad options or a bad workload', async () => {
    const errs: string[] = [];
    expect(await simCommand({ devices: 'many', print: () => {}, printError: (l) => errs.push(l) })).toBe(2);
    expect(errs.join('\n')).toMatch(/--devices must be a number/);
    expect(await simCommand({ policies: 'nope', trace: traceFile, print: () => {}, printError: (l) => errs.push(l) })).toBe(2);
    expect(errs.join('\n')).toMatch(/unknown policy "nope"/);
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, '0,chat-7b\nzzz,chat-7b');
    expect(await simCommand({ trace: bad, print: () => {}, printError: (l) => errs.push(l) })).toBe(2);
    expect(errs.join('\n')).toMatch(/workload line 2/);
    expect(await simCommand({ trace: join(dir, 'missing.csv'), print: () => {}, printError: (l) => errs.push(l) })).toBe(2);
    expect(await simCommand({ scenario: 'video-only', trace: traceFile, print: () => {}, printError: (l) => errs.push(l) })).toBe(2);
    expect(errs.join('\n')).toMatch(/--scenario must be one of mixed, llm-heavy, camera-heavy/);
  });

  it('runs a named scenario and says which', async () => {
    const out: string[] = [];
    const code = await simCommand({ scenario: 'camera-heavy', out: join(dir, 'cam'), devices: '16', policies: 'epara', loads: '1', duration: '2', print: (l) => out.push(l), printError: () => {} });
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(/scenario camera-heavy/);
    expect(readFileSync(join(dir, 'cam', 'results.csv'), 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('--cameras and --hd-cameras set the cameras per site over the scenario, and are range-checked', async () => {
    const out: string[] = [];
    const o = { scenario: 'llm-heavy', devices: '32', policies: 'epara', loads: '2', duration: '2', print: (l: string) => out.push(l), printError: () => {} };
    expect(await simCommand({ ...o, out: join(dir, 'cams'), cameras: '3', hdCameras: '0.5' })).toBe(0);
    // 2 sites × load 2: 3 → 12 seg-cam cameras and 0.5 → 2 seg-hd cameras (llm-heavy alone gives 1 and 1).
    expect(out.join('\n')).toMatch(/camera flows: 12 × seg-cam @ 5 fps, 2 × seg-hd @ 2 fps/);
    const errs: string[] = [];
    expect(await simCommand({ ...o, out: join(dir, 'cams-bad'), cameras: '-1', printError: (l) => errs.push(l) })).toBe(2);
    expect(errs.join('\n')).toMatch(/--cameras=-1 is outside 0\.\.1000/);
    expect(await simCommand({ ...o, out: join(dir, 'cams-nan'), hdCameras: 'many', printError: (l) => errs.push(l) })).toBe(2);
    expect(errs.join('\n')).toMatch(/--hd-cameras must be a number/);
  });

  it('refines the knee between the grid loads around it and writes the probe runs to knee.csv', async () => {
    const out: string[] = [];
    const o = { scenario: 'camera-heavy', devices: '16', policies: 'epara,round-robin', loads: '1,8', duration: '8', print: (l: string) => out.push(l), printError: () => {} };
    expect(await simCommand({ ...o, out: join(dir, 'knee'), kneeSteps: '2' })).toBe(0);
    const text = out.join('\n');
    // Round-robin (the only baseline) is at 100% at ×1 and far below 90% at ×8: bisection probes ×4.5, then ×2.75.
    expect(text).toMatch(/^knee \(SLO attainment\): grid ×8 \(best baseline round-robin [\d.]+%\); refined ×[\d.]+ after 2 bisection steps/m);
    expect(text).toMatch(/^ {2}EPARA ÷ baseline, goodput, at ×[\d.]+: round-robin [\d.]+x$/m);
    expect(text).toMatch(/^knee \(balanced SLO attainment\): /m);
    const rows = readFileSync(join(dir, 'knee', 'knee.csv'), 'utf8').trim().split('\n').slice(1);
    expect(rows.map((r) => r.split(',').slice(0, 2).join(' '))).toEqual(['2.75 epara', '2.75 round-robin', '4.5 epara', '4.5 round-robin']);
    // The grid itself stays in results.csv.
    expect(readFileSync(join(dir, 'knee', 'results.csv'), 'utf8').trim().split('\n')).toHaveLength(5);

    out.length = 0;
    expect(await simCommand({ ...o, out: join(dir, 'knee0'), kneeSteps: 0 })).toBe(0);
    expect(out.join('\n')).toMatch(/^knee \(SLO attainment\): grid ×8 \(best baseline round-robin [\d.]+%\); not refined \(0 steps\)/m);
    expect(out.join('\n')).toMatch(/EPARA ÷ baseline, goodput, at ×8: round-robin/);

    const errs: string[] = [];
    expect(await simCommand({ ...o, out: join(dir, 'knee-bad'), kneeSteps: '2.5', printError: (l) => errs.push(l) })).toBe(2);
    expect(errs.join('\n')).toMatch(/--knee-steps must be a whole number from 0 to 8/);
  }, 60_000);

  it('--llm-batching continuous runs every policy with iteration-level LLM batching and says so', async () => {
    const out: string[] = [];
    const o = { scenario: 'llm-heavy', devices: '16', policies: 'epara,round-robin', loads: '2', duration: '60', kneeSteps: 0, printError: () => {} };
    expect(await simCommand({ ...o, out: join(dir, 'cb'), llmBatching: 'continuous', print: (l) => out.push(l) })).toBe(0);
    expect(out[0]).toMatch(/LLM batching continuous$/);
    expect(await simCommand({ ...o, out: join(dir, 'rb'), print: () => {} })).toBe(0);
    // Same workload, another runtime: the LLM rows differ, the request count does not.
    const cb = readFileSync(join(dir, 'cb', 'results.csv'), 'utf8').trim().split('\n');
    const rb = readFileSync(join(dir, 'rb', 'results.csv'), 'utf8').trim().split('\n');
    expect(cb.map((r) => r.split(',')[3])).toEqual(rb.map((r) => r.split(',')[3]));
    expect(cb.slice(1)).not.toEqual(rb.slice(1));
    const errs: string[] = [];
    expect(await simCommand({ ...o, out: join(dir, 'xb'), llmBatching: 'iteration', print: () => {}, printError: (l) => errs.push(l) })).toBe(2);
    expect(errs.join('\n')).toMatch(/--llm-batching must be one of request, continuous, got "iteration"/);
  }, 60_000);

  it('is reproducible: the same seed gives identical results', () => {
    const a = runScenario({ traceFile, devices: 8, policies: ['epara', 'power-of-two'], seed: 5 });
    const b = runScenario({ traceFile, devices: 8, policies: ['epara', 'power-of-two'], seed: 5 });
    expect(a.results).toEqual(b.results);
    for (const m of a.results) {
      expect(m.requests).toBe(22);
      expect(m.goodputRps).toBeLessThanOrEqual(m.offeredRps);
    }
  });
});
