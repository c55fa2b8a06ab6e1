import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { NonceCache, type ExistingSession } from '../device-mgmt/auth.js';
import { ArtifactStore } from '../device-mgmt/deployment/artifact-store.js';
import { Deployer } from '../device-mgmt/deployment/deployer.js';
import {
  generateDeviceKey,
  keyFromHex,
  keyToHex,
  loadOrCreateMasterKey,
  openKey,
  sealKey,
  validateDeviceClass,
  validateDeviceId,
  validateDeviceName,
} from '../device-mgmt/identity.js';
import { SqliteStore } from '../device-mgmt/registry/sqlite-store.js';
import type {
  ArtifactKind,
  AuditDurability,
  AuditEntry,
  AuditQuery,
  DeploymentRecord,
  DeploymentState,
  DeviceClass,
  DeviceRecord,
  RegistryStore,
  TaskCategory,
} from '../device-mgmt/registry/store.js';
import { isServing, livenessVerdict, Session, type LivenessPolicy, type SessionEvent } from '../device-mgmt/session.js';
import { StateViews, type DeviceStateView } from '../device-mgmt/state-view.js';
import { ConfigError, DeployError, EparaError, InferError, RegistryError } from '../errors.js';
import type { EventArgs } from '../event-map.js';
import { resolveNumber } from '../options.js';
import {
  DEFAULT_MAX_FRAME,
  errorForCode,
  errorInfo,
  WIRE,
  PROTOCOL_MAX,
  PROTOCOL_MIN,
  type ErrorName,
  type Frame,
  type HelloMessage,
  type Message,
  type PlacementOp,
  type Tensor,
} from '../protocol/index.js';
import type { ByteStream, Listener } from '../transport/byte-stream.js';
import { FrameLink } from '../transport/frame-link.js';
import { listenTcp as transportListenTcp, type TcpListenOptions } from '../transport/tcp.js';
import { DeviceConnection, type ConnectionHost, type HandshakeConfig, type RejectionCode } from './connection.js';
import type { DeviceLink } from './device-link.js';
import type { DeviceInfo, DeviceStateChange, ServerEvents } from './events.js';
import { startHttpApi, type HttpApi } from './http-api.js';
import type { ArtifactSource } from './deploy-artifact.js';
import { ServerMetrics } from './metrics.js';
import { pickDevice, routable, type RouteCandidate } from './routing.js';
import { DeploymentCoordinator, type DeployAnswer } from './deployments.js';
import { isDeploymentMessage, onDeploymentMessage, type DeployMessageHost } from './deploy-messages.js';
import { RefusalLimiter, sourceAddress } from './refusal-limiter.js';
import { resolveServerOptions, type EparaServerOptions, type ResolvedServerOptions } from './server-options.js';

export type { EparaServerOptions } from './server-options.js';
import { placementRound, scheduledPick, type LiveDevice, type PlacementRound, type SchedulerHost } from './scheduler-wiring.js';
import { EMPTY_PLACEMENT } from '../scheduler/placement.js';
import type { Placement } from '../scheduler/types.js';

/** A device with a session on this server. */
interface Live {
  session: Session;
  conn: DeviceConnection | undefined;
  hello: HelloMessage;
  /** infer() calls in flight on this device (routing signal before STATE catches up). */
  inflight: number;
  nextRttProbeAt: number;
  lastPersistedSeenAt: number;
  /** Frames received on the link at the last sweep. */
  framesIn: number;
}

export interface ProvisionOptions {
  id: string;
  name?: string;
  deviceClass: DeviceClass;
  /** Use this key (hex) instead of generating one, e.g. printed on the device's label. */
  key?: string;
}

export interface DeployOptions {
  /** The artifact bytes, a path to stream them from, or the digest of an uploaded one (PUT /artifacts). */
  artifact: ArtifactSource;
  service: string;
  version: string;
  kind: ArtifactKind;
  category: TaskCategory;
  /** Device ids, a device class, or 'all' (every active provisioned device). */
  to: string[] | DeviceClass | 'all';
  meta?: Record<string, unknown>;
  /** Resolve once every deployment settled (default) or right after they are recorded. */
  wait?: boolean;
  /** With wait: stop waiting after this long and resolve with the current records. */
  timeoutMs?: number;
}

export interface InferResult {
  outputs: Tensor[];
  deviceId: string;
  queueUs?: number;
  computeUs?: number;
}

