/**
 * An emulated device: the real EparaDevice (real protocol, real transport, real ONNX sessions)
 * dressed as one of the hardware profiles. Requests take the profile's modelled service time, and
 * behaviour overrides — in the style of Z-Wave JS mock devices — make it misbehave on purpose
 * (drop every Nth chunk, answer late, reboot mid-deployment, send garbage, lie about its
 * capabilities) while the defaults handle everything else.
 */
import { EventEmitter } from 'node:events';
import { EparaDevice, type ArtifactLoader, type DeviceHooks, type EparaDeviceOptions } from '../src/client/device.js';
import type { InferHandler, ServiceRunner } from '../src/client/runner.js';
import type { CapabilityConfig } from '../src/client/capabilities.js';
import type { Capabilities, Message, Tensor } from '../src/protocol/index.js';
import type { ByteStream, Connector } from '../src/transport/byte-stream.js';
import { ConfigError } from '../src/errors.js';
import { mulberry32, type Prng } from './links/prng.js';
import { profileFor, serviceTimeMs, workSpec, type DeviceProfile, type ProfileName } from './profiles.js';
import { inferError } from '../src/client/client-errors.js';
import { int8FcLoader } from './int8-fc-runtime.js';

export interface BehaviourOverrides {
  /**
   * Discard the first arrival of every Nth chunk (acked with the unchanged offset: the server goes
   * back). Counting first arrivals only — a retransmission of a dropped chunk gets through — models
   * a lossy link; counting every arrival could starve go-back-N forever whenever a round of
   * retransmissions is a multiple of N chunks long.
   */
  dropEveryNthChunk?: number;
  /** Delay every response by this many ms, or decide per request. */
  answerLateMs?: number | ((request: Message) => number);
  /** Cut the power once a deployment has stored this many bytes, then boot again. */
  rebootAfterBytes?: number;
  /** How long the device stays off after that power cut (ms). */
  rebootDowntimeMs?: number;
  /** Write a burst of random bytes onto the link this often (ms). */
  garbageEveryMs?: number;
  /** Bytes per garbage burst (default 24). */
  garbageBytes?: number;
  /** Capabilities reported in HELLO instead of the profile's. */
  lieAboutCaps?: Partial<Capabilities>;
}

export interface EmulatedDeviceOptions {
  profile: ProfileName | DeviceProfile;
  id: string;
  key: string | Uint8Array;
  connector: Connector;
  dataDir: string;
  /** Seeds backoff jitter and garbage bytes: a fleet run is reproducible. */
  seed?: number;
  /** Multiplies modelled service times (0 = run as fast as the host can; 1 = the hardware's pace). */
  timeScale?: number;
  behaviour?: BehaviourOverrides;
  /** Custom handlers to register on every boot (e.g. the FPGA's int8 FC model). */
  handlers?: Record<string, InferHandler>;
  /** Loaders per artifact kind, e.g. int8-fc-weights for the FPGA. */
  runtimes?: EparaDeviceOptions['runtimes'];
  /**
   * Memory for models, KiB: reported as HELLO caps.memoryKiB (what the planner plans with) and
   * enforced by the artifact store (a larger artifact is refused with deploy.too_large). A few-MB
   * model then fits no single emulated device and must be split (issue 17 §3). Default: the
   * profile's memory and artifact limit.
   */
  modelMemoryKiB?: number;
  /** Anything else passed through to EparaDevice. */
  device?: Partial<EparaDeviceOptions>;
}

export interface EmulatedDeviceEvents {
  boot: (device: EparaDevice, bootCount: number) => void;
  'power-cut': (info: { afterBytes: number }) => void;
}

/** Sleep that ends early (and quietly) when the request is cancelled or its deadline passes. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    // Timers have whole-millisecond resolution: round up so a run never ends before its model says.
    const t = setTimeout(done, Math.ceil(ms));
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Stretch a runner so one run of `batch` items (the rows of its requests) takes the profile's
 * modelled service time: the real compute counts towards it and only the remainder is slept.
 */
