/**
 * The task-categorized parallelism allocator: for one service and one device (or device group) it
 * decides the parallel mode and its settings.
 *  - data parallel: a replica per device; a frequency service needs ceil(target rate / one device's rate);
 *  - model parallel: a pipeline over a device group when the model fits no single device, with the
 *    model split in proportion to each stage's free memory and the link between stages charged;
 *  - batching: the largest batch whose service time stays within `slack` × the SLO budget, and at
 *    run time a batch that doubles under queue pressure and halves when the queue drains;
 *  - several services sharing a device: each unit gets a `share` of the device's time;
 *  - frame packing: frames of a flow join the same batch (a batch counts frames, not flows).
 * Every decision checks memory, GPU count and compute (an Infinity service time means "cannot run").
 */
import { gpuNeedOf, sensitivityOf } from './categories.js';
import type { Assignment, DeviceState, Estimator, LinkSpec, ServiceSpec } from './types.js';

export interface AllocatorOptions {
  /** Fraction of the SLO budget one batch may take on an idle device; the rest absorbs queueing. */
  slack: number;
  /** Most pipeline stages in one model-parallel group. */
  maxStages: number;
  /**
   * The handler the plan is for forms latency services' batches by length (EPARA's
   * `sizeAwareBatch`): plan their batches with `bucketedSpread` instead of the FCFS `sizeSpread`,
   * so the planner models the batches its own handler makes (default false: FCFS batches).
   */
  lengthBucketing?: boolean;
}

export const DEFAULT_ALLOCATOR: AllocatorOptions = { slack: 0.5, maxStages: 4 };

export function maxBatchOf(s: ServiceSpec): number {
  return s.maxBatch ?? 16;
}

/**
 * A batch of b requests lasts as long as its largest one: the factor on t(b) for planning rates,
 * as the handler forms batches (FCFS: the longest of b random requests; length bucketing: less).
 */
export function spreadOf(s: ServiceSpec, batch: number, lengthBucketing = false): number {
  if (batch <= 1) return 1;
  const fcfs = Math.max(1, s.sizeSpread ?? 1);
  return lengthBucketing && sensitivityOf(s.category) === 'latency' ? Math.max(1, Math.min(fcfs, s.bucketedSpread ?? fcfs)) : fcfs;
}

/** GPU need of a service kind: LLMs and vision models need an accelerator when they are large. */
export function needsGpu(s: ServiceSpec): boolean {
  return s.kind === 'llm';
}

/** Largest batch that fits the budget on this device for this share of the model, or null. */
export function chooseBatch(est: Estimator, device: DeviceState, s: ServiceSpec, workFraction: number, budgetMs: number): { batch: number; timeMs: number } | null {
  const t1 = est.serviceTimeMs(device, s, 1, workFraction);
  if (!Number.isFinite(t1) || t1 > budgetMs) return null;
  let best = { batch: 1, timeMs: t1 };
  // Doubling search: service time is monotone in batch size, so powers of two bracket the answer.
  for (let b = 2; b <= maxBatchOf(s); b *= 2) {
    const t = est.serviceTimeMs(device, s, b, workFraction);
    if (t > budgetMs) break;
    best = { batch: b, timeMs: t };
  }
  return best;
}

function deviceFits(device: DeviceState, s: ServiceSpec, freeMiB: number): boolean {
  if (!device.alive) return false;
  if (needsGpu(s) && device.gpuCount < 1) return false;
  return s.memoryMiB <= freeMiB;
}

/** A single-device replica (data parallelism), or null when memory, GPU or the SLO rule it out. */
export function planReplica(est: Estimator, device: DeviceState, s: ServiceSpec, freeMiB: number, share: number, opts: AllocatorOptions = DEFAULT_ALLOCATOR): Assignment | null {
  if (!deviceFits(device, s, freeMiB) || share <= 0) return null;
  const b = chooseBatch(est, device, s, 1, opts.slack * s.deadlineMs);
  if (!b) return null;
  return {
    service: s.name,
    devices: [device.id],
    stageFractions: [1],
    share,
    batch: b.batch,
    rateRps: (share * b.batch * 1000) / (b.timeMs * spreadOf(s, b.batch, opts.lengthBucketing)),
    latencyMs: b.timeMs,
  };
}

