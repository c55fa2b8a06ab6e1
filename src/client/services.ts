import type { EparaError } from '../errors.js';
import { ConfigError } from '../errors.js';
import type { Capabilities } from '../protocol/index.js';
import type { ArtifactRecord, ArtifactStore } from './artifact-store.js';
import { asEparaError, deployError, inferError } from './client-errors.js';
import type { ServiceEntry } from './deploy-commit.js';
import type { ArtifactLoader, EparaDeviceOptions } from './device-options.js';
import { ServiceQueue, type QueueSettings } from './inference.js';
import { OnnxModel } from './onnx-runtime.js';
import { handlerRunner, type HandlerRunnerOptions, type InferHandler, type ServiceRunner } from './runner.js';

export interface ServicesHost {
  readonly deviceId: string;
  readonly caps: Capabilities;
  readonly store: ArtifactStore;
  readonly runtimes: EparaDeviceOptions['runtimes'];
  readonly wrapRunner: EparaDeviceOptions['wrapRunner'];
  /** A service changed state: report STATE soon. */
  changed(): void;
  report(err: EparaError): void;
}

/**
 * The services a device serves: which runner and queue each has, how artifacts of each kind are
 * loaded and warmed up, what survives a restart (the active versions, unloaded ones stay
 * unloaded) and the queue settings PLACEMENT sent before the service existed.
 */
export class ServiceTable {
  readonly entries = new Map<string, ServiceEntry>();
  /** Queue settings PLACEMENT sent per service, applied to the queue built at the next deploy. */
  readonly pendingSettings = new Map<string, QueueSettings>();
  /** Tensor names each loaded ONNX model reads and writes (a PLACEMENT pipeline stage is checked against them). */
  readonly tensorNames = new Map<string, { inputs: string[]; outputs: string[] }>();

  constructor(private readonly h: ServicesHost) {}

  /** A registered handler instead of a model (an FPGA proxy, a sensor pipeline): ready at once. */
  registerHandler(service: string, handler: InferHandler, opts: HandlerRunnerOptions & { version?: string; settings?: QueueSettings }): void {
    if (!service || service.length > 64) throw new ConfigError({ code: 'config.value', reason: `service name must be 1..64 characters`, hint: 'use a short service name', field: 'service' });
    const runner = this.wrap(service, handlerRunner(handler, opts));
    const old = this.entries.get(service);
    const entry: ServiceEntry = { name: service, version: opts.version ?? 'custom', status: 'ready', kind: 'custom', runner };
    entry.queue = old?.queue && old.status === 'ready' ? old.queue : new ServiceQueue(service, runner, { ...this.pendingSettings.get(service), ...opts.settings });
    entry.queue.setRunner(runner);
    this.entries.set(service, entry);
    this.h.changed();
  }

  /** The service's entry when it is ready to take requests; infer.unknown_service otherwise. */
  ready(service: string): ServiceEntry & { queue: ServiceQueue } {
    const entry = this.entries.get(service);
    if (!entry || entry.status !== 'ready' || !entry.queue) {
      throw inferError('infer.unknown_service', { reason: `service ${service} is ${entry ? entry.status : 'not deployed'} on device ${this.h.deviceId}`, hint: 'deploy it here first or route to a device that serves it', field: 'service' });
    }
    return entry as ServiceEntry & { queue: ServiceQueue };
  }

  loaderFor(kind: string): ArtifactLoader | undefined {
    if (!(this.h.caps.formats ?? []).includes(kind)) return undefined;
    const custom = this.h.runtimes?.[kind as keyof NonNullable<EparaDeviceOptions['runtimes']>];
    if (custom) return custom;
    if (kind === 'onnx') {
      return async (rec) => {
        const model = await OnnxModel.load(rec.path);
        await model.warmUp().catch(async (e: unknown) => {
          await model.release().catch(() => undefined);
          throw e;
        });
        return model;
      };
    }
    return undefined;
  }

