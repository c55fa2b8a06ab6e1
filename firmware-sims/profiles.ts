/**
 * Device profiles for the emulated fleet and the scheduling simulator: what each class of
 * hardware reports in HELLO, which links it speaks, and how long it takes to serve a request.
 *
 * Service-time model (also read by src/sim):
 *
 *   serviceTimeMs(profile, service, batch) = fixedMs + workMops(service) · batch^batchExponent / mopsPerMs
 *
 * `fixedMs` is per-run overhead (kernel launch, Python-free runtime dispatch, DMA setup);
 * `mopsPerMs` the sustained throughput on this class of hardware; `batchExponent` < 1 says how
 * much a batch is amortised (a GPU's wide units are mostly idle at batch 1, a CPU's are not).
 * Figures are order-of-magnitude for the hardware named, so a fleet of them behaves like one:
 * an A100-class server is ~1000× a Raspberry Pi 4 on a segmentation net, and an MCU can only
 * hold tiny models. They are inputs to experiments, not measurements.
 */
import type { Capabilities, DeviceClass } from '../src/protocol/index.js';

export type ProfileName = 'gpu-server' | 'embedded-gpu' | 'microcomputer' | 'mcu' | 'fpga';

export interface ServiceTimeParams {
  fixedMs: number;
  mopsPerMs: number;
  batchExponent: number;
  /** Largest batch worth forming on this hardware (memory / latency bound). */
  maxBatch: number;
}

export interface DeviceProfile {
  name: ProfileName;
  deviceClass: DeviceClass;
  description: string;
  caps: Capabilities;
  /** Frame size and receive window the device offers in HELLO. */
  link: { maxFrame: number; rxWindow: number; preferred: 'tcp' | 'uart' | 'spp' | 'ble' };
  time: ServiceTimeParams;
  /** Largest artifact the device stores, bytes. */
  maxArtifactBytes: number;
}

/** Work per request item, million operations (multiply-adds count as 2). */
export const SERVICE_WORK_MOPS: Readonly<Record<string, number>> = {
  // The fixture models in fixtures/models (what the emulators really execute).
  'mlp-classifier': 0.0013,
  'conv-segmenter': 0.01,
  'token-decoder': 0.03,
  'int8-fc': 0.002,
  // Workloads of the EPARA case studies, for simulations with realistic figures.
  classifier: 4000, // ResNet-50-class image classifier
  segmentation: 10_000, // DeepLab-class segmentation at 512×512
  'llm-token': 14_000, // one decode step of a 7B decoder
  llm: 14_000, // alias used by the demo
};

/** Work assumed for a service the table does not know. */
export const DEFAULT_WORK_MOPS = 100;

const GiB = 1024 * 1024;

export const PROFILES: Readonly<Record<ProfileName, DeviceProfile>> = {
  'gpu-server': {
    name: 'gpu-server',
    deviceClass: 'gpu-server',
    description: 'GPU edge server (2× data-centre GPU, 32 cores)',
    caps: { cpuCores: 32, memoryKiB: 256 * GiB, gpuCount: 2, gpuMemoryKiB: 80 * GiB, accelerators: ['cuda'], computeMops: 20_000_000, runtimes: ['onnx', 'custom'], formats: ['onnx'], transports: ['tcp', 'tls'] },
    link: { maxFrame: 16384, rxWindow: 32, preferred: 'tcp' },
    time: { fixedMs: 1.5, mopsPerMs: 20_000, batchExponent: 0.35, maxBatch: 32 },
    maxArtifactBytes: 8 * 1024 * GiB,
  },
  'embedded-gpu': {
    name: 'embedded-gpu',
    deviceClass: 'embedded-gpu',
    description: 'Jetson-class embedded GPU (6 ARM cores, shared 8 GiB)',
    caps: { cpuCores: 6, memoryKiB: 8 * GiB, gpuCount: 1, gpuMemoryKiB: 8 * GiB, accelerators: ['cuda', 'dla'], computeMops: 1_500_000, runtimes: ['onnx', 'custom'], formats: ['onnx'], transports: ['tcp', 'tls', 'ble'] },
    link: { maxFrame: 8192, rxWindow: 16, preferred: 'tcp' },
    time: { fixedMs: 3, mopsPerMs: 1500, batchExponent: 0.6, maxBatch: 8 },
    maxArtifactBytes: 64 * GiB,
  },
  microcomputer: {
    name: 'microcomputer',
    deviceClass: 'microcomputer',
    description: 'Raspberry-Pi-class microcomputer (4 Cortex-A72 cores, 4 GiB)',
    caps: { cpuCores: 4, memoryKiB: 4 * GiB, computeMops: 10_000, runtimes: ['onnx', 'custom'], formats: ['onnx'], transports: ['tcp', 'uart', 'ble'] },
    link: { maxFrame: 4096, rxWindow: 8, preferred: 'tcp' },
    time: { fixedMs: 2, mopsPerMs: 10, batchExponent: 0.95, maxBatch: 4 },
    maxArtifactBytes: 16 * GiB,
  },
  mcu: {
    name: 'mcu',
    deviceClass: 'mcu',
    description: 'Microcontroller (Cortex-M4 at 120 MHz, 512 KiB RAM)',
    caps: { cpuCores: 1, memoryKiB: 512, computeMops: 100, runtimes: ['onnx', 'custom'], formats: ['onnx'], transports: ['uart', 'ble'] },
    link: { maxFrame: 512, rxWindow: 2, preferred: 'uart' },
    time: { fixedMs: 1, mopsPerMs: 0.1, batchExponent: 1, maxBatch: 1 },
    maxArtifactBytes: 256 * 1024,
  },
  fpga: {
    name: 'fpga',
    deviceClass: 'fpga',
    description: 'Basys 3 FPGA int8 FC endpoint behind an HC-05 (SPP, 9600 baud)',
    caps: { cpuCores: 0, memoryKiB: 225, accelerators: ['int8-fc'], computeMops: 50, runtimes: ['int8-fc'], formats: ['int8-fc-weights'], transports: ['spp', 'uart'] },
    link: { maxFrame: 256, rxWindow: 1, preferred: 'spp' },
    time: { fixedMs: 0.2, mopsPerMs: 0.05, batchExponent: 1, maxBatch: 1 },
    maxArtifactBytes: 64 * 1024,
  },
};

export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

export function profileFor(name: string): DeviceProfile {
  const p = (PROFILES as Record<string, DeviceProfile>)[name];
  if (!p) throw new RangeError(`unknown device profile ${JSON.stringify(name)}; known: ${PROFILE_NAMES.join(', ')}`);
  return p;
}

export function workMops(service: string): number {
  return SERVICE_WORK_MOPS[service] ?? DEFAULT_WORK_MOPS;
}

/**
 * Modelled time for one run of `batch` requests of `service` on `profile`, in milliseconds.
 * Monotone non-decreasing in batch; per-item time non-increasing in batch.
 */
export function serviceTimeMs(profile: DeviceProfile | ProfileName, service: string, batch = 1): number {
  const p = typeof profile === 'string' ? profileFor(profile) : profile;
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch must be a positive integer, got ${batch}`);
  return p.time.fixedMs + (workMops(service) * batch ** p.time.batchExponent) / p.time.mopsPerMs;
}

/** Requests per second one device sustains for `service` at `batch` (the allocator's capacity figure). */
export function throughputRps(profile: DeviceProfile | ProfileName, service: string, batch = 1): number {
  return (1000 * batch) / serviceTimeMs(profile, service, batch);
}
