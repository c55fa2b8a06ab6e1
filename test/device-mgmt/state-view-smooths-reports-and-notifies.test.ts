import { describe, expect, it } from 'vitest';
import { applyState, emptyView, StateViews, type StateReport } from '../../src/device-mgmt/state-view.js';

const report = (over: Partial<StateReport> = {}, svc: Partial<StateReport['services'][number]> = {}): StateReport => ({
  loadPermille: 500,
  memFreeKiB: 1024,
  services: [{ name: 'resnet', version: '1', status: 'ready', queueLen: 2, served: 10, violations: 0, ...svc }],
  uptimeMs: 1000,
  ...over,
});

describe('applyState', () => {
  it('copies gauges and scales per-mille values', () => {
    const v = applyState(emptyView('pi', 0), report({ gpuPermille: 250, temperatureDeciC: 455 }), 5);
    expect(v).toMatchObject({ load: 0.5, gpu: 0.25, temperatureC: 45.5, memFreeKiB: 1024, reports: 1, updatedAt: 5 });
    expect(v.services[0]).toMatchObject({ name: 'resnet', queueLen: 2, violationRate: 0 });
  });

  it('smooths the violation rate with an EWMA and keeps it when nothing finished', () => {
    let v = applyState(emptyView('pi', 0), report({}, { served: 5, violations: 5 }), 1, 0.5);
    expect(v.services[0]!.violationRate).toBeCloseTo(0.5);
    v = applyState(v, report({ uptimeMs: 2000 }, { served: 10, violations: 0 }), 2, 0.5);
    expect(v.services[0]!.violationRate).toBeCloseTo(0.25);
    v = applyState(v, report({ uptimeMs: 3000 }, { served: 0, violations: 0 }), 3, 0.5);
    expect(v.services[0]!.violationRate).toBeCloseTo(0.25);
  });

  it('derives a served rate from the device uptime delta', () => {
    let v = applyState(emptyView('pi', 0), report({ uptimeMs: 1000 }, { served: 0 }), 1, 1);
    v = applyState(v, report({ uptimeMs: 3000 }, { served: 20 }), 2, 1);
    expect(v.services[0]!.servedPerSec).toBeCloseTo(10);
  });

  it('keeps the protocol-2 memory and smooths busy time per served request; a report without them leaves them out', () => {
    let v = applyState(emptyView('pi', 0), report({}, { served: 4, busyUs: 4000, memKiB: 512 }), 1, 0.5);
    expect(v.services[0]).toMatchObject({ memKiB: 512, busyUsPerServed: 1000 });
    v = applyState(v, report({ uptimeMs: 2000 }, { served: 2, busyUs: 6000, memKiB: 520 }), 2, 0.5);
    expect(v.services[0]).toMatchObject({ memKiB: 520, busyUsPerServed: 2000 });
    // nothing served: the estimate stays
    v = applyState(v, report({ uptimeMs: 3000 }, { served: 0, busyUs: 0, memKiB: 520 }), 3, 0.5);
    expect(v.services[0]!.busyUsPerServed).toBe(2000);
    const v1 = applyState(emptyView('old', 0), report(), 1);
    expect(v1.services[0]!.memKiB).toBeUndefined();
    expect(v1.services[0]!.busyUsPerServed).toBeUndefined();
  });

  it('derives link quality from frame counters', () => {
    const v = applyState(emptyView('fpga', 0), report({ frames: { good: 90, badCrc: 8, oversize: 2 } }), 1);
    expect(v.linkQuality).toBeCloseTo(0.9);
  });
});

describe('StateViews', () => {
  it('notifies subscribers and stops after unsubscribe', () => {
    const views = new StateViews();
    const seen: number[] = [];
    const off = views.subscribe((v) => seen.push(v.reports));
    views.report('pi', report(), 1);
    views.rtt('pi', 12, 2);
    off();
    views.report('pi', report({ uptimeMs: 2000 }), 3);
    expect(seen).toEqual([1, 1]);
    expect(views.get('pi')).toMatchObject({ reports: 2, rttMs: 12 });
  });
});
