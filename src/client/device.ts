/**
 * EparaDevice: what an embedded host imports. It opens a link, performs the handshake (HELLO →
 * CHALLENGE → AUTH → WELCOME, verifying the server's MAC too), heartbeats and reports STATE on the
 * negotiated periods, reconnects by itself with capped backoff and HELLO `resume`, and serves the
 * services placed on it: artifacts arrive over DEPLOY (resumable, verified, loaded, warmed up,
 * rolled back on failure) and INFER requests run through per-service queues.
 *
 * A composition root: the connection loop is link-loop.ts, the services services.ts, and each
 * message the server sends has its entry in the handler table below (handlers/, one file per
 * message family; docs/architecture.md).
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { EparaError } from '../errors.js';
import type { EventArgs } from '../event-map.js';
import type { Capabilities, DeviceClass, Message, ServiceStatus, StateMessage } from '../protocol/index.js';
import type { FrameLink } from '../transport/frame-link.js';
import { ArtifactStore } from './artifact-store.js';
import { detectCapabilities } from './capabilities.js';
import { parseKey, resolveOptions, type EparaDeviceOptions, type ResolvedDeviceOptions } from './device-options.js';
import { DeployReceiver } from './handlers/deploy.js';
import { inferHandlers } from './handlers/infer.js';
import { livenessHandlers, StateReporter } from './handlers/liveness.js';
import { placementHandler } from './handlers/placement.js';
import { answerRequest, onNotification, type DeviceHandlers } from './handlers/table.js';
import type { ServiceQueue, QueueSettings } from './inference.js';
import { LinkLoop } from './link-loop.js';
import type { HandlerRunnerOptions, InferHandler } from './runner.js';
import { ServiceTable, withTimeout } from './services.js';
import { DeviceSession, type DeviceSessionState } from './session.js';

export { CLIENT_FIRMWARE } from './link-loop.js';
export type { ArtifactLoader, DeviceHooks, EparaDeviceOptions } from './device-options.js';

export interface ServiceInfo {
  name: string;
  version: string;
  status: ServiceStatus;
  kind: 'onnx' | 'int8-fc-weights' | 'blob' | 'custom';
}

export interface DeployedEvent {
  service: string;
  version: string;
  state: 'ready' | 'failed' | 'rolled-back';
  error?: EparaError;
}

export interface DeviceEvents {
  registered: (info: { sessionId: string; resumed: boolean; maxFrame: number; heartbeatMs: number; stateMs: number }) => void;
  deployed: (info: DeployedEvent) => void;
  'deploy-progress': (info: { service: string; version: string; nextOffset: number; size: number }) => void;
  'link-lost': (error?: EparaError) => void;
  state: (state: DeviceSessionState) => void;
  served: (info: { service: string; requestId: number; queueUs: number; computeUs: number }) => void;
  error: (error: EparaError) => void;
}

export class EparaDevice extends EventEmitter<EventArgs<DeviceEvents>> {
  readonly id: string;
  readonly deviceClass: DeviceClass;
  readonly caps: Capabilities;
  readonly store: ArtifactStore;
  readonly session = new DeviceSession();

  private readonly key: Buffer;
  private readonly opts: ResolvedDeviceOptions;
  private readonly services: ServiceTable;
  private readonly states: StateReporter;
  private readonly loop: LinkLoop;
  private readonly handlers: DeviceHandlers;
  private readonly startedAt = performance.now();

  private constructor(private readonly options: EparaDeviceOptions) {
    super();
    this.opts = resolveOptions(options);
    this.id = options.id;
    this.deviceClass = options.deviceClass;
    this.key = parseKey(options.key);
    // Formats the device accepts: configured, or ONNX plus every kind it was given a runtime for.
    const formats = options.caps?.formats ?? [...new Set(['onnx', ...Object.keys(options.runtimes ?? {})])];
    this.caps = detectCapabilities({ ...options.caps, formats });
    this.store = new ArtifactStore(options.dataDir, options.store);
    const changed = () => this.states.soon();
    const services = (this.services = new ServiceTable({
      deviceId: this.id,
      caps: this.caps,
      store: this.store,
      runtimes: options.runtimes,
      wrapRunner: options.wrapRunner,
      changed,
      report: (err) => this.report(err),
    }));
    this.states = new StateReporter({
      caps: this.caps,
      services,
      hooks: options.hooks,
      readyLink: () => (this.session.state === 'ready' ? this.loop.link : undefined),
      link: () => this.loop.link,
      uptimeMs: () => this.uptimeMs(),
    });
    const deploys = new DeployReceiver({
      deviceId: this.id,
      deviceClass: this.deviceClass,
      formats: this.caps.formats ?? [],
      store: this.store,
      services,
      window: this.opts.deployWindow,
      hooks: options.hooks,
      notify: (m) => void this.loop.link?.notify(m).catch(() => undefined),
      progress: (info) => this.emit('deploy-progress', info),
      deployed: (e) => this.emit('deployed', e),
      changed,
    });
    // Where each message the server sends is handled: the compiler checks every one has an entry.
    this.handlers = {
      ...livenessHandlers,
      ...placementHandler({ services, changed }),
      ...deploys.handlers,
      ...inferHandlers({ services, served: (info) => this.emit('served', info) }),
    };
    this.loop = new LinkLoop({
      id: this.id,
      deviceClass: this.deviceClass,
      caps: this.caps,
      key: this.key,
      session: this.session,
      opts: this.opts,
      options,
      events: this,
      report: (err) => this.report(err),
      close: () => this.close({ graceful: false }),
      attach: (link, welcomed) => this.attach(link, welcomed),
      sendState: () => this.states.send(),
      timersStopped: () => this.states.stop(),
      uptimeMs: () => this.uptimeMs(),
    });
  }

  /**
   * Create a device, load the artifacts it already holds, and connect. Resolves once the server
   * has welcomed it; rejects on a refused handshake (wrong key, unknown id) or after
   * connectTimeoutMs without a session.
   */
  static async connect(options: EparaDeviceOptions): Promise<EparaDevice> {
    const device = new EparaDevice(options);
    await device.services.restore();
    await device.loop.start();
    return device;
  }

  get state(): DeviceSessionState {
    return this.session.state;
  }

  /** The protocol version of the current session (SPEC §8); 0 before the first handshake. */
  get protocolVersion(): number {
    return this.loop.negotiated.protocolVersion;
  }

  get sessionId(): string | undefined {
    return this.session.sessionId ? Buffer.from(this.session.sessionId).toString('hex') : undefined;
  }

  /** The current link (tests and emulators read its counters). */
  private get link(): FrameLink | undefined {
    return this.loop.link;
  }

  serviceInfo(): ServiceInfo[] {
    return [...this.services.entries.values()].map(({ name, version, status, kind }) => ({ name, version, status, kind }));
  }

  /**
   * Serve `service` with a custom handler instead of a model (an FPGA proxy, a sensor pipeline).
   * It is reported ready in STATE straight away.
   */
  registerHandler(service: string, handler: InferHandler, opts: HandlerRunnerOptions & { version?: string; settings?: QueueSettings } = {}): void {
    this.services.registerHandler(service, handler, opts);
  }

  /** Run an inference locally (the same queue remote requests use). */
  async infer(service: string, inputs: Parameters<ServiceQueue['submit']>[0]['inputs'], opts: { deadlineMs?: number; requestId?: number } = {}) {
    const entry = this.services.ready(service);
    return entry.queue.submit({ requestId: opts.requestId ?? 0x8000_0000 + Math.floor(Math.random() * 0x7fff_ffff), inputs, deadlineUs: opts.deadlineMs !== undefined ? opts.deadlineMs * 1000 : undefined });
  }

  /**
   * The STATE report as it would be sent now. `consume` restarts the served/violation counters
   * (what sending does: they count "since the last STATE").
   */
  buildState(consume = false): StateMessage {
    return this.states.build(consume);
  }

  /**
   * Leave: BYE to the server (graceful) or just drop the link (graceful: false, an emulated power
   * cut), stop timers, fail pending requests and release sessions.
   */
  async close(opts: { graceful?: boolean } = {}): Promise<void> {
    if (this.session.state === 'closed') return;
    const link = this.loop.link;
    this.session.fire('close');
    this.emit('state', 'closed');
    this.loop.stopTimers();
    this.loop.wake();
    if (link) {
      if (opts.graceful !== false) await withTimeout(link.notify({ type: 'BYE', code: 0, reason: 'device closing' }), 500).catch(() => undefined);
      await link.close().catch(() => undefined);
    }
    await this.services.close();
    await this.store.close();
    await this.loop.done?.catch(() => undefined);
  }

  /** Requests and notifications on a link go to the handler table once the server is verified (WELCOME checked). */
  private attach(link: FrameLink, welcomed: Promise<boolean>): void {
    const ctx = { link };
    const delay = (m: Message) => this.options.hooks?.responseDelayMs?.(m) ?? 0;
    link.on('request', (frame, reply) => void welcomed.then((ok) => (ok ? answerRequest(this.handlers, frame.message, ctx, delay, reply) : undefined)));
    link.on('notify', (frame) => void welcomed.then((ok) => (ok ? onNotification(this.handlers, frame.message, ctx) : undefined)));
  }

  private report(err: EparaError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private uptimeMs(): number {
    return Math.round(performance.now() - this.startedAt);
  }
}
