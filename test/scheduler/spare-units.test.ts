/**
 * Devices the greedy leaves idle go to the worst-covered service (spare-units.ts). Before, the
 * plan stopped at demand × burst × headroom and left the rest of the fleet idle: on the conv
 * trace's mixed scenario at ×0.125 chat-13b had one pipeline on a fleet 95% idle, and a short
 * request waiting behind a long one at its stage 1 failed the service's 99% (docs §7).
 */
import { describe, expect, it } from 'vitest';
import { planPlacement, EMPTY_PLACEMENT } from '../../src/scheduler/placement.js';
import { cam, device, est, llm, LINKS } from './fixtures.js';
import type { ClusterState, DeviceState } from '../../src/scheduler/types.js';

const cluster = (devices: DeviceState[]): ClusterState => ({ nowMs: 0, devices, links: LINKS });

describe('spare units on idle devices', () => {
  const fleet = [0, 1, 2, 3, 4, 5].map((i) => device(`g${i}`, 'gpu-server'));
  const services = [llm('chat', 14_336, 0.05), cam(5)];

  it('a light load leaves no device idle that a service could use, and no service loses supply', () => {
    const without = planPlacement(cluster(fleet), services, EMPTY_PLACEMENT, { estimator: est, spareUnits: false });
    const withSpares = planPlacement(cluster(fleet), services, EMPTY_PLACEMENT, { estimator: est });
    const used = (r: typeof without): Set<string> => new Set(r.placement.assignments.flatMap((u) => u.devices));
    expect(used(without).size).toBeLessThan(fleet.length);
    expect(used(withSpares).size).toBe(fleet.length);
    for (const s of services) expect(withSpares.stats.supplyRps[s.name]!).toBeGreaterThanOrEqual(without.stats.supplyRps[s.name]! - 1e-9);
    // Each spare went to an idle device: no device holds more units than it did without spares, plus none where it had one.
    const before = new Map<string, number>();
    for (const u of without.placement.assignments) for (const d of u.devices) before.set(d, (before.get(d) ?? 0) + 1);
    for (const u of withSpares.placement.assignments) for (const d of u.devices) if (before.has(d)) expect(without.placement.assignments.some((w) => w.service === u.service && w.devices.includes(d))).toBe(true);
  });

  it('the worst-covered service gets each spare first (max-min of supply over demand)', () => {
    const r = planPlacement(cluster(fleet), services, EMPTY_PLACEMENT, { estimator: est });
    const units = (name: string): number => r.placement.assignments.filter((u) => u.service === name).length;
    // Both services got spares, the LLM (far less supply per device over its demand) included.
    expect(units('chat')).toBeGreaterThan(1);
    expect(units('seg')).toBeGreaterThanOrEqual(1);
  });

  it('a spare whose load takes longer than the window is not placed (it would serve nothing in it)', () => {
    const slow = [llm('chat', 14_336, 0.05, { loadMs: 120_000 })];
    const current = { version: 1, assignments: [{ service: 'chat', devices: ['g0'], stageFractions: [1], share: 1, batch: 16, rateRps: 2.8, latencyMs: 5000 }] };
    const r = planPlacement(cluster(fleet), slow, current, { estimator: est });
    expect(r.stats.loads).toBe(0);
    expect(r.placement.assignments.length).toBe(1);
  });
});
