/**
 * What a device tells the server it can do (HELLO caps, SPEC §5.1). CPU cores and memory come
 * from the host; GPUs and accelerators cannot be probed portably from Node, so they come from
 * configuration, as does any figure the operator wants to override.
 */
import { availableParallelism, cpus, totalmem, freemem, loadavg } from 'node:os';
import type { Capabilities } from '../protocol/messages/types.js';

export interface CapabilityConfig {
  cpuCores?: number;
  memoryKiB?: number;
  gpuCount?: number;
  gpuMemoryKiB?: number;
  accelerators?: string[];
  /** Sustained million ops/s; estimated from cores × clock when not given. */
  computeMops?: number;
  runtimes?: string[];
  formats?: string[];
  transports?: string[];
}

/** Host figures merged with configuration; configuration wins. */
export function detectCapabilities(config: CapabilityConfig = {}): Capabilities {
  const cores = config.cpuCores ?? availableParallelism();
  const memoryKiB = config.memoryKiB ?? Math.floor(totalmem() / 1024);
  const mhz = cpus()[0]?.speed || 1000;
  // One op per cycle per core is a floor for scalar code; good enough to rank hosts until an
  // operator measures and configures the real figure.
  const computeMops = config.computeMops ?? cores * mhz;
  const caps: Capabilities = { cpuCores: cores, memoryKiB, computeMops };
  if (config.gpuCount !== undefined) caps.gpuCount = config.gpuCount;
  if (config.gpuMemoryKiB !== undefined) caps.gpuMemoryKiB = config.gpuMemoryKiB;
  if (config.accelerators?.length) caps.accelerators = [...config.accelerators];
  caps.runtimes = config.runtimes ? [...config.runtimes] : ['onnx', 'custom'];
  caps.formats = config.formats ? [...config.formats] : ['onnx'];
  if (config.transports?.length) caps.transports = [...config.transports];
  return caps;
}

/** Host load and free memory for STATE; per-mille of the cores' 1-minute load average. */
export function hostLoad(cores: number): { loadPermille: number; memFreeKiB: number } {
  const l = loadavg()[0] ?? 0;
  return { loadPermille: Math.max(0, Math.min(1000, Math.round((l / Math.max(1, cores)) * 1000))), memFreeKiB: Math.floor(freemem() / 1024) };
}
