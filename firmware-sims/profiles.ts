/**
 * Device profiles for the emulated fleet: what each class of hardware reports in HELLO, which
 * links it speaks, how much it stores, and how long it takes to serve a request.
 *
 * One time model for the whole project: the figures (speed per workload kind, per-run overhead,
 * batch cost, cores, memory, compute) come from src/sim/device-profiles.ts, the model the
 * scheduler's planner and the discrete-event simulator use. So `epara sim` (virtual time) and
 * `epara fleet` (real sockets) disagree only where real links and real runtimes do.
 *
 *   serviceTimeMs(profile, service, batch) = overheadMs + workMs/speed[kind] · (1 + batchBeta·(batch − 1))
 *
 * A service name maps to a workload kind and its work at batch 1 on the reference GPU server
 * (SERVICE_SPECS); a device class with speed 0 for that kind cannot run it (Infinity).
 */
import type { Capabilities, DeviceClass } from '../src/protocol/index.js';
import { PROFILES as SIM_PROFILES, serviceTimeMs as simServiceTimeMs, type DeviceProfile as SimProfile } from '../src/sim/device-profiles.js';

export type ProfileName = 'gpu-server' | 'embedded-gpu' | 'microcomputer' | 'mcu' | 'fpga';

export interface DeviceProfile {
  name: ProfileName;
  deviceClass: DeviceClass;
  description: string;
  caps: Capabilities;
  /** Frame size and receive window the device offers in HELLO. */
  link: { maxFrame: number; rxWindow: number; preferred: 'tcp' | 'uart' | 'spp' | 'ble' };
  /** The time model's figures (shared with the simulator). */
  sim: SimProfile;
  /** Largest artifact the device stores, bytes. */
  maxArtifactBytes: number;
}

export interface WorkSpec {
  /** Workload kind: 'llm', 'vision' or 'tiny' (the simulator's speed table keys). */
  kind: string;
  /** Work at batch 1 on the reference device (a gpu-server), ms. */
  workMs: number;
}

/** Work per request by service name. */
export const SERVICE_SPECS: Readonly<Record<string, WorkSpec>> = {
  // The fixture models in fixtures/models (what the emulators really execute).
  'mlp-classifier': { kind: 'tiny', workMs: 0.05 },
  'conv-segmenter': { kind: 'tiny', workMs: 0.1 },
  'token-decoder': { kind: 'tiny', workMs: 0.2 },
  'int8-fc': { kind: 'tiny', workMs: 0.05 },
  // Workloads of the EPARA case studies (the names the demo deploys its fixture models under).
  classifier: { kind: 'vision', workMs: 2 }, // ResNet-50-class image classifier
  segmentation: { kind: 'vision', workMs: 4 }, // camera-stream segmentation (the simulator's seg-cam)
  llm: { kind: 'llm', workMs: 25 }, // one decode step of a 7B decoder
  'llm-token': { kind: 'llm', workMs: 25 },
};

/** Work assumed for a service the table does not know: a small model any device can run. */
export const DEFAULT_WORK: WorkSpec = { kind: 'tiny', workMs: 0.5 };

const GiB = 1024 * 1024;

function caps(sim: SimProfile, extra: Omit<Capabilities, 'cpuCores' | 'memoryKiB' | 'computeMops'>): Capabilities {
  return {
    cpuCores: sim.cpuCores,
    memoryKiB: Math.round(sim.memoryMiB * 1024),
    computeMops: sim.computeMops,
    ...(sim.gpuCount ? { gpuCount: sim.gpuCount, gpuMemoryKiB: Math.round(sim.memoryMiB * 1024) } : {}),
    ...extra,
  };
}

const sim = SIM_PROFILES;