/**
 * The server a gateway app runs: accepts device links (TCP/TLS, serial, BLE — anything that
 * yields a ByteStream), registers and authenticates devices, tracks liveness and state, deploys
 * artifacts and routes inference requests.
 */
export class EparaServer extends EventEmitter<EventArgs<ServerEvents>> {
  readonly dataDir: string;
  private readonly o: ResolvedServerOptions;
  private store!: RegistryStore;
  private masterKey!: Uint8Array;
  private artifacts!: ArtifactStore;
  private deployer!: Deployer;
  readonly views = new StateViews();
  readonly nonces = new NonceCache();
  readonly handshake: HandshakeConfig;
  readonly metrics: ServerMetrics;
  private readonly host: ConnectionHost;
  private readonly live = new Map<string, Live>();
  private readonly connections = new Set<DeviceConnection>();
  private readonly linkListeners: Listener[] = [];
  private readonly refusals: RefusalLimiter;
  private coordinator!: DeploymentCoordinator;
  private readonly inflightInfers = new Set<Promise<unknown>>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private placementTimer: NodeJS.Timeout | undefined;
  private http: HttpApi | undefined;
  private started = false;
  private closing = false;
  private nextRequestId = 1;
  private currentPlacement: Placement = EMPTY_PLACEMENT;
  private placementRunning = false;
  /** The last placement round the scheduler ran (undefined without `scheduler`). */
  lastPlacement: PlacementRound | undefined;
  private retriesOfClosedLinks = 0;

  constructor(private readonly options: EparaServerOptions) {
    super();
    if (!options || typeof options.dataDir !== 'string' || options.dataDir.length === 0) {
      throw new ConfigError({ code: 'config.data_dir', reason: 'EparaServer needs a dataDir', hint: "pass { dataDir: './.epara-data' }", field: 'dataDir' });
    }
    this.dataDir = options.dataDir;
    this.o = resolveServerOptions(options);
    this.refusals = new RefusalLimiter(options.refusalLimit);
    this.handshake = {
      versions: { min: PROTOCOL_MIN, max: PROTOCOL_MAX },
      maxFrame: this.o.maxFrame,
      window: this.o.window,
      heartbeatMs: this.o.heartbeatMs,
      minHeartbeatMs: Math.min(100, this.o.heartbeatMs),
      maxHeartbeatMs: Math.max(this.o.heartbeatMs, Math.floor(this.o.leaseMs / (this.o.missedHeartbeats + 1))),
      leaseMs: this.o.leaseMs,
      stateMs: this.o.stateSyncMs,
      authTimeoutMs: this.o.authTimeoutMs,
      openEnrolment: options.openEnrolment === true,
    };
    this.host = this.makeHost();
    this.metrics = new ServerMetrics({
      sessions: () => new Map([...this.live].map(([id, l]) => [id, { state: l.session.state, lastHeardAt: l.session.lastHeardAt, linkOpen: l.conn !== undefined }])),
      devices: () => (this.started ? this.store.listDevices() : []),
      connecting: () => [...this.connections].filter((c) => !c.isReady).length,
      linkRetries: () => this.retriesOfClosedLinks + [...this.connections].reduce((n, c) => n + c.link.stats.retries, 0),
    });
    this.views.subscribe((v) => this.emit('device-view', v));
    // An 'error' event with no listener would throw and crash the gateway app; keep them observable but harmless.
    this.on('error', () => undefined);
  }

