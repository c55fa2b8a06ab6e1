/** The default scenario's fixed parts: where the trace is found, the fleet, and the balanced metrics. */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MetricsCollector } from '../../src/sim/metrics.js';
import { DEFAULT_TRACE_PATH, defaultFleet, repoRoot } from '../../src/sim/scenario.js';

describe('default trace path', () => {
  it('walks up from a nested folder to the one holding package.json', () => {
    const root = mkdtempSync(join(tmpdir(), 'epara-root-'));
    writeFileSync(join(root, 'package.json'), '{}');
    const deep = join(root, 'dist', 'src', 'sim');
    mkdirSync(deep, { recursive: true });
    expect(repoRoot(deep)).toBe(root);
  });

  it.skipIf(process.env.EPARA_AZURE_TRACE !== undefined)('resolves to the trace vendored in the repository', () => {
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
