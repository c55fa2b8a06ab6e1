/**
 * Device profiles: the one service-time model of the device classes, shared by the simulator, the
 * planner's default estimator and the emulated devices. firmware-sims/profiles.ts (the emulators
 * behind `epara fleet` and the demo) takes its HELLO caps (memory, GPU count, cores, compute) and
 * its per-request service time from this table (`DeviceProfile.sim` is the entry below, and its
 * serviceTimeMs calls the function below), so `epara sim` in virtual time and the emulated fleet on
 * real sockets differ only where real links and runtimes do; test/sim/profiles-unified.test.ts
 * checks that they agree for every class.
 *
 * Service-time model (one batch):
 *   t(b) = overheadMs + workMs · workFraction · sizeFactor / speed[kind] · (1 + batchBeta · (b − 1))
 * `workMs` is the service's mean work at batch 1 on the reference device (a gpu-server, speed 1);
 * `batchBeta` is the extra cost of each further item in a batch (small on GPUs, which batch well;
 * near 1 on CPUs). A speed of 0 means the class cannot run that kind at all (t = Infinity).
 * Figures are illustrative orders of magnitude (edge GPU server ≈ 1 data-centre GPU; Jetson-class
 * module ≈ 1/4 of it for LLMs; Raspberry-Pi-class CPU ≈ 1/50 for vision, no LLMs; MCU / FPGA only
 * tiny int8 models), chosen before any experiment was run and not tuned per policy.
 */
import type { DeviceClass, DeviceState, Estimator, ServiceSpec } from '../scheduler/types.js';

export interface DeviceProfile {
  deviceClass: DeviceClass;
  memoryMiB: number;
  gpuCount: number;
  cpuCores: number;
  /** Sustained million ops/s (HELLO caps.computeMops). */
  computeMops: number;
  /** Speed relative to a gpu-server per workload kind. */
  speed: Record<string, number>;
  overheadMs: number;
  batchBeta: number;
  /** Batches of different services the device runs at once (GPU streams / MPS; 1 on CPUs and MCUs). */
  concurrency: number;
  /** Each further concurrent batch slows every new one by this fraction (FarFly measured two tasks on one GPU at ≈0.8× each). */
  mtSlowdown: number;
  /** Model load: fixed part plus a part per GiB of weights. */
  loadBaseMs: number;
  loadMsPerGiB: number;
}

export const PROFILES: Readonly<Record<DeviceClass, DeviceProfile>> = Object.freeze({
  'gpu-server': { deviceClass: 'gpu-server', memoryMiB: 24_576, gpuCount: 1, cpuCores: 32, computeMops: 60_000_000, speed: { llm: 1, vision: 1, tiny: 1 }, overheadMs: 1, batchBeta: 0.08, concurrency: 4, mtSlowdown: 0.25, loadBaseMs: 300, loadMsPerGiB: 250 },
  'embedded-gpu': { deviceClass: 'embedded-gpu', memoryMiB: 16_384, gpuCount: 1, cpuCores: 8, computeMops: 10_000_000, speed: { llm: 0.25, vision: 0.2, tiny: 0.6 }, overheadMs: 2, batchBeta: 0.2, concurrency: 2, mtSlowdown: 0.35, loadBaseMs: 400, loadMsPerGiB: 600 },
  microcomputer: { deviceClass: 'microcomputer', memoryMiB: 3_584, gpuCount: 0, cpuCores: 4, computeMops: 200_000, speed: { llm: 0, vision: 0.08, tiny: 0.2 }, overheadMs: 3, batchBeta: 0.85, concurrency: 1, mtSlowdown: 1, loadBaseMs: 500, loadMsPerGiB: 2_000 },
  mcu: { deviceClass: 'mcu', memoryMiB: 0.5, gpuCount: 0, cpuCores: 1, computeMops: 200, speed: { tiny: 0.01 }, overheadMs: 1, batchBeta: 1, concurrency: 1, mtSlowdown: 1, loadBaseMs: 200, loadMsPerGiB: 400_000 },
  fpga: { deviceClass: 'fpga', memoryMiB: 0.22, gpuCount: 0, cpuCores: 0, computeMops: 2_000, speed: { tiny: 0.3 }, overheadMs: 0.5, batchBeta: 1, concurrency: 1, mtSlowdown: 1, loadBaseMs: 100, loadMsPerGiB: 2_000_000 },
});

export function serviceTimeMs(profile: DeviceProfile, service: Pick<ServiceSpec, 'kind' | 'workMs'>, batch: number, workFraction = 1, sizeFactor = 1): number {
  const speed = profile.speed[service.kind] ?? 0;
  if (!(speed > 0)) return Infinity;
  const b = Math.max(1, batch);
  return profile.overheadMs + ((service.workMs * workFraction * sizeFactor) / speed) * (1 + profile.batchBeta * (b - 1));
}

export function loadTimeMs(profile: DeviceProfile, memoryMiB: number): number {
  return profile.loadBaseMs + (profile.loadMsPerGiB * memoryMiB) / 1024;
}

/** The planner's estimator built from the profiles (a device is modelled by its class). */
export function profileEstimator(profiles: Readonly<Record<DeviceClass, DeviceProfile>> = PROFILES): Estimator {
  return {
    serviceTimeMs: (d: DeviceState, s: ServiceSpec, batch: number, workFraction = 1, sizeFactor = 1) => serviceTimeMs(profiles[d.deviceClass], s, batch, workFraction, sizeFactor),
    loadTimeMs: (d: DeviceState, _s: ServiceSpec, memoryMiB: number) => loadTimeMs(profiles[d.deviceClass], memoryMiB),
    sharing: (d: DeviceState) => ({ streams: profiles[d.deviceClass].concurrency, slowdown: profiles[d.deviceClass].mtSlowdown }),
  };
}