  /** Opens the registry, resumes bookkeeping and starts timers and the HTTP API. Idempotent. */
  async start(): Promise<this> {
    if (this.started) return this;
    this.masterKey = loadOrCreateMasterKey(this.dataDir);
    this.store =
      this.options.store ??
      new SqliteStore(join(this.dataDir, 'registry.sqlite'), {
        ...this.options.registry,
        onBackgroundError: (err) => this.emit('error', err),
      });
    this.artifacts = new ArtifactStore(this.dataDir);
    this.deployer = new Deployer(
      this.store,
      this.artifacts,
      {
        progress: (p) => this.coordinator.progress(p),
        bytesSent: (_id, n) => this.metrics.deploymentBytes.inc(n),
      },
      { chunkSize: this.o.chunkSize, resultTimeoutMs: this.o.resultTimeoutMs, requestTimeoutMs: this.o.deployRequestTimeoutMs },
    );
    const sweepMs = Math.max(20, Math.min(1000, Math.floor(this.o.heartbeatMs / 4)));
    this.sweepTimer = setInterval(() => this.sweep(), sweepMs);
    this.sweepTimer.unref();
    if (this.options.planner || this.options.scheduler) {
      this.placementTimer = setInterval(() => void this.runPlanner(), this.o.placementMs);
      this.placementTimer.unref();
    }
    this.coordinator = new DeploymentCoordinator(
      {
        store: () => this.store,
        artifacts: () => this.artifacts,
        deployer: () => this.deployer,
        readyConn: (id) => {
          // Right after WELCOME (SPEC §7.1 restricts only what comes before it): the device SDK holds
          // requests that arrive behind WELCOME until its handshake is done. Waiting for the device
          // to speak first left a co-simulated FPGA, which only answers, with its deploy unsent.
          const c = this.live.get(id)?.conn;
          return c?.isReady ? c : undefined;
        },
        closing: () => this.closing,
        audit: (e) => this.audit(e),
        emitProgress: (p) => this.emit('deployment-progress', p),
        emitError: (err) => this.emit('error', err),
        sendPlacement: (id, ops) => this.sendPlacement(id, ops),
        views: () => this.views,
      },
      { chunkSize: this.o.chunkSize, retryMs: this.o.deployRetryMs },
    );
    this.coordinator.load(this.store.listDeployments());
    if (this.options.http) this.http = await startHttpApi(this, this.options.http, (e) => this.audit(e));
    this.started = true;
    return this;
  }

  /** Where the HTTP API listens, when enabled. */
  get httpAddress(): { host: string; port: number } | undefined {
    return this.http?.address;
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
    this.linkListeners.push(listener);
    listener.on('connection', (stream) => this.attachStream(stream));
    listener.on('error', (err) => this.emit('error', err));
  }

  /** Serve one already-open stream (e.g. a UART with one device behind it). */
  attachStream(stream: ByteStream): DeviceConnection | undefined {
    if (this.closing || !this.started || !this.refusals.admits(sourceAddress(stream.description), Date.now())) {
      void stream.close().catch(() => undefined);
      return undefined;
    }
    // Devices send few requests (HELLO, AUTH, HEARTBEAT, PING) and rarely more than one at a time;
    // a response cache of 4 entries answers any retransmission while costing a fraction of the
    // transport's default per link, which matters at 10k links.
    const link = new FrameLink(stream, { maxFrame: DEFAULT_MAX_FRAME, responseCacheSize: 4, ...this.options.link }) as unknown as DeviceLink;
    link.messageTap = (direction, type) => this.metrics.messages.inc({ direction, type });
    const conn = new DeviceConnection(link, stream.description, this.host);
    this.connections.add(conn);
    link.on('close', () => {
      this.retriesOfClosedLinks += link.stats.retries;
      this.connections.delete(conn);
    });
    return conn;
  }

  // The ConnectionHost the handshake talks to; an object so DeviceConnection sees only this surface.
  private makeHost(): ConnectionHost {
    return {
    handshake: this.handshake,
    nonces: this.nonces,
    lookupDevice: (id) => this.store.getDevice(id),
    deviceKey: (id) => {
      const sealed = this.store.getSealedKey(id);
      return sealed ? openKey(this.masterKey, id, sealed) : undefined;
    },
    enrol: (conn, hello) => this.enrol(conn, hello),
    existingSession: (id) => this.existingSession(id),
    bind: (conn, candidate, action) => this.bind(conn, candidate, action),
    welcomed: (conn, session, resumed) => this.welcomed(conn, session, resumed),
    rejected: (conn, code, reason, deviceId) => this.rejected(conn, code, reason, deviceId),
    message: (conn, frame, reply) => this.onMessage(conn, frame, reply),
    closed: (conn, err) => this.onConnClosed(conn, err),
    };
  }

  private existingSession(id: string): ExistingSession | undefined {
    const l = this.live.get(id);
    if (!l || l.session.terminal) return undefined;
    return { sessionId: l.session.sessionId, linkOpen: l.conn !== undefined && l.session.linkOpen, alive: true };
  }

  private enrol(conn: DeviceConnection, hello: HelloMessage): boolean {
    // Unknown ids are free to invent: without a bound a flood of HELLOs would grow the registry forever.
    if (this.store.countDevices('pending') >= this.o.maxPending) return false;
    try {
      this.store.insertDevice(
        {
          id: hello.deviceId,
          name: hello.deviceId,
          deviceClass: hello.deviceClass,
          status: 'pending',
          createdAt: Date.now(),
          firmware: hello.firmware,
          caps: hello.caps as unknown as Record<string, unknown>,
          lastRemote: conn.remote,
        },
        undefined,
      );
      this.audit({ event: 'device.enrolled', deviceId: hello.deviceId, remote: conn.remote, detail: `pending approval (${hello.deviceClass}, firmware ${hello.firmware})` }, 'immediate');
      return true;
    } catch (err) {
      this.emit('error', err as Error);
      return false;
    }
  }