export const PROFILES: Readonly<Record<ProfileName, DeviceProfile>> = {
  'gpu-server': {
    name: 'gpu-server',
    deviceClass: 'gpu-server',
    description: 'GPU edge server (data-centre GPU, 32 cores)',
    caps: caps(sim['gpu-server'], { accelerators: ['cuda'], runtimes: ['onnx', 'custom'], formats: ['onnx'], transports: ['tcp', 'tls'] }),
    link: { maxFrame: 16384, rxWindow: 32, preferred: 'tcp' },
    sim: sim['gpu-server'],
    maxArtifactBytes: 64 * 1024 * GiB,
  },
  'embedded-gpu': {
    name: 'embedded-gpu',
    deviceClass: 'embedded-gpu',
    description: 'Jetson-class embedded GPU (8 ARM cores, shared memory)',
    caps: caps(sim['embedded-gpu'], { accelerators: ['cuda', 'dla'], runtimes: ['onnx', 'custom'], formats: ['onnx'], transports: ['tcp', 'tls', 'ble'] }),
    link: { maxFrame: 8192, rxWindow: 16, preferred: 'tcp' },
    sim: sim['embedded-gpu'],
    maxArtifactBytes: 32 * 1024 * GiB,
  },
  microcomputer: {
    name: 'microcomputer',
    deviceClass: 'microcomputer',
    description: 'Raspberry-Pi-class microcomputer (4 Cortex-A72 cores)',
    caps: caps(sim.microcomputer, { runtimes: ['onnx', 'custom'], formats: ['onnx'], transports: ['tcp', 'uart', 'ble'] }),
    link: { maxFrame: 4096, rxWindow: 8, preferred: 'tcp' },
    sim: sim.microcomputer,
    maxArtifactBytes: 16 * 1024 * GiB,
  },
  mcu: {
    name: 'mcu',
    deviceClass: 'mcu',
    description: 'Microcontroller (Cortex-M4 class, 512 KiB RAM)',
    caps: caps(sim.mcu, { runtimes: ['onnx', 'custom'], formats: ['onnx'], transports: ['uart', 'ble'] }),
    link: { maxFrame: 512, rxWindow: 2, preferred: 'uart' },
    sim: sim.mcu,
    maxArtifactBytes: 256 * 1024,
  },
  fpga: {
    name: 'fpga',
    deviceClass: 'fpga',
    description: 'Basys 3 FPGA int8 FC endpoint behind an HC-05 (SPP, 9600 baud)',
    caps: caps(sim.fpga, { accelerators: ['int8-fc'], runtimes: ['int8-fc'], formats: ['int8-fc-weights'], transports: ['spp', 'uart'] }),
    link: { maxFrame: 256, rxWindow: 1, preferred: 'spp' },
    sim: sim.fpga,
    maxArtifactBytes: 64 * 1024,
  },
};

export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

export function profileFor(name: string): DeviceProfile {
  const p = (PROFILES as Record<string, DeviceProfile>)[name];
  if (!p) throw new RangeError(`unknown device profile ${JSON.stringify(name)}; known: ${PROFILE_NAMES.join(', ')}`);
  return p;
}

export function workSpec(service: string): WorkSpec {
  return SERVICE_SPECS[service] ?? DEFAULT_WORK;
}

/**
 * Modelled time for one run of `batch` requests of `service` on `profile`, in milliseconds;
 * Infinity when the class cannot run the service's kind. Monotone non-decreasing in batch;
 * per-item time non-increasing in batch.
 */
export function serviceTimeMs(profile: DeviceProfile | ProfileName, service: string, batch = 1): number {
  const p = typeof profile === 'string' ? profileFor(profile) : profile;
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch must be a positive integer, got ${batch}`);
  return simServiceTimeMs(p.sim, workSpec(service), batch);
}

/** Requests per second one device sustains for `service` at `batch` (0 when it cannot run it). */
export function throughputRps(profile: DeviceProfile | ProfileName, service: string, batch = 1): number {
  const t = serviceTimeMs(profile, service, batch);
  return Number.isFinite(t) ? (1000 * batch) / t : 0;
}
