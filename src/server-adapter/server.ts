import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { NonceCache } from '../device-mgmt/auth.js';
import { ArtifactStore } from '../device-mgmt/deployment/artifact-store.js';
import type { Deployer } from '../device-mgmt/deployment/deployer.js';
import { loadOrCreateMasterKey } from '../device-mgmt/identity.js';
import { SqliteStore } from '../device-mgmt/registry/sqlite-store.js';
import type { AuditEntry, AuditQuery, DeploymentRecord, DeploymentState, DeviceRecord, RegistryStore } from '../device-mgmt/registry/store.js';
import { StateViews, type DeviceStateView } from '../device-mgmt/state-view.js';
import { ConfigError } from '../errors.js';
import { resolveNumber } from '../options.js';
import type { EventArgs } from '../event-map.js';
import type { PlacementOp, Tensor } from '../protocol/index.js';
import type { ByteStream, Listener } from '../transport/byte-stream.js';
import { listenTcp as transportListenTcp, type TcpListenOptions } from '../transport/tcp.js';
import type { DeviceConnection, HandshakeConfig } from './connection.js';
import type { DeploymentCoordinator, DeployAnswer, DeployOptions } from './deployments.js';
import type { DeviceInfo, ServerEvents } from './events.js';
import { EventFeed } from './event-feed.js';
import type { EventLog } from './event-log.js';
import { dispatch, type ServerHandlers } from './handlers/context.js';
import { deployHandlers, startDeployments } from './handlers/deploy.js';
import { connectionHost, handshakeHandlers } from './handlers/handshake.js';
import { InferRouter, type InferResult } from './handlers/infer.js';
import { OpenFlows, type FrameFlow, type OpenFlowOptions } from './frame-flows.js';
import { livenessHandlers, sweep, type LivenessHost } from './handlers/liveness.js';
import { PlacementRunner } from './handlers/placement.js';
import { PipelineService, type DeployPipelineOptions } from './pipelines.js';
import { plannableDeployments } from './pipeline-placement.js';
import type { FormPipelineOptions } from './pipeline-deploy.js';
import type { PipelineGroup } from './pipeline-groups.js';
import { startHttpApi, type HttpApi } from './http-api.js';
import { auditSink } from './audit-sink.js';
import { LiveSessions, type AuditFn } from './live-sessions.js';
import { ServerMetrics } from './metrics.js';
import { LinkAcceptor } from './link-acceptor.js';
import { RefusalLimiter } from './refusal-limiter.js';
import { approve, deviceInfo, provision, revoke, type ProvisionOptions, type RegistryHost } from './registry-api.js';
import type { RouteCandidate } from './routing.js';
import type { PlacementRound } from './scheduler-wiring.js';
import { LiveScheduler, type PlacementView, type ServiceView } from './live-scheduler.js';
import type { ServiceDeclaration } from './service-catalogue.js';
import { handshakeConfig, resolveServerOptions, type EparaServerOptions, type ResolvedServerOptions } from './server-options.js';
import { ServerTimers } from './server-timers.js';
import { shutDown } from './shutdown.js';
import { MqttBridge } from './mqtt/mqtt-bridge.js';
import { loadMqtt } from './mqtt/mqtt-client-module.js';
import { resolveMqttOptions } from './mqtt/mqtt-options.js';

export type { EparaServerOptions } from './server-options.js';
export type { DeployOptions } from './deployments.js';
export type { InferResult } from './handlers/infer.js';
export type { FrameFlow, FrameOutcome, FlowStats, OpenFlowOptions } from './frame-flows.js';
export type { ProvisionOptions } from './registry-api.js';
export type { DeployPipelineOptions } from './pipelines.js';
export type { PipelineGroup, PipelineStageSlot } from './pipeline-groups.js';

/**
 * The server a gateway app runs: accepts device links (TCP/TLS, serial, BLE — anything that
 * yields a ByteStream), registers and authenticates devices, tracks liveness and state, deploys
 * artifacts and routes inference requests.
 *
 * A composition root: the work is in handlers/ (one file per message family, each behind a
 * narrow host interface) and the one handler table below says where each message a device sends
 * is handled (docs/architecture.md).
 */
