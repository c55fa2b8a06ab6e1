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
