import { describe, expect, it } from 'vitest';
import { PROFILES, PROFILE_NAMES, profileFor, serviceTimeMs, throughputRps, workMops, DEFAULT_WORK_MOPS } from '../../firmware-sims/profiles.js';

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

  it('orders the hardware as it is in reality on a heavy model: GPU server < Jetson < Pi < MCU', () => {
    const t = PROFILE_NAMES.filter((p) => p !== 'fpga').map((p) => serviceTimeMs(p, 'segmentation'));
    for (let i = 1; i < t.length; i++) expect(t[i]!).toBeGreaterThan(t[i - 1]!);
    expect(serviceTimeMs('microcomputer', 'segmentation') / serviceTimeMs('gpu-server', 'segmentation')).toBeGreaterThan(100);
  });

  it('is monotone in batch, with per-item time falling fastest where batching pays (GPU)', () => {
    for (const p of PROFILE_NAMES) {
      let prev = 0;
      let prevPerItem = Infinity;
      for (let b = 1; b <= 32; b *= 2) {
        const t = serviceTimeMs(p, 'classifier', b);
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
    expect(workMops('something-new')).toBe(DEFAULT_WORK_MOPS);
    expect(() => serviceTimeMs('gpu-server', 'classifier', 0)).toThrow(RangeError);
    expect(() => profileFor('toaster')).toThrow(/known: gpu-server/);
  });
});