export class EparaServer extends EventEmitter<EventArgs<ServerEvents>> {
  readonly dataDir: string;
  private readonly o: ResolvedServerOptions;
  private store!: RegistryStore;
  private masterKey!: Uint8Array;
  private artifacts!: ArtifactStore;
  private deployer!: Deployer;
  private coordinator!: DeploymentCoordinator;
  readonly views = new StateViews();
  readonly nonces = new NonceCache();
  readonly handshake: HandshakeConfig;
  readonly metrics: ServerMetrics;
  private readonly live: LiveSessions;
  private readonly links: LinkAcceptor;
  private readonly refusals: RefusalLimiter;
  private readonly inference: InferRouter;
  private readonly flows: OpenFlows;
  private readonly placements: PlacementRunner;
  /** The scheduler the server runs (EPARA unless told otherwise): services, learned speeds, demand. */
  readonly scheduler: LiveScheduler;
  private readonly pipes: PipelineService;
  private readonly registry: RegistryHost;
  private readonly liveness: LivenessHost;
  private readonly timers = new ServerTimers();
  private http: HttpApi | undefined;
  private bridge: MqttBridge | undefined;
  private started = false;
  private closing = false;
  private readonly audit: AuditFn;
  private readonly feed: EventFeed;

  constructor(private readonly options: EparaServerOptions) {
    super();
    if (!options || typeof options.dataDir !== 'string' || options.dataDir.length === 0) {
      throw new ConfigError({ code: 'config.data_dir', reason: 'EparaServer needs a dataDir', hint: "pass { dataDir: './.epara-data' }", field: 'dataDir' });
    }
    this.dataDir = options.dataDir;
    const o = (this.o = resolveServerOptions(options));
    // A bad broker URL or prefix is refused here, before anything opens.
    if (options.mqtt) resolveMqttOptions(options.mqtt);
    this.refusals = new RefusalLimiter(options.refusalLimit);
    this.handshake = handshakeConfig(o, options.openEnrolment === true);
    this.metrics = new ServerMetrics({
      sessions: () => new Map([...this.live].map(([id, l]) => [id, { state: l.session.state, lastHeardAt: l.session.lastHeardAt, linkOpen: l.conn !== undefined }])),
      devices: () => (this.started ? this.store.listDevices() : []),
      connecting: () => [...this.links.connections].filter((c) => !c.isReady).length,
      linkRetries: () => this.links.retries,
    });
    const audit = (this.audit = auditSink(() => this.store, (e) => this.emit('audit', e), (err) => this.emit('error', err)));
    const live = (this.live = new LiveSessions({
      leaseMs: o.leaseMs,
      audit,
      touchDevice: (id, at) => this.store.touchDevice(id, { at }),
      stateChanged: (c) => this.emit('device-state', c),
      lost: (c) => this.emit('device-lost', c),
      activated: (id) => this.coordinator.kick(id),
    }));
    const sched = (this.scheduler = new LiveScheduler(options.scheduler, options.dataDir, {
      // Ready deployments, and a model that fits no device (so the planner can split it); never a pipeline stage.
      readyDeployments: () => (this.started ? plannableDeployments(this.store.listDeployments()) : []),
      views: this.views,
      requestMs: o.requestMs,
      formatsOf: (id) => this.live.get(id)?.hello.caps.formats,
    }));
    this.metrics.serviceWindows(() => sched.servicesView());
    // What most handlers share: the sessions, their STATE views, the metrics, the registry.
    const base = { live, views: this.views, metrics: this.metrics, scheduler: () => sched.config(), store: () => this.store, audit, emitError: (err: Error) => this.emit('error', err) };
    this.inference = new InferRouter({ ...base, requestMs: o.requestMs, inferRetries: o.inferRetries, latestState: (id, s) => this.coordinator.latestState(id, s), arrived: (s) => sched.arrived(s), finished: (f) => sched.observe(f) });
    this.flows = new OpenFlows((service, inputs, opts) => this.inference.infer(service, inputs, opts));
    this.pipes = new PipelineService({
      live,
      audit,
      resultTimeoutMs: o.resultTimeoutMs,
      artifacts: () => this.artifacts,
      deploy: (d) => this.deploy(d),
      undeploy: (svc, to) => this.undeploy(svc, to),
      sendPlacement: (id, ops) => this.sendPlacement(id, ops),
      inferOn: (svc, inputs, opts) => this.inference.infer(svc, inputs, opts),
    });
    const planner = () => options.planner?.(this);
    const pipelines = { formPipeline: (f: FormPipelineOptions) => this.pipes.form(f), pipeline: (svc: string) => this.pipes.for(svc), deployments: (f: { service?: string }) => this.store.listDeployments(f) };
    this.placements = new PlacementRunner({ ...base, pipelines, resultTimeoutMs: o.resultTimeoutMs, deploy: (d) => this.deploy(d), planner, closing: () => this.closing, placed: (r) => this.emit('placement', r), roundDone: (r) => sched.roundDone(r) });
    this.registry = { ...base, stateSyncMs: o.stateSyncMs, masterKey: () => this.masterKey };
    this.liveness = { ...base, refusals: this.refusals, policy: { heartbeatMs: o.heartbeatMs, missedHeartbeats: o.missedHeartbeats, leaseMs: o.leaseMs, rttProbeMs: o.rttProbeMs } };
    // Where each message a device sends is handled: the compiler checks every one has an entry.
    const handlers: ServerHandlers = {
      ...handshakeHandlers,
      ...livenessHandlers(this.liveness),
      ...deployHandlers({ deployer: () => this.deployer, store: () => this.store, audit }),
    };
    const hs = connectionHost({
      ...base,
      handshake: this.handshake,
      nonces: this.nonces,
      refusals: this.refusals,
      maxPending: o.maxPending,
      rttProbeMs: o.rttProbeMs,
      masterKey: () => this.masterKey,
      closing: () => this.closing,
      registered: (record, resumed) => this.emit('device-registered', { ...deviceInfo(this.registry, record), resumed }),
      message: (conn, ready, frame, reply) => dispatch({ live, metrics: this.metrics, handlers }, conn, ready, frame, reply),
    });
    this.links = new LinkAcceptor({ connectionHost: hs, metrics: this.metrics, refusals: this.refusals, linkOptions: options.link, accepting: () => this.started && !this.closing, emitError: base.emitError });
    this.views.subscribe((v) => this.emit('device-view', v));
    this.feed = new EventFeed(this, options.events);
    // An 'error' event with no listener would throw and crash the gateway app; keep them observable but harmless.
    this.on('error', () => undefined);
  }