export function withServiceTime(profile: DeviceProfile, service: string, runner: ServiceRunner, timeScale: number): ServiceRunner {
  if (timeScale <= 0) return runner;
  const pace = async <T>(batch: number, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> => {
    const modelled = serviceTimeMs(profile, service, batch);
    if (!Number.isFinite(modelled)) {
      // The hardware this stands for could not run the workload at all (e.g. an LLM on an MCU).
      throw inferError('infer.runtime', { reason: `a ${profile.name} cannot run ${service} (${workSpec(service).kind} workload)`, hint: 'place this service on a device class that can run it' });
    }
    const t0 = performance.now();
    const out = await work();
    await sleep(modelled * timeScale - (performance.now() - t0), signal);
    return out;
  };
  const paced: ServiceRunner = {
    run: (inputs, ctx) => pace(rowsOf(inputs), ctx?.signal, () => runner.run(inputs, ctx)),
    warmUp: runner.warmUp?.bind(runner),
    release: runner.release?.bind(runner),
  };
  if (runner.runBatch) {
    const rb = runner.runBatch.bind(runner);
    paced.runBatch = (batch, ctx) => pace(batch.reduce((n, inputs) => n + rowsOf(inputs), 0), ctx?.signal, () => rb(batch, ctx));
  }
  return paced;
}

/**
 * Items of work in one request: the rows of its first input (a frame flow stacks several frames
 * into one request, and a batch of k rows costs what a batch of k requests does), at least 1.
 */
function rowsOf(inputs: readonly Tensor[]): number {
  const n = inputs[0]?.shape[0];
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 4096 ? n : 1;
}

export declare interface EmulatedDevice {
  on<E extends keyof EmulatedDeviceEvents>(event: E, listener: EmulatedDeviceEvents[E]): this;
  once<E extends keyof EmulatedDeviceEvents>(event: E, listener: EmulatedDeviceEvents[E]): this;
  emit<E extends keyof EmulatedDeviceEvents>(event: E, ...args: Parameters<EmulatedDeviceEvents[E]>): boolean;
}

export class EmulatedDevice extends EventEmitter {
  readonly profile: DeviceProfile;
  readonly id: string;
  /** The running EparaDevice; replaced on every (emulated) reboot. */
  device!: EparaDevice;
  boots = 0;
  /** Garbage bursts written so far (behaviour.garbageEveryMs). */
  garbageBursts = 0;
  /** Chunks discarded so far (behaviour.dropEveryNthChunk). */
  chunksDropped = 0;
  private readonly rng: Prng;
  private readonly behaviour: BehaviourOverrides;
  private chunkCount = 0;
  private rebooted = false;
  private closed = false;
  private rebooting: Promise<void> | undefined;
  private readonly garbageTimers = new Set<NodeJS.Timeout>();

  private constructor(private readonly o: EmulatedDeviceOptions) {
    super();
    this.profile = typeof o.profile === 'string' ? profileFor(o.profile) : o.profile;
    this.id = o.id;
    this.rng = mulberry32(o.seed ?? 1);
    this.behaviour = o.behaviour ?? {};
    if (o.modelMemoryKiB !== undefined && (!Number.isInteger(o.modelMemoryKiB) || o.modelMemoryKiB < 1 || o.modelMemoryKiB > 2 ** 31)) {
      throw new ConfigError({ code: 'config.range', reason: `modelMemoryKiB=${o.modelMemoryKiB} must be a whole number of KiB, 1..2^31`, hint: 'leave it out for the profile\'s memory, or give e.g. 2048 (2 MiB)', field: 'modelMemoryKiB' });
    }
    const b = this.behaviour;
    for (const [name, v, min] of [['dropEveryNthChunk', b.dropEveryNthChunk, 2], ['rebootAfterBytes', b.rebootAfterBytes, 1], ['garbageEveryMs', b.garbageEveryMs, 1], ['garbageBytes', b.garbageBytes, 1]] as const) {
      if (v !== undefined && (!Number.isInteger(v) || v < min)) {
        throw new ConfigError({ code: 'config.range', reason: `behaviour.${name}=${v} must be an integer ≥ ${min}`, hint: 'leave it out for the default behaviour', field: `behaviour.${name}` });
      }
    }
  }

  /** Boot the emulated device and wait until the server has welcomed it. */
  static async start(o: EmulatedDeviceOptions): Promise<EmulatedDevice> {
    const e = new EmulatedDevice(o);
    await e.boot();
    return e;
  }

  /** The capabilities reported in HELLO: the profile's, or the lie. */
  reportedCaps(): CapabilityConfig {
    const budget = this.o.modelMemoryKiB;
    return { ...this.profile.caps, ...(budget !== undefined ? { memoryKiB: Math.min(budget, this.profile.caps.memoryKiB) } : {}), ...this.behaviour.lieAboutCaps };
  }

  /** Largest artifact the device stores: the profile's limit, or the model-memory budget when smaller. */
  private maxArtifactBytes(): number {
    const budget = this.o.modelMemoryKiB;
    return budget === undefined ? this.profile.maxArtifactBytes : Math.min(this.profile.maxArtifactBytes, budget * 1024);
  }

  private connector(): Connector {
    const { garbageEveryMs } = this.behaviour;
    if (!garbageEveryMs) return this.o.connector;
    return async () => {
      const stream: ByteStream = await this.o.connector();
      const n = this.behaviour.garbageBytes ?? 24;
      const t = setInterval(() => {
        if (!stream.isOpen) return;
        const junk = new Uint8Array(n + 1);
        for (let i = 0; i < n; i++) junk[i] = 1 + this.rng.int(255);
        // A trailing delimiter ends the junk as one bad piece, as line noise between frames would.
        junk[n] = 0;
        this.garbageBursts++;
        stream.write(junk).catch(() => undefined);
      }, garbageEveryMs);
      this.garbageTimers.add(t);
      stream.once('close', () => {
        clearInterval(t);
        this.garbageTimers.delete(t);
      });
      return stream;
    };
  }

  private hooks(): DeviceHooks {
    const b = this.behaviour;
    const hooks: DeviceHooks = {};
    if (b.dropEveryNthChunk) {
      const n = b.dropEveryNthChunk;
      const seen = new Set<string>();
      hooks.acceptChunk = (chunk) => {
        const key = `${chunk.deploymentId}:${chunk.offset}`;
        if (seen.has(key)) return true;
        seen.add(key);
        if (++this.chunkCount % n !== 0) return true;
        this.chunksDropped++;
        return false;
      };
    }
    if (b.answerLateMs !== undefined) {
      const late = b.answerLateMs;
      hooks.responseDelayMs = typeof late === 'number' ? () => late : late;
    }
    if (b.rebootAfterBytes !== undefined) {
      const limit = b.rebootAfterBytes;
      hooks.chunkStored = ({ nextOffset, size }) => {
        if (this.rebooted || nextOffset < limit || nextOffset >= size) return;
        this.rebooted = true;
        this.rebooting = this.powerCycle(nextOffset);
      };
    }
    return hooks;
  }

  private async boot(): Promise<void> {
    const timeScale = this.o.timeScale ?? 1;
    const runtimes: Record<string, ArtifactLoader> = { ...this.o.runtimes };
    // The FPGA profile runs int8-fc-weights artifacts in the bit-exact model of the RTL.
    if (this.profile.caps.formats?.includes('int8-fc-weights') && !runtimes['int8-fc-weights']) runtimes['int8-fc-weights'] = int8FcLoader();
    this.device = await EparaDevice.connect({
      id: this.o.id,
      key: this.o.key,
      connector: this.connector(),
      deviceClass: this.profile.deviceClass,
      caps: this.reportedCaps(),
      dataDir: this.o.dataDir,
      maxFrame: this.profile.link.maxFrame,
      rxWindow: this.profile.link.rxWindow,
      firmware: `epara-emu/${this.profile.name}`,
      random: () => this.rng.next(),
      store: { maxArtifactBytes: this.maxArtifactBytes(), capacityBytes: Math.max(this.profile.maxArtifactBytes * 3, 1) },
      runtimes,
      wrapRunner: (service, runner) => withServiceTime(this.profile, service, runner, timeScale),
      hooks: this.hooks(),
      ...this.o.device,
    });
    for (const [service, handler] of Object.entries(this.o.handlers ?? {})) this.device.registerHandler(service, handler);
    this.boots++;
    this.emit('boot', this.device, this.boots);
  }

  private async powerCycle(afterBytes: number): Promise<void> {
    this.emit('power-cut', { afterBytes });
    await this.device.close({ graceful: false });
    await sleep(this.behaviour.rebootDowntimeMs ?? 100);
    if (!this.closed) await this.boot();
  }

  /** Resolves when a pending emulated reboot has finished. */
  async settled(): Promise<void> {
    await this.rebooting;
  }

  async close(opts: { graceful?: boolean } = {}): Promise<void> {
    this.closed = true;
    await this.rebooting?.catch(() => undefined);
    for (const t of this.garbageTimers) clearInterval(t);
    this.garbageTimers.clear();
    await this.device?.close(opts);
  }
}
