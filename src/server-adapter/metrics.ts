import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MessageType } from '../protocol/index.js';

/** One live session as the metrics see it. */
export interface SessionSample {
  state: string;
  /** Last frame heard from the device (epoch ms). */
  lastHeardAt: number;
  /** False while the session waits for the device to resume on a new link. */
  linkOpen: boolean;
}

/** What the server's metrics read at scrape time. */
export interface MetricsSources {
  /** Live sessions by device id. */
  sessions(): ReadonlyMap<string, SessionSample>;
  /** The registry's devices (empty before start). */
  devices(): ReadonlyArray<{ id: string; status: string; lastSeenAt?: number }>;
  /** Links still in the handshake. */
  connecting(): number;
  /** Frame retransmissions since the server started, closed links included. */
  linkRetries(): number;
}

/**
 * Node's process metrics (CPU, memory, heap, event loop lag, GC, handles) under their standard
 * names, collected once per process: several servers in one process (tests, a gateway serving two
 * fleets) share them, and prom-client's collectors would otherwise register a GC observer and an
 * event-loop monitor per server.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
    // Gauges that end in _total, which promtool (and the exposition conventions) refuse for
    // anything but a counter; nodejs_active_{handles,requests,resources}{type} carry the same counts.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) processRegistry.removeSingleMetric(name);
  }
  return processRegistry;
}

const DIRECTIONS = ['in', 'out'] as const;

/**
 * Prometheus metrics of one server, in its own registry (two servers in one process, e.g. in
 * tests, must not share counters) plus the process metrics. Gauges that mirror server state are
 * computed at scrape time through `collect`, so the hot path only increments counters. prom-client
 * rather than hand-written text: it escapes label values, keeps the exposition format (HELP/TYPE,
 * histogram buckets, _total suffixes) right, and brings the standard process collectors.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  /** Every protocol message in and out by type (FrameLink.messageTap), responses included. */
  readonly messages: Counter<'direction' | 'type'>;
  readonly authFailures: Counter<'code'>;
  readonly deploymentBytes: Counter<string>;
  readonly inferLatency: Histogram<'service' | 'outcome'>;
  readonly retries: Counter<string>;
  readonly devicesByState: Gauge<'state'>;
  readonly deviceUp: Gauge<'device'>;
  readonly deviceLastSeen: Gauge<'device'>;
  readonly serviceGoodput: Gauge<'service'>;
  readonly serviceAttainment: Gauge<'service'>;
  private services: () => ReadonlyArray<{ service: string; goodputRps: number; attainment: number | null }> = () => [];

  /** The registry and sessions read once per scrape, shared by every gauge computed from them. */
  private snapshot: { sessions: ReadonlyMap<string, SessionSample>; devices: ReadonlyArray<{ id: string; status: string; lastSeenAt?: number }>; connecting: number } | undefined;

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry];
    const view = () => this.snapshot ?? { sessions: sources.sessions(), devices: sources.devices(), connecting: sources.connecting() };
    this.messages = new Counter({ name: 'epara_messages_total', help: 'Protocol messages received (every frame) and sent (first transmission) on device links, by type; responses included', labelNames: ['direction', 'type'], registers });
    // Every type at 0 from the start: a rate() over a type that has not happened yet still works.
    for (const direction of DIRECTIONS) for (const type of Object.keys(MessageType)) this.messages.inc({ direction, type }, 0);
    this.authFailures = new Counter({ name: 'epara_auth_failures_total', help: 'Rejected handshakes by error code', labelNames: ['code'], registers });
    this.deploymentBytes = new Counter({ name: 'epara_deployment_bytes_total', help: 'Artifact bytes sent in DEPLOY_CHUNK messages (retransmissions included)', registers });
    this.inferLatency = new Histogram({
      name: 'epara_infer_latency_seconds',
      help: 'End-to-end latency of infer() calls',
      labelNames: ['service', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    // A counter (it only grows: closed links' retries are kept), read from the links at scrape time.
    this.retries = new Counter({
      name: 'epara_link_retries_total',
      help: 'Frame retransmissions on device links since the server started',
      registers,
      collect() {
        this.reset();
        this.inc(sources.linkRetries());
      },
    });
    this.devicesByState = new Gauge({
      name: 'epara_devices',
      help: 'Devices by session state (offline: provisioned, no session)',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        const v = view();
        const live = new Map([...v.sessions].map(([id, s]) => [id, s.state]));
        for (const [state, n] of Object.entries(devicesByState(live, v.devices, v.connecting))) this.set({ state }, n);
      },
    });
    this.deviceUp = new Gauge({
      name: 'epara_device_up',
      help: 'Whether the device has a live session on an open link (1) or not (0); one series per registered device',
      labelNames: ['device'],
      registers,
      collect() {
        const v = view();
        this.reset();
        for (const d of deviceLiveness(v.sessions, v.devices)) this.set({ device: d.id }, d.up ? 1 : 0);
      },
    });
    this.deviceLastSeen = new Gauge({
      name: 'epara_device_last_seen_timestamp_seconds',
      help: 'When a frame was last heard from the device (Unix time; the registry value, persisted at most once a minute, for devices not connected)',
      labelNames: ['device'],
      registers,
      collect() {
        const v = view();
        this.reset();
        for (const d of deviceLiveness(v.sessions, v.devices)) if (d.lastSeenMs !== undefined) this.set({ device: d.id }, d.lastSeenMs / 1000);
      },
    });
    // Per service, over the scheduler's stats window (service-stats.ts); latency per service is epara_infer_latency_seconds{service}.
    const services = () => this.services();
    this.serviceGoodput = new Gauge({
      name: 'epara_service_goodput_rps',
      help: 'Requests per second answered within their SLO, per service, over the last minute',
      labelNames: ['service'],
      registers,
      collect() {
        this.reset();
        for (const s of services()) this.set({ service: s.service }, s.goodputRps);
      },
    });
    this.serviceAttainment = new Gauge({
      name: 'epara_service_slo_attainment_ratio',
      help: 'Fraction of finished requests answered within their SLO, per service, over the last minute (absent before any finished)',
      labelNames: ['service'],
      registers,
      collect() {
        this.reset();
        for (const s of services()) if (s.attainment !== null) this.set({ service: s.service }, s.attainment);
      },
    });
  }

  /** Where the per-service gauges read from (the server's scheduler). */
  serviceWindows(read: () => ReadonlyArray<{ service: string; goodputRps: number; attainment: number | null }>): void {
    this.services = read;
  }

  /** The exposition text: this server's metrics, then the process metrics. */
  async text(): Promise<string> {
    this.snapshot = { sessions: this.sources.sessions(), devices: this.sources.devices(), connecting: this.sources.connecting() };
    try {
      return (await this.registry.metrics()) + (await processMetrics().metrics());
    } finally {
      this.snapshot = undefined;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The `epara_devices{state}` gauge's values: live sessions by state, plus pending and offline registry entries. */
export function devicesByState(live: ReadonlyMap<string, string>, devices: ReadonlyArray<{ id: string; status: string }>, connecting: number): Record<string, number> {
  const out: Record<string, number> = { connecting: 0, registered: 0, active: 0, degraded: 0, pending: 0, offline: 0 };
  for (const state of live.values()) out[state] = (out[state] ?? 0) + 1;
  for (const d of devices) {
    if (d.status === 'pending') out.pending!++;
    else if (!live.has(d.id) && d.status === 'active') out.offline!++;
  }
  out.connecting = connecting;
  return out;
}

export interface DeviceLiveness {
  id: string;
  up: boolean;
  lastSeenMs?: number;
}

/**
 * One entry per registered device (status active: provisioned or registered; pending and revoked
 * devices have no liveness to report): up while a session is live on an open link; last seen from
 * the live session, else from the registry.
 */
export function deviceLiveness(sessions: ReadonlyMap<string, SessionSample>, devices: ReadonlyArray<{ id: string; status: string; lastSeenAt?: number }>): DeviceLiveness[] {
  const out: DeviceLiveness[] = [];
  for (const d of devices) {
    if (d.status !== 'active') continue;
    const s = sessions.get(d.id);
    const lastSeenMs = s ? Math.max(s.lastHeardAt, d.lastSeenAt ?? 0) : d.lastSeenAt;
    out.push({ id: d.id, up: s?.linkOpen === true, ...(lastSeenMs !== undefined ? { lastSeenMs } : {}) });
  }
  return out;
}