  private bind(conn: DeviceConnection, candidate: Session, action: 'new' | 'resume'): Session {
    const now = Date.now();
    const id = candidate.deviceId;
    const existing = this.live.get(id);
    const hello = conn.hello!;
    if (action === 'resume' && existing) {
      const old = existing.conn;
      existing.conn = conn;
      existing.hello = hello;
      existing.framesIn = conn.link.stats.framesIn;
      this.applySession(existing.session, 'resumed', now);
      // The old link (half-open after a device reboot) must not act for the session any more.
      if (old && old !== conn) old.close();
      return existing.session;
    }
    if (existing && !existing.session.terminal) {
      // The old session's link is gone and the device did not ask to resume (it rebooted): the
      // session is replaced, which the log says as such, not as a device that left.
      this.applySession(existing.session, 'bye', now, 'session.superseded');
    }
    this.applySession(candidate, 'auth_ok', now);
    this.live.set(id, { session: candidate, conn, hello, inflight: 0, nextRttProbeAt: now + this.o.rttProbeMs, lastPersistedSeenAt: now, framesIn: conn.link.stats.framesIn });
    return candidate;
  }

  private welcomed(conn: DeviceConnection, session: Session, resumed: boolean): void {
    // Runs after the WELCOME write resolved: the server may be shutting down meanwhile.
    if (this.closing) return;
    const id = session.deviceId;
    const hello = conn.hello!;
    this.store.touchDevice(id, { at: Date.now(), firmware: hello.firmware, caps: hello.caps as unknown as Record<string, unknown>, remote: conn.remote });
    this.audit({ event: resumed ? 'auth.resumed' : 'auth.ok', deviceId: id, remote: conn.remote, detail: `protocol ${conn.version}, maxFrame ${conn.limits!.maxFrame}, window ${conn.limits!.window}` });
    const record = this.store.getDevice(id);
    if (record) this.emit('device-registered', { ...this.info(record), resumed });
    // Deployments start once the device has spoken after WELCOME (first HEARTBEAT or STATE): a
    // device may still be wiring its request handlers when the WELCOME lands.
  }

  private rejected(conn: DeviceConnection, code: RejectionCode, reason: string, deviceId: string | undefined): void {
    this.metrics.authFailures.inc({ code });
    if (!this.refusals.refuse(sourceAddress(conn.remote), Date.now())) return;
    const entry: AuditEntry = { at: Date.now(), event: code, remote: conn.remote, detail: reason };
    if (deviceId !== undefined) entry.deviceId = deviceId;
    this.audit(entry, 'immediate');
  }

  private applySession(s: Session, event: SessionEvent, now: number, leftAs: 'device.left' | 'session.superseded' = 'device.left'): void {
    const previous = s.state;
    if (!s.apply(event, now)) return;
    const change: DeviceStateChange = { deviceId: s.deviceId, state: s.state, previous };
    this.emit('device-state', change);
    if (s.state === 'active' && previous === 'registered') this.coordinator.kick(s.deviceId);
    if (s.state === 'lost') {
      this.audit({ event: 'device.lost', deviceId: s.deviceId, detail: `no heartbeat for ${this.o.leaseMs} ms` });
      this.emit('device-lost', change);
    } else if (s.state === 'left') {
      this.audit(leftAs === 'device.left' ? { event: leftAs, deviceId: s.deviceId } : { event: leftAs, deviceId: s.deviceId, detail: 'a new session replaced it' });
    }
  }

  private onConnClosed(conn: DeviceConnection, _err?: Error): void {
    const id = conn.session?.deviceId;
    if (id === undefined) return;
    const l = this.live.get(id);
    // A link that was replaced by a resumed one no longer speaks for the session.
    if (!l || l.conn !== conn) return;
    l.conn = undefined;
    if (!l.session.terminal) this.applySession(l.session, 'link_down', Date.now());
  }

