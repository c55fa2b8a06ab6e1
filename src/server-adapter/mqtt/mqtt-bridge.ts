import { EventEmitter } from 'node:events';
import { MqttError, type EparaError } from '../../errors.js';
import { stateSummary } from '../event-feed.js';
import type { EventLog } from '../event-log.js';
import type { PlanChangedData, StreamEvent } from '../event-stream-types.js';
import type { DeviceInfo } from '../events.js';
import { loadMqtt, type MqttClientLike, type PublishOpts } from './mqtt-client-module.js';
import { answerInfer, type InferFn } from './mqtt-infer.js';
import { resolveMqttOptions, type MqttBridgeOptions, type ResolvedMqttOptions } from './mqtt-options.js';
import { bridgeDiscoveryConfig, discoveryConfigs, OFFLINE, ONLINE, RESERVED_IDS, topics, type DeviceStatePayload, type Topics } from './mqtt-topics.js';

/**
 * The MQTT bridge (`epara serve --mqtt`): publishes the fleet to a broker as zigbee2mqtt does
 * (retained availability and state per device, Home Assistant discovery, deployment events, the
 * plan; topics in mqtt-topics.ts) from the server's event stream, and answers inference requests
 * that come over MQTT. The broker being down never stops the gateway: the bridge reconnects after
 * `reconnectMs`, doubling the pause up to `maxReconnectMs` while it stays away, nothing is queued meanwhile (memory stays bounded), and on every (re)connect the
 * retained topics are published afresh from what the server knows now.
 */
export interface BridgeHost {
  readonly eventLog: EventLog;
  devices(): DeviceInfo[];
  device(id: string): DeviceInfo | undefined;
  infer: InferFn;
}

export type BridgeStatus = { kind: 'connected'; broker: string } | { kind: 'disconnected'; broker: string } | { kind: 'error'; error: EparaError };

export interface BridgeEvents {
  status: [BridgeStatus];
}

const SERVING = new Set(['registered', 'active']);
const OFFLINE_KINDS = new Set(['device.degraded', 'device.lost', 'device.left', 'device.revoked']);

/** What the broker or the network said, as a typed error with a hint that names what to change. */
export function brokerError(err: Error & { code?: string | number }, o: ResolvedMqttOptions): MqttError {
  const b = o.broker;
  const code = err.code;
  const first = (err.message ?? String(err)).split('\n', 1)[0]!;
  if (code === 134 || code === 135 || code === 4 || code === 5 || /not authori[sz]ed|bad user ?name or password/i.test(first)) {
    return new MqttError({ code: 'mqtt.auth', reason: `the broker at ${b.display} refused the login: ${first}`, hint: b.username ? 'check user:password in the --mqtt URL against the broker (mosquitto_passwd)' : 'the broker wants a login: pass --mqtt mqtt://user:password@host:port', cause: err });
  }
  if (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|EPROTO/.test(code)) {
    return new MqttError({ code: 'mqtt.tls', reason: `TLS to ${b.display} failed: ${first}`, hint: o.ca ? "the CA given did not sign the broker's certificate (or its name does not match the URL's host)" : "pass the CA that signed the broker's certificate with --mqtt-ca ca.pem", cause: err });
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ECONNRESET') {
    return new MqttError({ code: 'mqtt.unreachable', reason: `cannot reach the MQTT broker at ${b.display} (${code})`, hint: `is the broker running there? (e.g. mosquitto -p ${b.port}); the gateway keeps serving and the bridge retries, every ${o.reconnectMs} ms at first, backing off to ${o.maxReconnectMs} ms`, cause: err });
  }
  return new MqttError({ code: 'mqtt.broker', reason: `the MQTT connection to ${b.display} failed: ${first}`, hint: `check the broker's log; the bridge retries, backing off from ${o.reconnectMs} to ${o.maxReconnectMs} ms`, cause: err });
}

