/**
 * Continuous (iteration-level) batching of one hosted service on one simulated device: the
 * members of an open batch advance together at the occupancy's per-step rate (simulator.ts, the
 * header's formula). Pure arithmetic on the Group record; the simulation schedules the steps.
 */
import type { InferJob } from '../scheduler/request-handler.js';
import type { Dev, Group, Hosting } from './sim-entities.js';

/** A new, empty batch of hosted service `h` at `stage` (the caller takes a device slot for it). */
export function openGroup(key: string, h: Hosting, stage: number, nowMs: number): Group {
  return { key, service: h.service, stage, members: [], lastMs: nowMs, mt: 1, version: 0 };
}

/** Work per unit of time of each member at the current occupancy. */
export function groupRate(d: Dev, g: Group): number {
  return 1 / ((1 + d.profile.batchBeta * (g.members.length - 1)) * g.mt);
}

/** Account the members' progress up to `nowMs`. */
export function advance(d: Dev, g: Group, nowMs: number): void {
  if (g.members.length > 0 && nowMs > g.lastMs) {
    const progress = (nowMs - g.lastMs) * groupRate(d, g);
    for (const m of g.members) m.remainingMs -= progress;
  }
  g.lastMs = nowMs;
}

/** After a change (a join or a leave): the slowdown from the device's other batches is fixed anew; when the next member is due. */
export function nextDueMs(d: Dev, g: Group, nowMs: number): number {
  g.mt = 1 + d.profile.mtSlowdown * (d.active - 1);
  let least = Infinity;
  for (const m of g.members) least = Math.min(least, m.remainingMs);
  return nowMs + Math.max(0, least) / groupRate(d, g);
}

/** The members whose work is done at `nowMs` leave the batch; returns their jobs. */
export function takeDone(g: Group, nowMs: number): InferJob[] {
  // Floating-point slack: a member due now may be left with a few ulps of work.
  const eps = 1e-9 * Math.max(1, nowMs);
  const left = g.members.filter((m) => m.remainingMs <= eps);
  g.members = g.members.filter((m) => m.remainingMs > eps);
  return left.map((m) => m.job);
}