  private onMessage(conn: DeviceConnection, frame: Frame, reply: ((msg: Message) => Promise<void>) | undefined): void {
    const m = frame.message;
    const id = conn.session!.deviceId;
    const l = this.live.get(id);
    if (!l || l.conn !== conn) {
      if (reply) void reply(toError('auth.not_authenticated', 'this link no longer carries a session')).catch(() => undefined);
      return;
    }
    const now = Date.now();
    switch (m.type) {
      case 'HEARTBEAT':
        this.heard(l, now);
        if (reply) {
          void reply({ type: 'HEARTBEAT_ACK', leaseMs: this.o.leaseMs }).catch(() => undefined);
        }
        return;
      case 'STATE':
        this.heard(l, now);
        this.views.report(id, m, now);
        return;
      case 'PING':
        if (reply) void reply(m.data ? { type: 'PONG', data: m.data } : { type: 'PONG' }).catch(() => undefined);
        return;
      case 'BYE':
        this.applySession(l.session, 'bye', now);
        this.live.delete(id);
        conn.close();
        return;
      case 'ERROR':
        this.audit({ event: 'device.error', deviceId: id, remote: conn.remote, detail: `${errorInfo(m.code)?.name ?? m.code}: ${m.reason}` });
        return;
      default:
        if (isDeploymentMessage(m)) {
          const refusal = onDeploymentMessage(this.deployMessages, id, conn.remote, m);
          if (refusal) void (reply ? reply(refusal) : conn.link.notify(refusal)).catch(() => undefined);
          return;
        }
        if (reply) void reply(toError('msg.unexpected', `the server does not take ${m.type} from a device`)).catch(() => undefined);
    }
  }

  private readonly deployMessages: DeployMessageHost = { deployer: () => this.deployer, store: () => this.store, audit: (e, d) => this.audit(e, d) };

  private heard(l: Live, now: number): void {
    this.applySession(l.session, 'heard', now);
    // last_seen is persisted at most once a minute per device: the registry is not a heartbeat log.
    if (now - l.lastPersistedSeenAt >= 60_000) {
      l.lastPersistedSeenAt = now;
      this.store.touchDevice(l.session.deviceId, { at: now });
    }
  }

  private readonly liveness = (): LivenessPolicy => ({ heartbeatMs: this.o.heartbeatMs, missedHeartbeats: this.o.missedHeartbeats, leaseMs: this.o.leaseMs });

  /** One pass over every session: degrade the silent, lose the expired, probe round-trip times. */
  private sweep(): void {
    const now = Date.now();
    for (const r of this.refusals.summary(now)) this.audit({ event: 'auth.refusals_suppressed', remote: r.remote, detail: r.detail }, 'immediate');
    const base = this.liveness();
    for (const [id, l] of this.live) {
      // SPEC §7.2: any frame from the device counts as heard, not only HEARTBEAT and STATE (a
      // device busy answering DEPLOY_CHUNKs is alive).
      const framesIn = l.conn?.link.stats.framesIn ?? 0;
      if (framesIn > l.framesIn) {
        l.framesIn = framesIn;
        if (l.session.state !== 'registered') this.heard(l, now);
      }
      const policy = l.conn?.limits ? { ...base, heartbeatMs: l.conn.limits.keepaliveMs } : base;
      const v = livenessVerdict({ state: l.session.state, lastHeardAt: l.session.lastHeardAt, linkOpen: l.conn !== undefined }, now, policy);
      if (v === 'missed') this.applySession(l.session, 'missed', now);
      else if (v === 'lease_expired') {
        this.applySession(l.session, 'lease_expired', now);
        this.live.delete(id);
        l.conn?.close();
      }
      if (this.o.rttProbeMs > 0 && l.conn && now >= l.nextRttProbeAt) {
        l.nextRttProbeAt = now + this.o.rttProbeMs;
        const t0 = performance.now();
        l.conn.link.request({ type: 'PING' }, { retries: 0 }).then(
          () => this.views.rtt(id, performance.now() - t0, Date.now()),
          () => undefined,
        );
      }
    }
  }

  /**
   * Auth failures and changes to who may connect are committed before the server acts on them
   * (the rejection goes out after this returns), so a crash right after cannot lose them; routine
   * events (auth.ok, deploy progress, liveness) are batched so a registration storm stays cheap.
   */
  private audit(e: Omit<AuditEntry, 'at'> & { at?: number }, durability: AuditDurability = 'batched'): void {
    const entry: AuditEntry = { at: e.at ?? Date.now(), ...e } as AuditEntry;
    try {
      this.store.appendAudit(entry, durability);
    } catch (err) {
      // A full disk must not turn a refused handshake into a crashed gateway; the operator sees it.
      this.emit('error', err as Error);
    }
    this.emit('audit', entry);
  }