  /** Opens the registry, resumes bookkeeping and starts timers and the HTTP API. Idempotent. */
  async start(): Promise<this> {
    if (this.started) return this;
    // A bridge without its client library fails here, before anything opens.
    if (this.options.mqtt) await loadMqtt();
    this.masterKey = loadOrCreateMasterKey(this.dataDir);
    this.store =
      this.options.store ??
      new SqliteStore(join(this.dataDir, 'registry.sqlite'), {
        ...this.options.registry,
        onBackgroundError: (err) => this.emit('error', err),
      });
    this.artifacts = new ArtifactStore(this.dataDir);
    const plans = Boolean(this.options.planner) || this.scheduler.enabled;
    this.timers.start(this.o, () => sweep(this.liveness, Date.now()), plans ? () => void this.placements.run() : undefined);
    ({ deployer: this.deployer, coordinator: this.coordinator } = startDeployments(
      {
        store: this.store,
        artifacts: this.artifacts,
        metrics: this.metrics,
        live: this.live,
        closing: () => this.closing,
        audit: this.audit,
        emitProgress: (p) => this.emit('deployment-progress', p),
        emitError: (err) => this.emit('error', err),
        sendPlacement: (id, ops) => this.sendPlacement(id, ops),
        views: () => this.views,
      },
      { chunkSize: this.o.chunkSize, resultTimeoutMs: this.o.resultTimeoutMs, deployRequestTimeoutMs: this.o.deployRequestTimeoutMs, deployRetryMs: this.o.deployRetryMs },
    ));
    if (this.options.http) this.http = await startHttpApi(this, this.options.http, (e) => this.audit(e));
    this.started = true;
    // Waits at most mqtt.connectTimeoutMs for the broker, then serves on while the bridge retries.
    if (this.options.mqtt) this.bridge = await MqttBridge.start(this, this.options.mqtt);
    return this;
  }

  /** Where the HTTP API listens, when enabled. */
  get httpAddress(): { host: string; port: number } | undefined {
    return this.http?.address;
  }

  /** The MQTT bridge when the `mqtt` option is given: `connected`, `lastError`, 'status' events. */
  get mqtt(): MqttBridge | undefined {
    return this.bridge;
  }

  /** The live event stream's buffer (GET /events reads it; subscribe to get each event as it comes). */
  get eventLog(): EventLog {
    return this.feed.log;
  }

  /** The last placement round the scheduler ran (undefined before the first, or with the scheduler off). */
  get lastPlacement(): PlacementRound | undefined {
    return this.placements.last;
  }

