import { describe, expect, it } from 'vitest';
import { PROFILES, PROFILE_NAMES, profileFor, serviceTimeMs, throughputRps, workSpec, DEFAULT_WORK } from '../../firmware-sims/profiles.js';
import { PROFILES as SIM, serviceTimeMs as simServiceTimeMs } from '../../src/sim/device-profiles.js';

describe('device profiles and the service-time model', () => {
  it('has the five hardware classes with the device class the protocol knows', () => {
    expect(PROFILE_NAMES).toEqual(['gpu-server', 'embedded-gpu', 'microcomputer', 'mcu', 'fpga']);
    for (const p of Object.values(PROFILES)) {
      expect(p.caps.computeMops).toBeGreaterThan(0);
      expect(p.link.maxFrame).toBeGreaterThanOrEqual(64);
      expect(p.deviceClass).toBe(p.name);
    }
    expect(PROFILES.fpga.caps.formats).toEqual(['int8-fc-weights']);
  });

  it('reports in HELLO the figures the simulator and planner assume for the class', () => {
    for (const p of Object.values(PROFILES)) {
      const s = SIM[p.deviceClass];
      expect(p.caps).toMatchObject({ cpuCores: s.cpuCores, computeMops: s.computeMops, memoryKiB: Math.round(s.memoryMiB * 1024) });
      for (const service of ['classifier', 'llm', 'mlp-classifier', 'unknown']) {
        for (const b of [1, 4]) expect(serviceTimeMs(p, service, b)).toBe(simServiceTimeMs(s, workSpec(service), b));
      }
    }
  });

  it('orders the hardware as it is in reality on a vision model, and knows who cannot run an LLM', () => {
    const t = (['gpu-server', 'embedded-gpu', 'microcomputer'] as const).map((p) => serviceTimeMs(p, 'segmentation'));
    expect(t[0]!).toBeLessThan(t[1]!);
    expect(t[1]!).toBeLessThan(t[2]!);
    expect(serviceTimeMs('microcomputer', 'llm')).toBe(Infinity);
    expect(serviceTimeMs('mcu', 'segmentation')).toBe(Infinity);
    expect(throughputRps('mcu', 'segmentation')).toBe(0);
    expect(Number.isFinite(serviceTimeMs('fpga', 'int8-fc'))).toBe(true);
  });

  it('is monotone in batch, with per-item time falling fastest where batching pays (GPU)', () => {
    for (const p of PROFILE_NAMES) {
      let prev = 0;
      let prevPerItem = Infinity;
      for (let b = 1; b <= 32; b *= 2) {
        const t = serviceTimeMs(p, 'mlp-classifier', b);
        expect(t).toBeGreaterThanOrEqual(prev);
        expect(t / b).toBeLessThanOrEqual(prevPerItem + 1e-9);
        prev = t;
        prevPerItem = t / b;
      }
    }
    const gain = (p: 'gpu-server' | 'microcomputer') => throughputRps(p, 'classifier', 16) / throughputRps(p, 'classifier', 1);
    expect(gain('gpu-server')).toBeGreaterThan(gain('microcomputer'));
  });

  it('uses a default work figure for unknown services and rejects bad arguments', () => {
    expect(workSpec('something-new')).toEqual(DEFAULT_WORK);
    expect(() => serviceTimeMs('gpu-server', 'classifier', 0)).toThrow(RangeError);
    expect(() => profileFor('toaster')).toThrow(/known: gpu-server/);
  });
});