  // ───────────────────────────── registry API ─────────────────────────────

  /** Creates a device entry with a fresh CSPRNG key. The key is returned once and never again. */
  provision(p: ProvisionOptions): { id: string; key: string } {
    this.requireStarted();
    const id = validateDeviceId(p?.id);
    const deviceClass = validateDeviceClass(p.deviceClass);
    const key = p.key !== undefined ? keyFromHex(p.key) : generateDeviceKey();
    this.store.insertDevice({ id, name: p.name === undefined ? id : validateDeviceName(p.name), deviceClass, status: 'active', createdAt: Date.now() }, sealKey(this.masterKey, id, key));
    this.audit({ event: 'device.provisioned', deviceId: id, detail: `class ${deviceClass}${p.key !== undefined ? ', operator-supplied key' : ''}` }, 'immediate');
    return { id, key: keyToHex(key) };
  }

  /** Approves a pending (open-enrolment) device; returns its key once. */
  approve(id: string, opts: { key?: string } = {}): { id: string; key: string } {
    this.requireStarted();
    validateDeviceId(id);
    const d = this.store.getDevice(id);
    if (!d || d.status !== 'pending') {
      throw new RegistryError({
        code: 'registry.not_pending',
        reason: d ? `device ${id} is ${d.status}, not pending` : `no device ${id} in the registry`,
        hint: 'list pending devices with `epara devices --pending`',
        field: 'id',
      });
    }
    const key = opts.key !== undefined ? keyFromHex(opts.key) : generateDeviceKey();
    this.store.setDeviceStatus(id, 'active', sealKey(this.masterKey, id, key));
    this.audit({ event: 'device.approved', deviceId: id }, 'immediate');
    return { id, key: keyToHex(key) };
  }

  /** Revokes a device: its session ends now and it can no longer authenticate. */
  revoke(id: string): void {
    this.requireStarted();
    this.store.setDeviceStatus(validateDeviceId(id), 'revoked');
    this.audit({ event: 'device.revoked', deviceId: id }, 'immediate');
    const l = this.live.get(id);
    if (l) {
      this.applySession(l.session, 'bye', Date.now());
      this.live.delete(id);
      l.conn?.close();
    }
  }

  devices(): DeviceInfo[] {
    this.requireStarted();
    return this.store.listDevices().map((d) => this.info(d));
  }

  device(id: string): DeviceInfo | undefined {
    this.requireStarted();
    const d = this.store.getDevice(id);
    return d ? this.info(d) : undefined;
  }