  /** The current plan, per device (what `epara placement` and GET /placement show). */
  placementView(): PlacementView {
    return this.scheduler.placementView([...this.live].map(([id]) => id));
  }

  /** Per service: category, SLO, demand, learned service times, goodput, attainment, p99 (`epara services`, GET /services). */
  servicesView(): ServiceView[] {
    this.requireStarted();
    return this.scheduler.servicesView();
  }

  private requireStarted(): void {
    if (!this.started) {
      throw new ConfigError({ code: 'config.not_started', reason: 'the server has not been started', hint: 'await server.start() first' });
    }
    if (this.closing) {
      throw new ConfigError({ code: 'config.closed', reason: 'the server is shutting down', hint: 'create a new EparaServer' });
    }
  }

  // ───────────────────────────── links ─────────────────────────────

  /** Listen for devices on TCP (or TLS). Binds 127.0.0.1 unless told otherwise. */
  async listenTcp(opts: TcpListenOptions = {}): Promise<{ port: number; description: string }> {
    this.requireStarted();
    const l = await transportListenTcp(opts);
    this.listen(l);
    return { port: l.port, description: l.description };
  }

  /** Accept devices from any Listener (TCP, serial port, BLE scan). */
  listen(listener: Listener): void {
    this.requireStarted();
    this.links.listen(listener);
  }

  /** Serve one already-open stream (e.g. a UART with one device behind it). */
  attachStream(stream: ByteStream): DeviceConnection | undefined {
    return this.links.attach(stream);
  }

  // ───────────────────────────── registry API ─────────────────────────────

  /** Creates a device entry with a fresh CSPRNG key. The key is returned once and never again. */
  provision(p: ProvisionOptions): { id: string; key: string } {
    this.requireStarted();
    return provision(this.registry, p);
  }

  /** Approves a pending (open-enrolment) device; returns its key once. */
  approve(id: string, opts: { key?: string } = {}): { id: string; key: string } {
    this.requireStarted();
    return approve(this.registry, id, opts);
  }

  /** Revokes a device: its session ends now and it can no longer authenticate. */
  revoke(id: string): void {
    this.requireStarted();
    revoke(this.registry, id);
  }

  devices(): DeviceInfo[] {
    this.requireStarted();
    return this.store.listDevices().map((d) => deviceInfo(this.registry, d));
  }

  device(id: string): DeviceInfo | undefined {
    this.requireStarted();
    const d: DeviceRecord | undefined = this.store.getDevice(id);
    return d ? deviceInfo(this.registry, d) : undefined;
  }

  /** Subscribe to every device's STATE-derived view; returns the unsubscribe function. */
  subscribe(listener: (view: DeviceStateView) => void): () => void {
    return this.views.subscribe(listener);
  }

  auditLog(q?: AuditQuery): AuditEntry[] {
    this.requireStarted();
    return this.store.queryAudit(q);
  }

  deployments(filter?: { deviceId?: string; service?: string; states?: DeploymentState[] }): DeploymentRecord[] {
    this.requireStarted();
    return this.store.listDeployments(filter);
  }

  deployment(id: number): DeploymentRecord | undefined {
    this.requireStarted();
    return this.store.getDeployment(id);
  }

  // ───────────────────────────── deployment, placement, inference ─────────────────────────────

  /**
   * Records a deployment per target device and starts the transfers on the connected ones;
   * the others get theirs when they connect. By default resolves once every deployment settled
   * (ready / failed / rolled-back) — check each record's `state` and `errorCode`.
   */
  async deploy(opts: DeployOptions): Promise<DeployAnswer[]> {
    this.requireStarted();
    // The declaration is checked before anything is stored or sent: a bad SLO fails the deploy whole.
    const decl: ServiceDeclaration = { service: opts.service, category: opts.category };
    for (const k of ['sloMs', 'fps', 'demandRps', 'weight', 'workload'] as const) if (opts[k] !== undefined) (decl as unknown as Record<string, unknown>)[k] = opts[k];
    const known = this.scheduler.catalogue.get(opts.service);
    const changes = !known || known.category !== opts.category || Object.keys(decl).length > 2;
    if (changes) this.scheduler.declare(decl);
    return this.coordinator.deploy(opts);
  }

  /** Streams an artifact into the content-addressed store (what PUT /artifacts does); deploy it with `artifact: { sha256 }`. */
  storeArtifact(source: AsyncIterable<Uint8Array>, maxBytes = Number.MAX_SAFE_INTEGER): Promise<{ sha256: string; size: number }> {
    this.requireStarted();
    return this.artifacts.putStream(source, { maxBytes });
  }