/** Latency and transfer time of one hop between two devices for a batch of activations. */
export function hopMs(links: LinkSpec, a: DeviceState, b: DeviceState, s: ServiceSpec, batch: number): { latencyMs: number; transferMs: number } {
  const same = a.zone === b.zone;
  const mbps = same ? links.intraZoneMBps : links.interZoneMBps;
  const transferMs = ((s.activationKiB ?? 0) * batch) / 1024 / mbps * 1000;
  return { latencyMs: (same ? links.intraZoneMs : links.interZoneMs) + transferMs, transferMs };
}

/**
 * A pipeline of `s` over `group` (in stage order): the model split by splitModel, or `split` when
 * given (the shards the devices already hold, which a replan keeps unless re-splitting is worth the
 * reload); a stage's time is its share of the work; the slowest stage or link bounds the rate; the
 * largest batch within the SLO budget. Null when it cannot meet the SLO or does not fit.
 */
export function planGroup(est: Estimator, group: DeviceState[], s: ServiceSpec, freeMiB: (d: DeviceState) => number, share: number, links: LinkSpec, opts: AllocatorOptions = DEFAULT_ALLOCATOR, split?: readonly number[]): Assignment | null {
  if (group.length < 2 || group.length > opts.maxStages || share <= 0) return null;
  if (needsGpu(s) && group.some((d) => d.gpuCount < 1)) return null;
  const fractions = split ? fixedSplit(group, s, freeMiB, split) : splitModel(est, group, s, freeMiB);
  if (!fractions) return null;
  const budget = opts.slack * s.deadlineMs;
  let best: Assignment | null = null;
  for (let b = 1; b <= maxBatchOf(s); b *= 2) {
    let latency = 0;
    let bottleneck = 0;
    for (let i = 0; i < group.length; i++) {
      const t = est.serviceTimeMs(group[i]!, s, b, fractions[i]!);
      if (!Number.isFinite(t)) return null;
      latency += t;
      bottleneck = Math.max(bottleneck, t);
      if (i > 0) {
        const h = hopMs(links, group[i - 1]!, group[i]!, s, b);
        latency += h.latencyMs;
        bottleneck = Math.max(bottleneck, h.transferMs);
      }
    }
    if (latency > budget) break;
    best = {
      service: s.name,
      devices: group.map((d) => d.id),
      stageFractions: fractions,
      share,
      batch: b,
      rateRps: (share * b * 1000) / (bottleneck * spreadOf(s, b, opts.lengthBucketing)),
      latencyMs: latency,
    };
  }
  return best;
}

/**
 * Whether two shares of a model are the same shard (within float noise): where they differ, the
 * device needs a new shard loaded. One test for the planner, the placement diff and the simulator.
 */
export function sameShare(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9;
}

/** A given split, if every stage's shard fits its device's free memory and the shards make up the model. */
function fixedSplit(group: DeviceState[], s: ServiceSpec, freeMiB: (d: DeviceState) => number, split: readonly number[]): number[] | null {
  if (split.length !== group.length || Math.abs(split.reduce((a, b) => a + b, 0) - 1) > 1e-6) return null;
  for (let i = 0; i < group.length; i++) {
    const d = group[i]!;
    if (!d.alive || !(split[i]! > 0) || split[i]! * s.memoryMiB > freeMiB(d) + 1e-6) return null;
  }
  return [...split];
}

/**
 * How much of the model each stage holds: in proportion to each device's speed (balanced stages
 * make the best pipeline), capped by the memory it has free, the excess going to the others
 * (water-filling). Null when the group's free memory cannot hold the model.
 */
