import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one server, in its own registry (two servers in one process, e.g. in
 * tests, must not share counters). Gauges that mirror server state are computed at scrape time
 * through `collect`, so the hot path only increments counters.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly messages: Counter<'direction' | 'type'>;
  readonly authFailures: Counter<'code'>;
  readonly deploymentBytes: Counter<string>;
  readonly inferLatency: Histogram<'service' | 'outcome'>;
  readonly retries: Gauge<string>;
  readonly devicesByState: Gauge<'state'>;

  constructor(sources: { devicesByState(): Record<string, number>; linkRetries(): number }) {
    const registers = [this.registry];
    this.messages = new Counter({ name: 'epara_messages_total', help: 'Protocol messages handled by the server', labelNames: ['direction', 'type'], registers });
    this.authFailures = new Counter({ name: 'epara_auth_failures_total', help: 'Rejected handshakes by error code', labelNames: ['code'], registers });
    this.deploymentBytes = new Counter({ name: 'epara_deployment_bytes_total', help: 'Artifact bytes sent in DEPLOY_CHUNK messages (retransmissions included)', registers });
    this.inferLatency = new Histogram({
      name: 'epara_infer_latency_seconds',
      help: 'End-to-end latency of infer() calls',
      labelNames: ['service', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.retries = new Gauge({
      name: 'epara_link_retries_total',
      help: 'Frame retransmissions on device links since the server started',
      registers,
      collect() {
        this.set(sources.linkRetries());
      },
    });
    this.devicesByState = new Gauge({
      name: 'epara_devices',
      help: 'Devices by session state (offline: provisioned, no session)',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        for (const [state, n] of Object.entries(sources.devicesByState())) this.set({ state }, n);
      },
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
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
