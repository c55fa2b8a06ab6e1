/** The default scenario's fixed parts: where the trace is found, the fleet, and the balanced metrics. */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MetricsCollector } from '../../src/sim/metrics.js';
import { ConfigError } from '../../src/errors.js';
import { DEFAULT_TRACE_PATH, SCENARIOS, defaultFleet, repoRoot, runScenario } from '../../src/sim/scenario.js';

describe('default trace path', () => {
  it('walks up from a nested folder to the one holding package.json', () => {
    const root = mkdtempSync(join(tmpdir(), 'epara-root-'));
    writeFileSync(join(root, 'package.json'), '{}');
    const deep = join(root, 'dist', 'src', 'sim');
    mkdirSync(deep, { recursive: true });
    expect(repoRoot(deep)).toBe(root);
  });

  it('resolves to the trace vendored in the repository', () => {
    expect(DEFAULT_TRACE_PATH).toBe(join(repoRoot(), 'data', 'azure-llm-2023', 'AzureLLMInferenceTrace_conv.csv'));
    expect(existsSync(DEFAULT_TRACE_PATH)).toBe(true);
  });
});

describe('default fleet', () => {
  it('sites of 16: 2 GPU servers, 4 embedded GPUs, 8 microcomputers, 1 MCU, 1 FPGA, one zone per site', () => {
    const f = defaultFleet(64);
    const count = (cls: string): number => f.filter((d) => d.deviceClass === cls).length;
    expect([count('gpu-server'), count('embedded-gpu'), count('microcomputer'), count('mcu'), count('fpga')]).toEqual([8, 16, 32, 4, 4]);
    expect(new Set(f.map((d) => d.zone)).size).toBe(4);
    expect(new Set(f.map((d) => d.id)).size).toBe(64);
  });
});

describe('balanced goodput', () => {
  it('weights every category with requests equally, whatever its request count', () => {
    const m = new MetricsCollector();
    for (let i = 0; i < 90; i++) m.complete('frequency-single', 10, true); // 90 cheap frames, all met
    for (let i = 0; i < 10; i++) m.complete('latency-single', 10, i < 2); // 10 LLM requests, 2 met
    const r = m.finish('p', 1, 10_000, 0, 1);
    expect(r.goodputRps).toBeCloseTo(9.2); // 92 met in 10 s
    expect(r.attainment).toBeCloseTo(0.92);
    expect(r.balancedAttainment).toBeCloseTo((1 + 0.2) / 2);
    expect(r.balancedGoodputRps).toBeCloseTo(10 * 0.6);
  });
});

describe('scenario presets', () => {
  // A user workload with no cameras keeps these runs tiny; the presets only change the default mix.
  it('set the cameras per site of the default workload; explicit counts override them', () => {
    const run = (o: Parameters<typeof runScenario>[0]) => runScenario({ devices: 16, durationSec: 2, policies: ['round-robin'], loads: [1], ...o }).results[0]!;
    const frames = (m: ReturnType<typeof run>) => m.byCategory['frequency-single'].total;
    const mixed = run({});
    const heavy = run({ scenario: 'camera-heavy' });
    const light = run({ scenario: 'llm-heavy' });
    // One site: 2 (mixed) vs 8 (camera-heavy) seg-cam cameras at 5 fps for 2 s, and round(0.25) = 0 for llm-heavy.
    expect(frames(mixed)).toBe(SCENARIOS.mixed.camFlowsPerSite * 5 * 2);
    expect(frames(heavy)).toBe(SCENARIOS['camera-heavy'].camFlowsPerSite * 5 * 2);
    expect(frames(light)).toBe(0);
    expect(frames(run({ scenario: 'camera-heavy', camFlowsPerSite: 1 }))).toBe(10);
    expect(run({ scenario: 'camera-heavy' }).byCategory['latency-single'].total).toBe(mixed.byCategory['latency-single'].total);
  });

  it('rejects an unknown scenario with a typed error', () => {
    expect(() => runScenario({ scenario: 'nope' as never, durationSec: 1, loads: [1], policies: ['epara'] })).toThrow(ConfigError);
  });
});