export function splitModel(est: Estimator, group: DeviceState[], s: ServiceSpec, freeMiB: (d: DeviceState) => number): number[] | null {
  const cap = group.map((d) => (d.alive ? Math.max(0, freeMiB(d)) / s.memoryMiB : 0));
  if (cap.reduce((a, b) => a + b, 0) < 1 - 1e-9 || cap.some((c) => c <= 0)) return null;
  const speed = group.map((d) => 1 / est.serviceTimeMs(d, s, 1, 1));
  if (speed.some((v) => !(v > 0))) return null;
  const f = new Array<number>(group.length).fill(0);
  const open = new Set(group.map((_, i) => i));
  let left = 1;
  while (left > 1e-12 && open.size > 0) {
    let w = 0;
    for (const i of open) w += speed[i]!;
    let capped = false;
    for (const i of [...open]) {
      const want = (left * speed[i]!) / w;
      if (f[i]! + want >= cap[i]! - 1e-12) {
        left -= cap[i]! - f[i]!;
        f[i] = cap[i]!;
        open.delete(i);
        capped = true;
      }
    }
    if (!capped) {
      for (const i of open) f[i]! += (left * speed[i]!) / w;
      left = 0;
    }
  }
  return left > 1e-9 ? null : f;
}

/**
 * Candidate device groups for a model-parallel service: within each zone (fast links), devices
 * ordered fastest first, packed until their free memory holds the model; then the same across the
 * whole fleet. Groups of one pass are disjoint; the two passes may share devices (the greedy picks).
 */
export function formGroups(est: Estimator, devices: DeviceState[], s: ServiceSpec, freeMiB: (d: DeviceState) => number, links: LinkSpec, opts: AllocatorOptions = DEFAULT_ALLOCATOR, limit = 64): DeviceState[][] {
  // One estimate per device (planPlacement calls this for every model-parallel service on the whole fleet).
  const eligible: DeviceState[] = [];
  const speed = new Map<string, number>();
  for (const d of devices) {
    if (!d.alive || !(freeMiB(d) > 0) || (needsGpu(s) && d.gpuCount < 1)) continue;
    const ms = est.serviceTimeMs(d, s, 1, 1);
    if (!Number.isFinite(ms)) continue;
    eligible.push(d);
    speed.set(d.id, ms);
  }
  const byZone = new Map<string, DeviceState[]>();
  for (const d of eligible) {
    const z = byZone.get(d.zone) ?? [];
    z.push(d);
    byZone.set(d.zone, z);
  }
  const groups: DeviceState[][] = [];
  let budget = limit;
  const pack = (list: DeviceState[]): void => {
    list.sort((a, b) => speed.get(a.id)! - speed.get(b.id)! || freeMiB(b) - freeMiB(a) || (a.id < b.id ? -1 : 1));
    let cur: DeviceState[] = [];
    let mem = 0;
    for (const d of list) {
      if (budget <= 0) return;
      cur.push(d);
      mem += freeMiB(d);
      if (mem >= s.memoryMiB) {
        if (cur.length >= 2 && cur.length <= opts.maxStages) {
          groups.push(cur);
          budget--;
        }
        cur = [];
        mem = 0;
      } else if (cur.length >= opts.maxStages) {
        cur = [];
        mem = 0;
      }
    }
  };
  for (const zone of [...byZone.keys()].sort()) pack([...byZone.get(zone)!]);
  // Then across zones (slower links): the fastest devices of the fleet, which may sit in different sites.
  const before = groups.length;
  budget = Math.max(1, Math.ceil(limit / 2));
  pack([...eligible]);
  // Drop cross-zone duplicates of a group already formed inside one zone.
  const seen = new Set(groups.slice(0, before).map((g) => g.map((d) => d.id).join('+')));
  return groups.filter((g, i) => i < before || !seen.has(g.map((d) => d.id).join('+')));
}

/**
 * Device time, in units of one service running alone, that `units` services sharing a device can
 * use together: m = min(units, streams) batches run at once, each slowed by `slowdown` per other one,
 * so m / (1 + slowdown·(m − 1)) — FarFly measured two tasks on one GPU at ≈ 0.8× each, 1.6 in all.
 * 1 for a time-sliced device (streams 1) or a single unit. Planning a GPU server as 1 while its
 * runtime runs a camera batch next to an LLM batch undersold it and pushed co-locatable units away.
 */
