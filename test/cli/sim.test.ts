import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { epara, sandbox, type Sandbox } from './helpers.js';

let sb: Sandbox | undefined;
afterEach(() => sb?.cleanup());

describe('epara sim (src/sim/cli-entry.ts behind commander)', () => {
  it('runs the chosen policies and writes results.csv and goodput.svg', async () => {
    sb = sandbox({ fakeTools: false });
    const out = join(sb.root, 'sim');
    const r = await epara(['sim', '--loads', '1', '--duration', '2', '--policies', 'epara,round-robin', '--seed', '3', '--out', out], { env: sb.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^1\s+epara\s/m);
    expect(r.stdout).toMatch(/^1\s+round-robin\s/m);
    const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv.length).toBe(3); // header + one row per policy
    expect(existsSync(join(out, 'goodput.svg'))).toBe(true);
  }, 60_000);

  it('--json prints the SLO capacity of every policy beside the result rows, naming the trace file', async () => {
    sb = sandbox({ fakeTools: false });
    const r = await epara(['sim', '--scenario', 'llm-heavy', '--devices', '16', '--loads', '1,2', '--duration', '20', '--policies', 'epara,round-robin', '--capacity-steps', '1', '--workers', '1', '--out', join(sb.root, 's'), '--json'], { env: sb.env });
    expect(r.code).toBe(0);
    const j = r.json<{ trace: string; runs: Array<{ load: number; policy: string; goodput_rps: number; trace: string }>; capacity: { p90: Record<string, number>; p99: Record<string, number> }; perCategory: Record<string, Record<string, number>> }>();
    expect(j.trace).toBe('AzureLLMInferenceTrace_conv.csv');
    expect(j.runs.slice(0, 4).map((x) => [x.load, x.policy])).toEqual([[1, 'epara'], [1, 'round-robin'], [2, 'epara'], [2, 'round-robin']]);
    expect(j.runs[0]!.trace).toBe('AzureLLMInferenceTrace_conv.csv');
    for (const k of ['p90', 'p99'] as const) for (const p of ['epara', 'round-robin']) expect(typeof j.capacity[k][p]).toBe('number');
    expect(j.capacity.p99.epara!).toBeLessThanOrEqual(j.capacity.p90.epara! + 1e-9);
    expect(Object.keys(j.perCategory)).toContain('latency-single');
    expect(r.stderr).toMatch(/SLO capacity: the highest load factor at which every service keeps/);
  }, 60_000);

  it('flags a mode ignores are refused; an Azure CSV given to --trace says to use --azure-trace', async () => {
    sb = sandbox({ fakeTools: false });
    const azure = join(sb.root, 'azure.csv');
    writeFileSync(azure, 'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n');
    const wrongFlag = await epara(['sim', '--trace', azure, '--out', join(sb.root, 'a')], { env: sb.env });
    expect(wrongFlag.code).toBe(2);
    expect(wrongFlag.stderr).toMatch(/is an Azure LLM inference trace/);
    expect(wrongFlag.stderr).toMatch(/hint: run it with epara sim --azure-trace /);
    for (const extra of [['--duration', '60'], ['--scenario', 'llm-heavy'], ['--cameras', '2'], ['--windows', '3'], ['--trace-window', '0:100']]) {
      const r = await epara(['sim', '--trace', azure, ...extra, '--out', join(sb.root, 'b')], { env: sb.env });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`error cli\\.bad_option: ${extra[0]} has no effect with --trace`));
    }
    const badWin = await epara(['sim', '--trace-window', '100:50', '--out', join(sb.root, 'c')], { env: sb.env });
    expect(badWin.code).toBe(2);
    expect(badWin.stderr).toMatch(/--trace-window must be START:END/);
    const empty = await epara(['sim', '--azure-trace', azure, '--trace-window', '10:20', '--loads', '1', '--duration', '2', '--out', join(sb.root, 'd')], { env: sb.env });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/trace window 10:20 s is empty/);
  }, 60_000);

  it('--scenario picks the workload mix and the header names it', async () => {
    sb = sandbox({ fakeTools: false });
    const out = join(sb.root, 'llm');
    const r = await epara(['sim', '--scenario', 'llm-heavy', '--devices', '16', '--loads', '1', '--duration', '2', '--policies', 'epara', '--out', out], { env: sb.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^epara sim: AzureLLMInferenceTrace_conv\.csv, window 0–3502 s, scenario llm-heavy, 16 devices, 2 s per run/m);
    // llm-heavy has a quarter of a seg-cam camera per site, which rounds to none on one site (mixed: 2).
    expect(r.stdout).toMatch(/camera flows: 0 × seg-cam/);
    expect(readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n')).toHaveLength(2);
  }, 60_000);

  it('an unknown --scenario is a typed error with a hint, exit 2, and nothing is written', async () => {
    sb = sandbox({ fakeTools: false });
    const out = join(sb.root, 'none');
    const r = await epara(['sim', '--scenario', 'video-only', '--loads', '1', '--duration', '2', '--out', out], { env: sb.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error cli\.bad_option: --scenario must be one of mixed, llm-heavy, camera-heavy, got "video-only" \(field: scenario\)/);
    expect(r.stderr).toMatch(/hint: e\.g\. --scenario llm-heavy/);
    expect(existsSync(join(out, 'results.csv'))).toBe(false);
  });

  it('bad options exit 2', async () => {
    sb = sandbox({ fakeTools: false });
    const r = await epara(['sim', '--loads', 'lots', '--out', join(sb.root, 'x')], { env: sb.env });
    expect(r.code).toBe(2);
    const k = await epara(['sim', '--knee-steps', 'many', '--out', join(sb.root, 'y')], { env: sb.env });
    expect(k.code).toBe(2);
    expect(k.stderr).toMatch(/--knee-steps must be a number/);
  });
  it('--workers N runs in worker processes with the same results.csv as --workers 0; a --workers out of range is exit 2', async () => {
    sb = sandbox({ fakeTools: false });
    const args = ['sim', '--scenario', 'camera-heavy', '--devices', '32', '--loads', '1,6', '--duration', '10', '--policies', 'epara,round-robin,least-outstanding', '--seed', '4', '--knee-steps', '1'];
    const one = await epara([...args, '--workers', '0', '--out', join(sb.root, 'w0')], { env: sb.env });
    const two = await epara([...args, '--workers', '2', '--out', join(sb.root, 'w2')], { env: sb.env });
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    expect(readFileSync(join(sb.root, 'w2', 'results.csv'), 'utf8')).toBe(readFileSync(join(sb.root, 'w0', 'results.csv'), 'utf8'));
    expect(readFileSync(join(sb.root, 'w0', 'results.csv'), 'utf8').trim().split('\n')).toHaveLength(7);
    // The progress lines come in sweep order whichever run finished first.
    const progress = (e: string): string[] => e.split('\n').filter((l) => /^ {2}load ×/.test(l));
    expect(progress(two.stderr)).toEqual(progress(one.stderr));
    // The knee report bounds any policy's lead over round-robin by offered ÷ its goodput.
    const ceiling = /ceiling: no policy can be more than ([\d.]+)x round-robin at ×([\d.]+) \(offered ÷ its goodput\)/.exec(one.stdout);
    expect(ceiling).not.toBeNull();
    const lead = /EPARA ÷ baseline, goodput, at ×[\d.]+: .*round-robin ([\d.]+)x/.exec(one.stdout);
    expect(Number(lead![1])).toBeLessThanOrEqual(Number(ceiling![1]));
    const bad = await epara([...args, '--workers', '65', '--out', join(sb.root, 'w65')], { env: sb.env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/error config\.range: option --workers=65 is outside 0\.\.64/);
    expect(existsSync(join(sb.root, 'w65', 'results.csv'))).toBe(false);
  }, 120_000);
});