  async loadRunner(record: ArtifactRecord): Promise<ServiceRunner> {
    const loader = this.loaderFor(record.kind);
    if (!loader) throw deployError('deploy.unsupported_kind', { reason: `this device cannot run ${record.kind} artifacts`, hint: 'deploy a format listed in the device capabilities' });
    const runner = await loader(record);
    if (runner instanceof OnnxModel) this.tensorNames.set(record.service, { inputs: runner.inputs.map((m) => m.name), outputs: runner.outputs.map((m) => m.name) });
    if (runner.warmUp && !(runner instanceof OnnxModel)) {
      try {
        await runner.warmUp();
      } catch (e) {
        await runner.release?.().catch(() => undefined);
        throw asEparaError(e, (m) => deployError('deploy.warmup_failed', { reason: m, hint: 'the runtime loaded the artifact but cannot run it', cause: e }));
      }
    }
    return this.wrap(record.service, runner);
  }

  private wrap(service: string, runner: ServiceRunner): ServiceRunner {
    return this.h.wrapRunner ? this.h.wrapRunner(service, runner) : runner;
  }

  /** Put a loaded runner in service (replacing and releasing the old one, keeping the queue). */
  install(record: ArtifactRecord, runner: ServiceRunner): ServiceEntry {
    const old = this.entries.get(record.service);
    const queue = old?.queue && old.status === 'ready' ? old.queue : new ServiceQueue(record.service, runner, this.pendingSettings.get(record.service));
    queue.setRunner(runner);
    const entry: ServiceEntry = { name: record.service, version: record.version, status: 'ready', kind: record.kind, runner, queue, record };
    this.entries.set(record.service, entry);
    if (old?.runner && old.runner !== runner) {
      const retired = old.runner;
      // Release the old version only once the runs it is still serving have finished.
      void queue.idle(retired).then(() => retired.release?.()).catch(() => undefined);
    }
    this.h.changed();
    return entry;
  }

  /** On start: serve what was active before the restart; a version that no longer loads rolls back. */
  async restore(): Promise<void> {
    const store = this.h.store;
    for (const rec of await store.activeServices()) {
      if ((await store.active(rec.service)).unloaded) {
        this.entries.set(rec.service, { name: rec.service, version: rec.version, status: 'unloaded', kind: rec.kind, record: rec });
        continue;
      }
      let candidate: ArtifactRecord | undefined = rec;
      while (candidate) {
        try {
          this.install(candidate, await this.loadRunner(candidate));
          break;
        } catch (e) {
          this.h.report(asEparaError(e, (m) => deployError('deploy.load_failed', { reason: m, hint: 'rolling back to the previous version' })));
          candidate = await store.rollback(rec.service);
          if (!candidate) this.entries.set(rec.service, { name: rec.service, version: rec.version, status: 'failed', kind: rec.kind });
        }
      }
    }
  }

  /** Unload a service (PLACEMENT unload): its runner is released once idle; the artifact stays. */
  async unload(service: string): Promise<boolean> {
    const entry = this.entries.get(service);
    if (!entry) return false;
    await this.h.store.setUnloaded(service, true);
    entry.queue?.close();
    this.entries.set(service, { name: entry.name, version: entry.version, status: 'unloaded', kind: entry.kind, record: entry.record });
    if (entry.runner) {
      const runner = entry.runner;
      void (entry.queue ? entry.queue.idle(runner) : Promise.resolve()).then(() => runner.release?.()).catch(() => undefined);
    }
    return true;
  }

  /** Load an unloaded service again from its active artifact on disk. */
  async reload(service: string): Promise<ServiceEntry | undefined> {
    const { current } = await this.h.store.active(service);
    if (!current) return undefined;
    const runner = await this.loadRunner(current);
    await this.h.store.setUnloaded(service, false);
    return this.install(current, runner);
  }

  /** Shutdown: close every queue and release the runners (a handler that ignores its abort signal gets 2 s). */
  async close(): Promise<void> {
    for (const e of this.entries.values()) {
      e.queue?.close();
      const runner = e.runner;
      if (runner) await withTimeout(e.queue ? e.queue.idle(runner) : Promise.resolve(), 2000).then(() => runner.release?.()).catch(() => undefined);
    }
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);
}