export function sharedCapacity(units: number, sharing?: { streams: number; slowdown: number }): number {
  if (!sharing || units <= 1) return 1;
  const m = Math.max(1, Math.min(units, Math.floor(sharing.streams)));
  return m / (1 + Math.max(0, sharing.slowdown) * (m - 1));
}

/** Queueing-tail factor of frameShareCap: the p99-ish wait is taken as this many mean (M/D/1) waits. */
export const FRAME_TAIL = 3;

/**
 * Most of a device's time a frequency-sensitive unit should be planned to fill. Frames have a fixed
 * budget B and a batch takes t on this device; with the device busy a fraction ρ of the time the
 * mean M/D/1 wait is ρ·t / (2(1 − ρ)), and a frame meets its budget while t + FRAME_TAIL × that
 * wait ≤ B, i.e. ρ ≤ 2q / (FRAME_TAIL + 2q) with q = (B − t) / t. A GPU server doing a 16-frame
 * batch in 27 ms of a 250 ms budget may run near full (q ≈ 8, ρ ≤ 0.85); a Jetson whose 4-frame
 * batch takes 98 ms only to about half (q ≈ 1.5, ρ ≤ 0.5) — filling slow devices to the edge of
 * their frame budget is what made camera frames miss at high load. Latency-sensitive units return 1:
 * their deadlines scale with the request, and admission control rejects what cannot make it.
 */
export function frameShareCap(s: ServiceSpec, batchMs: number): number {
  if (sensitivityOf(s.category) !== 'frequency') return 1;
  if (!(batchMs > 0) || batchMs >= s.deadlineMs) return 0;
  const q = (s.deadlineMs - batchMs) / batchMs;
  return Math.min(1, (2 * q) / (FRAME_TAIL + 2 * q));
}

/** Replicas a frequency flow (or any demand) needs: target rate over one device's rate, rounded up. */
export function replicasFor(demandRps: number, perReplicaRps: number): number {
  if (demandRps <= 0) return 0;
  if (!(perReplicaRps > 0)) return Infinity;
  return Math.ceil(demandRps / perReplicaRps - 1e-9);
}

export interface AllocationSummary {
  service: string;
  mode: 'data-parallel' | 'model-parallel' | 'infeasible';
  /** Units (replicas or groups) needed to carry the demand with the best unit found. */
  units: number;
  batch: number;
  perUnitRps: number;
  unit?: Assignment;
}

/**
 * What the allocator would do for a service on a fleet where every device is empty: the mode the
 * category and memory call for, the best unit, and how many of them the demand needs.
 */
export function allocate(est: Estimator, devices: DeviceState[], s: ServiceSpec, links: LinkSpec, opts: AllocatorOptions = DEFAULT_ALLOCATOR): AllocationSummary {
  let best: Assignment | null = null;
  for (const d of devices) {
    const a = planReplica(est, d, s, d.memoryMiB, 1, opts);
    if (a && (!best || a.rateRps > best.rateRps)) best = a;
  }
  let mode: AllocationSummary['mode'] = 'data-parallel';
  if (!best && gpuNeedOf(s.category) === 'multi') {
    mode = 'model-parallel';
    for (const g of formGroups(est, devices, s, (d) => d.memoryMiB, links, opts)) {
      const a = planGroup(est, g, s, (d) => d.memoryMiB, 1, links, opts);
      if (a && (!best || a.rateRps > best.rateRps)) best = a;
    }
  }
  if (!best) return { service: s.name, mode: 'infeasible', units: 0, batch: 0, perUnitRps: 0 };
  return { service: s.name, mode, units: replicasFor(s.demandRps, best.rateRps), batch: best.batch, perUnitRps: best.rateRps, unit: best };
}

/** Run-time batch adaptation: double under queue pressure, halve when the queue drains. */
export function adaptBatch(current: number, queueLen: number, maxBatch: number): number {
  if (queueLen >= 2 * current && current < maxBatch) return Math.min(maxBatch, current * 2);
  if (queueLen < current / 2 && current > 1) return Math.max(1, Math.floor(current / 2));
  return current;
}