export class MqttBridge extends EventEmitter<BridgeEvents> {
  private readonly t: Topics;
  /** The retained state per device: status plus the last summary (bounded by the registry). */
  private readonly states = new Map<string, DeviceStatePayload>();
  private unsubscribe: () => void = () => undefined;
  private inflight = 0;
  private closed = false;
  /** The broker's last failure, until the next successful connect. */
  lastError: EparaError | undefined;
  /** The last plan.changed seen, republished (retained) on every connect. */
  private plan: PlanChangedData | undefined;
  /** The next pause before reconnecting: reconnectMs, doubled per failed attempt up to maxReconnectMs. */
  private retryMs: number;
  private retryTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly host: BridgeHost,
    private readonly o: ResolvedMqttOptions,
    private readonly client: MqttClientLike,
    private readonly softwareVersion: string,
  ) {
    super();
    this.t = topics(o.prefix, o.discoveryPrefix);
    this.retryMs = o.reconnectMs;
    // Without a listener an 'error' status would throw: keep it observable but harmless.
    this.on('status', () => undefined);
  }

  /**
   * Connects and starts publishing. Resolves once connected or after `connectTimeoutMs` without
   * the broker (the bridge keeps trying; `status` says what happens). Rejects only for options
   * that can never work (ConfigError) or a missing `mqtt` package (mqtt.client_missing).
   */
  static async start(host: BridgeHost, options: MqttBridgeOptions & { softwareVersion?: string }): Promise<MqttBridge> {
    const o = resolveMqttOptions(options);
    const connect = await loadMqtt();
    const t = topics(o.prefix, o.discoveryPrefix);
    const client = connect({
      protocol: o.broker.protocol,
      host: o.broker.host,
      port: o.broker.port,
      protocolVersion: 5,
      clientId: o.clientId,
      ...(o.broker.username !== undefined ? { username: o.broker.username } : {}),
      ...(o.broker.password !== undefined ? { password: o.broker.password } : {}),
      ...(o.ca !== undefined ? { ca: o.ca } : {}),
      rejectUnauthorized: true,
      connectTimeout: o.connectTimeoutMs,
      reconnectPeriod: 0,
      clean: true,
      queueQoSZero: false,
      will: { topic: t.bridgeState, payload: Buffer.from(OFFLINE), qos: 1, retain: true },
      // MQTT 5: the broker sends nothing bigger (a request over the limit never reaches our memory).
      properties: { maximumPacketSize: o.maxRequestBytes + 64 * 1024 },
    });
    const bridge = new MqttBridge(host, o, client, options.softwareVersion ?? '0.0.0');
    bridge.wire();
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        bridge.off('status', onStatus);
        resolve();
      };
      const onStatus = (s: BridgeStatus) => (s.kind === 'connected' || s.kind === 'error' ? done() : undefined);
      const timer = setTimeout(done, o.connectTimeoutMs);
      bridge.on('status', onStatus);
    });
    return bridge;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  get broker(): string {
    return this.o.broker.display;
  }

  private wire(): void {
    this.client.on('connect', () => {
      this.lastError = undefined;
      this.retryMs = this.o.reconnectMs;
      this.emit('status', { kind: 'connected', broker: this.o.broker.display });
      this.client.subscribe(this.t.inferRequests, { qos: 1 });
      this.publishAll();
    });
    this.client.on('close', () => {
      if (this.closed) return;
      if (this.lastError === undefined) this.emit('status', { kind: 'disconnected', broker: this.o.broker.display });
      this.scheduleReconnect();
    });
    this.client.on('error', (err) => {
      const e = brokerError(err, this.o);
      // A broker that stays down says so once, not every reconnect period.
      if (e.code === this.lastError?.code) return;
      this.lastError = e;
      this.emit('status', { kind: 'error', error: e });
    });
    this.client.on('message', (topic, payload, packet) => void this.onRequest(topic, payload, packet));
    this.unsubscribe = this.host.eventLog.subscribe((e) => this.onEvent(e));
  }

  /** Exponential backoff: a broker that stays away is asked less and less often (never less than every maxReconnectMs). */
  private scheduleReconnect(): void {
    if (this.retryTimer || this.closed) return;
    const ms = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.o.maxReconnectMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed) this.client.reconnect();
    }, ms);
    this.retryTimer.unref();
  }

  /** The pause before the next reconnection attempt (grows while the broker stays away). */
  get nextRetryMs(): number {
    return this.retryMs;
  }

  private publish(topic: string, payload: string | Record<string, unknown>, opts: PublishOpts = {}): void {
    // Nothing is queued while the broker is away: the retained topics are republished on connect.
    if (!this.client.connected || this.closed) return;
    this.client.publish(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1, ...opts }, () => undefined);
  }

  /** Everything retained, from what the server knows now: on each (re)connect. */
  private publishAll(): void {
    this.publish(this.t.bridgeState, ONLINE, { retain: true });
    const b = bridgeDiscoveryConfig(this.t, this.o.prefix, this.softwareVersion);
    if (b) this.publish(b.topic, b.payload, { retain: true });
    for (const d of this.host.devices()) {
      if (RESERVED_IDS.has(d.id)) continue;
      const status = d.status === 'revoked' ? 'revoked' : d.state;
      const prev = this.states.get(d.id);
      const s: DeviceStatePayload = { ...(prev ?? {}), ...(d.view ? summaryOf(d) : {}), status, deviceClass: d.deviceClass };
      this.states.set(d.id, s);
      this.publishDiscovery(d);
      this.publish(this.t.availability(d.id), SERVING.has(d.state) ? ONLINE : OFFLINE, { retain: true });
      this.publish(this.t.state(d.id), { ...s }, { retain: true });
    }
    if (this.plan) this.publish(this.t.plan, { ...this.plan }, { retain: true });
  }

  private publishDiscovery(d: DeviceInfo): void {
    const dev = { id: d.id, name: d.name, deviceClass: d.deviceClass, ...(d.firmware ? { firmware: d.firmware } : {}) };
    for (const c of discoveryConfigs(this.t, this.o.prefix, dev, this.softwareVersion)) this.publish(c.topic, c.payload, { retain: true });
  }

  private setState(id: string, patch: Partial<DeviceStatePayload>): void {
    const s: DeviceStatePayload = { ...(this.states.get(id) ?? { status: 'offline' }), ...patch };
    this.states.set(id, s);
    this.publish(this.t.state(id), { ...s }, { retain: true });
  }

  private onEvent(e: StreamEvent): void {
    if (e.kind === 'audit' || e.kind === 'stream.gap') {
      // A device provisioned or approved appears in Home Assistant at once, offline until it connects.
      if (e.kind === 'audit' && (e.data.event === 'device.provisioned' || e.data.event === 'device.approved') && e.data.deviceId && !RESERVED_IDS.has(e.data.deviceId)) {
        const d = this.host.device(e.data.deviceId);
        if (d) {
          this.publishDiscovery(d);
          this.publish(this.t.availability(d.id), SERVING.has(d.state) ? ONLINE : OFFLINE, { retain: true });
          this.setState(d.id, { status: d.state, deviceClass: d.deviceClass });
        }
      }
      return;
    }
    if (e.kind === 'plan.changed') {
      this.plan = e.data;
      return this.publish(this.t.plan, { ...e.data }, { retain: true });
    }
    const id = e.data.deviceId;
    if (RESERVED_IDS.has(id)) return;
    switch (e.kind) {
      case 'device.registered':
      case 'device.back': {
        if (e.kind === 'device.registered') {
          const d = this.host.device(id);
          if (d) this.publishDiscovery(d);
        }
        this.publish(this.t.availability(id), ONLINE, { retain: true });
        this.setState(id, { status: e.data.state, ...(e.data.deviceClass ? { deviceClass: e.data.deviceClass } : {}) });
        return;
      }
      case 'device.state': {
        const { deviceId: _, ...summary } = e.data;
        // The session moves registered → active without an event of its own: read it with the summary.
        const d = this.host.device(id);
        this.setState(id, { ...summary, ...(d ? { status: d.status === 'revoked' ? 'revoked' : d.state } : {}) });
        return;
      }
      case 'deployment.progress':
      case 'deployment.result':
        this.publish(this.t.deployment(id), { event: e.kind, ...e.data });
        return;
      default:
        if (OFFLINE_KINDS.has(e.kind)) {
          this.publish(this.t.availability(id), OFFLINE, { retain: true });
          this.setState(id, { status: e.data.state });
        }
    }
  }

  private async onRequest(topic: string, payload: Buffer, packet: { properties?: { responseTopic?: string; correlationData?: Buffer } }): Promise<void> {
    const service = this.t.inferService(topic);
    if (!service) return;
    const props = packet.properties ?? {};
    const to = props.responseTopic && !/[+#]/.test(props.responseTopic) ? props.responseTopic : this.t.inferResponse(service);
    const reply = (body: Record<string, unknown>) =>
      this.publish(to, body, { qos: 1, properties: { contentType: 'application/json', ...(props.correlationData ? { correlationData: props.correlationData } : {}) } });
    if (this.inflight >= this.o.maxInflight) {
      return reply({ error: { code: 'mqtt.busy', reason: `${this.o.maxInflight} inference requests over MQTT are running already`, hint: 'retry shortly, or send fewer requests at once' } });
    }
    this.inflight++;
    try {
      reply(await answerInfer((s, i, o) => this.host.infer(s, i, o), service, payload, this.o.maxRequestBytes));
    } finally {
      this.inflight--;
    }
  }

  /** Says offline on the bridge topic and for every device it showed online (retained), and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.unsubscribe();
    clearTimeout(this.retryTimer);
    // Bounded: a broker that stops answering must not hold the gateway's shutdown.
    const within = (p: Promise<void>) => Promise.race([p, new Promise<void>((r) => setTimeout(r, 2000).unref())]);
    if (this.client.connected) {
      // The gateway is stopping: its devices are offline too (a crash leaves that to the bridge's will).
      const offline = (topic: string) => new Promise<void>((r) => this.client.publish(topic, OFFLINE, { qos: 1, retain: true }, () => r()));
      const online = [...this.states].filter(([, st]) => SERVING.has(st.status)).map(([id]) => id);
      await within(Promise.all([...online.map((id) => offline(this.t.availability(id))), offline(this.t.bridgeState)]).then(() => undefined));
    }
    this.closed = true;
    await within(new Promise<void>((r) => this.client.end(false, {}, () => r())));
    this.client.end(true);
  }
}

function summaryOf(d: DeviceInfo): Partial<DeviceStatePayload> {
  const { deviceId: _, ...summary } = stateSummary(d.view!);
  return summary;
}
