/**
 * A candidate unit of the placement greedy (placement.ts) and what it costs. Pure.
 */
import { sameShare } from './allocator.js';
import type { Cohort } from './candidate-cohort.js';
import type { DeviceState, ServiceSpec } from './types.js';

/**
 * What a candidate costs: the devices it occupies, each weighted by its memory relative to the
 * largest device (a GPU server is worth more than a microcomputer). The heap orders candidates
 * by gain per cost (the cost-benefit greedy for budgeted submodular maximisation), so a pipeline
 * over two GPU servers must earn twice what one replica earns; the cost is fixed per candidate, so
 * stale keys stay upper bounds and the lazy evaluation stays exact.
 */
export function costOf(devices: DeviceState[], maxMemory: number): number {
  let c = 0;
  for (const d of devices) c += Math.max(0.05, d.memoryMiB / maxMemory);
  return c;
}

export interface Candidate {
  key: string;
  service: ServiceSpec;
  devices: DeviceState[];
  warm: boolean;
  /** Stale gain per cost: an upper bound on the current one. */
  bound: number;
  cost: number;
  /** Stage 1: a kept unit starts from the share it had, so it cannot squeeze out its co-located units. */
  maxShare?: number;
  /**
   * A loaded pipeline: the split its devices hold. It is evaluated both as loaded (warm) and
   * re-split against the memory free now, the re-split charged the load of every shard that
   * changes; the better gain wins, a tie keeps what is loaded.
   */
  loadedSplit?: readonly number[];
  /** Set on a heap entry that stands for several single-device candidates (candidate-cohort.ts). */
  cohort?: Cohort;
}

/** Whether two splits of a model are the same shards. */
export function sameSplit(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((f, i) => sameShare(f, b[i]!));
}


export function unitKey(service: string, devices: readonly string[]): string {
  return `${service}@${devices.join('+')}`;
}