  /** Resolves with the records once all settled or the timeout passed (records in their current state). */
  waitSettled(ids: number[], timeoutMs: number): Promise<DeploymentRecord[]> {
    this.requireStarted();
    return this.coordinator.waitSettled(ids, timeoutMs);
  }

  /** Unloads a service from devices (all that run it, or `to`) and marks its deployments undeployed. */
  undeploy(service: string, to?: string[]): Promise<Array<{ deviceId: string; ok: boolean; code?: string; cancelled?: boolean }>> {
    this.requireStarted();
    return this.coordinator.undeploy(service, to);
  }

  /** Sends one PLACEMENT to a device; resolves with its per-service results (code 0 = ok). */
  sendPlacement(deviceId: string, ops: PlacementOp[], planVersion?: number): Promise<Array<{ service: string; code: number }>> {
    return this.placements.send(deviceId, ops, planVersion);
  }

  /** Run a placement round now (what the placement timer does every `periods.placementMs`). */
  async placement(): Promise<PlacementRound | undefined> {
    this.requireStarted();
    return this.placements.run();
  }

  /** Devices that can take `service` now: serving sessions with the service ready. */
  candidates(service: string): RouteCandidate[] {
    return this.inference.candidates(service);
  }

  /**
   * Runs one inference on a device that has `service` ready (least loaded; see routing.ts) and
   * returns its outputs. Rejects with InferError: infer.no_device, infer.deadline, or the device's
   * own error (infer.bad_input, infer.runtime, …).
   */
  async infer(service: string, inputs: Tensor[], opts: { deadlineMs?: number; deviceId?: string } = {}): Promise<InferResult> {
    this.requireStarted();
    // A model split over devices: through its stages, unless a device holds it whole (or one is asked for).
    const group = opts.deviceId ? undefined : this.pipes.for(service);
    if (group && this.inference.candidates(service).length === 0) return this.pipes.infer(group, inputs, resolveNumber('deadlineMs', opts.deadlineMs, { default: this.o.requestMs, min: 1, max: 600_000, integer: true, unit: 'ms' }));
    return this.inference.infer(service, inputs, opts);
  }

  /**
   * Splits a model over a device group (stage order) and serves it as a pipeline: the partitioner
   * cuts it for the shares given (default equal), each stage is deployed as an ordinary artifact
   * (`<service>#<i>`) and placed with its stage; infer(service) then runs through the stages.
   */
  deployPipeline(opts: DeployPipelineOptions): Promise<PipelineGroup> {
    this.requireStarted();
    return this.pipes.deploy(opts);
  }

  /** The pipeline serving `service`, when it is split over devices. */
  pipeline(service: string): PipelineGroup | undefined {
    return this.pipes.for(service);
  }

  /** Every pipeline the server runs. */
  pipelines(): PipelineGroup[] {
    return this.pipes.groups.all();
  }

  /**
   * Opens a frame flow for `service` (frames-sensitive serving, frame-flows.ts): frames pushed at
   * about `fps` are sent under AIMD credits, packed into batched requests, dropped here when they
   * would miss their budget, and counted (flow.stats(): attainment, achieved FPS).
   */
  openFlow(service: string, opts: OpenFlowOptions): FrameFlow {
    this.requireStarted();
    return this.flows.add(service, opts);
  }

  // ───────────────────────────── shutdown ─────────────────────────────

  /**
   * Graceful shutdown: stop accepting links, let in-flight inferences finish (up to `drainMs`),
   * say BYE to every device, close links, commit the registry.
   */
  async close(opts: { drainMs?: number } = {}): Promise<void> {
    if (this.closing) return;
    // New links are refused from here on (attachStream checks `closing`).
    this.closing = true;
    // First, so subscribers see the bridge and its devices go offline (retained) before the links close.
    await this.bridge?.close();
    await this.flows.closeAll();
    this.timers.stop();
    this.feed.close();
    await shutDown(
      {
        inflightInfers: this.inference.inflight,
        http: this.http,
        connections: this.links.connections,
        linkListeners: this.links.listeners,
        live: this.live,
        coordinator: this.coordinator,
        store: this.started ? this.store : undefined,
        ownStore: !this.options.store,
      },
      opts.drainMs ?? 5000,
    );
  }
}