  private info(d: DeviceRecord): DeviceInfo {
    const l = this.live.get(d.id);
    const info: DeviceInfo = { ...d, state: l ? l.session.state : 'offline' };
    if (l) {
      info.sessionStartedAt = l.session.startedAt;
      info.lastHeardAt = l.session.lastHeardAt;
      if (l.conn) Object.assign(info, { remote: l.conn.remote, protocolVersion: l.conn.version });
      info.firmware = l.hello.firmware;
      info.caps = l.hello.caps as unknown as Record<string, unknown>;
    }
    const v = this.views.get(d.id);
    if (v) {
      info.view = v;
      // SPEC §7.2: a view older than three STATE periods is stale.
      info.viewStale = Date.now() - v.updatedAt > 3 * this.o.stateSyncMs;
    }
    return info;
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

  // ───────────────────────────── deployment ─────────────────────────────

  /**
   * Records a deployment per target device and starts the transfers on the connected ones;
   * the others get theirs when they connect. By default resolves once every deployment settled
   * (ready / failed / rolled-back) — check each record's `state` and `errorCode`.
   */
  deploy(opts: DeployOptions): Promise<DeployAnswer[]> {
    this.requireStarted();
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
  async sendPlacement(deviceId: string, ops: PlacementOp[], planVersion = Date.now() % 2 ** 31): Promise<Array<{ service: string; code: number }>> {
    const conn = this.live.get(deviceId)?.conn;
    if (!conn?.isReady) return ops.map((o) => ({ service: o.service, code: WIRE['link.closed'] }));
    try {
      const ack = await conn.link.request({ type: 'PLACEMENT', planVersion, ops });
      if (ack.type !== 'PLACEMENT_ACK') return ops.map((o) => ({ service: o.service, code: WIRE['msg.unexpected'] }));
      return ack.results;
    } catch (err) {
      const wire = err instanceof EparaError ? err.wire ?? WIRE.internal : WIRE.internal;
      return ops.map((o) => ({ service: o.service, code: wire }));
    }
  }

  private async runPlanner(): Promise<PlacementRound | undefined> {
    // One round at a time: a slow round (deployments in it) must not overlap the next tick.
    if (this.placementRunning || this.closing) return undefined;
    this.placementRunning = true;
    try {
      let round: PlacementRound | undefined;
      if (this.options.scheduler) {
        round = await placementRound(this.schedulerHost, this.options.scheduler, this.currentPlacement, Date.now());
        this.currentPlacement = round.result.placement;
        this.lastPlacement = round;
      }
      await this.options.planner?.(this);
      return round;
    } catch (err) {
      this.emit('error', err as Error);
      return undefined;
    } finally {
      this.placementRunning = false;
    }
  }

  /** Run a placement round now (what the placement timer does every `periods.placementMs`). */
  async placement(): Promise<PlacementRound | undefined> {
    this.requireStarted();
    return this.runPlanner();
  }

  private liveDevice(id: string, l: Live): LiveDevice {
    return {
      id,
      deviceClass: l.hello.deviceClass,
      caps: { memoryKiB: l.hello.caps.memoryKiB, gpuCount: l.hello.caps.gpuCount ?? 0 },
      serving: l.conn?.isReady === true && isServing(l.session.state),
      view: this.views.get(id),
      inflight: l.inflight,
    };
  }

  private readonly schedulerHost: SchedulerHost = {
    liveDevices: () => [...this.live].map(([id, l]) => this.liveDevice(id, l)),
    deployments: (f) => this.store.listDeployments(f),
    redeploy: async (from, deviceId) => {
      // Waits for the transfer to settle: the 'load' op that follows needs the artifact on the device.
      const [rec] = await this.deploy({
        artifact: { sha256: from.sha256 },
        service: from.service,
        version: from.version,
        kind: from.kind,
        category: from.category,
        to: [deviceId],
        ...(from.meta ? { meta: from.meta } : {}),
        timeoutMs: this.o.resultTimeoutMs,
      });
      if (rec?.state !== 'ready') {
        throw new DeployError({ code: rec?.errorCode ?? 'deploy.load_failed', reason: `deployment of ${from.service}@${from.version} to ${deviceId} ended ${rec?.state ?? 'missing'}`, hint: 'see the deployment record and the device log' });
      }
    },
    sendPlacement: (deviceId, ops, planVersion) => this.sendPlacement(deviceId, ops, planVersion),
  };

  // ───────────────────────────── inference ─────────────────────────────

  /** Devices that can take `service` now: serving sessions with the service ready. */
  candidates(service: string): RouteCandidate[] {
    const out: RouteCandidate[] = [];
    for (const [id, l] of this.live) {
      if (!l.conn?.isReady || !isServing(l.session.state)) continue;
      const v = this.views.get(id);
      const reported = v?.services.find((s) => s.name === service);
      if (!routable(this.coordinator.latestState(id, service), reported?.status)) continue;
      out.push({ deviceId: id, load: v?.load ?? 0, queueLen: reported?.queueLen ?? 0, inflight: l.inflight, violationRate: reported?.violationRate ?? 0 });
    }
    return out;
  }

  /**
   * Runs one inference on a device that has `service` ready (least loaded; see routing.ts) and
   * returns its outputs. Rejects with InferError: infer.no_device, infer.deadline, or the device's
   * own error (infer.bad_input, infer.runtime, …).
   */
  async infer(service: string, inputs: Tensor[], opts: { deadlineMs?: number; deviceId?: string } = {}): Promise<InferResult> {
    this.requireStarted();
    const deadlineMs = resolveNumber('deadlineMs', opts.deadlineMs, { default: this.o.requestMs, min: 1, max: 600_000, integer: true, unit: 'ms' });
    const t0 = performance.now();
    const cands = this.candidates(service).filter((c) => !opts.deviceId || c.deviceId === opts.deviceId);
    const sched = this.options.scheduler;
    const pick =
      sched && sched.services.some((s) => s.name === service)
        ? scheduledPick(sched, service, cands.map((c) => ({ device: this.liveDevice(c.deviceId, this.live.get(c.deviceId)!), queueLen: c.queueLen, violationRate: c.violationRate })), Date.now(), deadlineMs)
        : pickDevice(cands);
    if (!pick) {
      this.metrics.inferLatency.observe({ service, outcome: 'infer.no_device' }, 0);
      throw new InferError({
        code: 'infer.no_device',
        wire: WIRE['infer.no_device'],
        reason: `no connected device has service ${service} ready${opts.deviceId ? ` (asked for ${opts.deviceId})` : ''}`,
        hint: 'deploy the service (epara deploy) and check `epara devices` for ready, active devices',
        details: { service, connected: this.live.size },
      });
    }
    const l = this.live.get(pick)!;
    const requestId = this.nextRequestId;
    this.nextRequestId = (this.nextRequestId % 0xffffffff) + 1;
    l.inflight++;
    // The deadline bounds the whole call. Within it the request is retransmitted (RTX) so a frame
    // lost on a noisy UART/SPP link does not cost the whole budget; the device answers a
    // retransmission of a request it already runs from its response cache, never twice. Attempt
    // timeouts grow ×1.5 (FrameLink), so the first is sized for all of them to fit the deadline.
    const retries = this.o.inferRetries;
    let span = 0;
    for (let k = 0; k <= retries; k++) span += Math.min(4, 1.5 ** k);
    const call = l.conn!.link.request(
      { type: 'INFER_REQUEST', requestId, service, inputs, deadlineUs: deadlineMs * 1000 },
      { timeoutMs: Math.max(1, deadlineMs / span), retries },
    );
    this.inflightInfers.add(call);
    try {
      const r = await call;
      if (r.type !== 'INFER_RESPONSE') {
        throw new InferError({ code: 'infer.runtime', reason: `device ${pick} answered INFER_REQUEST with ${r.type}`, hint: 'update the device firmware' });
      }
      this.metrics.inferLatency.observe({ service, outcome: 'ok' }, (performance.now() - t0) / 1000);
      const out: InferResult = { outputs: r.outputs, deviceId: pick };
      if (r.queueUs !== undefined) out.queueUs = r.queueUs;
      if (r.computeUs !== undefined) out.computeUs = r.computeUs;
      return out;
    } catch (err) {
      let e = err as EparaError;
      if (e instanceof EparaError && e.code === 'link.timeout') {
        e = new InferError({
          code: 'infer.deadline',
          wire: WIRE['infer.deadline'],
          reason: `device ${pick} did not answer ${service} within the ${deadlineMs} ms deadline`,
          hint: 'raise deadlineMs, or deploy the service on more devices',
          details: { deviceId: pick, deadlineMs },
          cause: err,
        });
        // Tell the device to stop working on a request nobody waits for.
        void l.conn?.link.notify({ type: 'INFER_CANCEL', requestId }).catch(() => undefined);
      }
      this.metrics.inferLatency.observe({ service, outcome: e instanceof EparaError ? e.code : 'internal' }, (performance.now() - t0) / 1000);
      throw e;
    } finally {
      l.inflight--;
      this.inflightInfers.delete(call);
    }
  }

  // ───────────────────────────── shutdown ─────────────────────────────

  /**
   * Graceful shutdown: stop accepting links, let in-flight inferences finish (up to `drainMs`),
   * say BYE to every device, close links, commit the registry.
   */
  async close(opts: { drainMs?: number } = {}): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.placementTimer) clearInterval(this.placementTimer);
    // New links are refused from here on (attachStream checks `closing`); listeners close after
    // the drain because closing a TCP listener also ends the links it accepted.
    const drainMs = opts.drainMs ?? 5000;
    if (this.inflightInfers.size > 0) {
      await Promise.race([Promise.allSettled([...this.inflightInfers]), new Promise((r) => setTimeout(r, drainMs).unref())]);
    }
    await this.http?.close();
    const now = Date.now();
    await Promise.all(
      [...this.connections].map(async (c) => {
        if (c.isReady) await c.link.notify({ type: 'BYE', code: 0, reason: 'server shutting down' }).catch(() => undefined);
        c.close();
      }),
    );
    await Promise.all(this.linkListeners.map((l) => l.close().catch(() => undefined)));
    for (const l of this.live.values()) if (!l.session.terminal) this.applySession(l.session, 'bye', now);
    this.live.clear();
    this.coordinator?.wakeAll();
    if (this.started) {
      this.store.flush();
      if (!this.options.store) this.store.close();
    }
  }
}

function toError(code: ErrorName, reason: string): Message {
  const e = errorForCode(code, { reason });
  return { type: 'ERROR', code: e.wire ?? WIRE.internal, reason: e.reason, hint: e.hint };
}
