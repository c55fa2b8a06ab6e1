import { MqttError } from '../../errors.js';

/**
 * The `mqtt` package (MQTT.js, the maintained Node MQTT client), imported on first use: it is an
 * optional peer dependency, needed only by a gateway run with --mqtt, so nobody else installs its
 * dependencies (ws, socks, worker-timers, …). Typed here by the little the bridge uses, so
 * epara's own type declarations do not name the package.
 */
export interface MqttPacketLike {
  qos?: number;
  properties?: { responseTopic?: string; correlationData?: Buffer };
}

export interface PublishOpts {
  qos?: 0 | 1 | 2;
  retain?: boolean;
  properties?: { responseTopic?: string; correlationData?: Buffer; contentType?: string; messageExpiryInterval?: number };
}

export interface MqttClientLike {
  readonly connected: boolean;
  on(event: 'connect', l: () => void): this;
  on(event: 'close' | 'offline' | 'reconnect', l: () => void): this;
  on(event: 'error', l: (err: Error & { code?: string | number }) => void): this;
  on(event: 'message', l: (topic: string, payload: Buffer, packet: MqttPacketLike) => void): this;
  publish(topic: string, payload: string | Buffer, opts: PublishOpts, cb?: (err?: Error) => void): this;
  subscribe(topic: string, opts: { qos: 0 | 1 | 2 }, cb?: (err: Error | null) => void): this;
  end(force?: boolean, opts?: object, cb?: () => void): this;
  reconnect(): this;
}

export interface MqttConnectOptions {
  protocol: 'mqtt' | 'mqtts';
  host: string;
  port: number;
  protocolVersion: 5;
  clientId: string;
  username?: string;
  password?: string;
  ca?: string | Buffer;
  rejectUnauthorized: true;
  servername?: string;
  connectTimeout: number;
  /** 0: the bridge schedules reconnects itself, with backoff (MQTT.js retries at a fixed period). */
  reconnectPeriod: 0;
  clean: true;
  /** Publishes while offline are dropped by the bridge itself; keep the client from queueing QoS 0 too. */
  queueQoSZero: false;
  will: { topic: string; payload: Buffer; qos: 1; retain: true };
  properties: { maximumPacketSize: number };
}

type Connect = (opts: MqttConnectOptions) => MqttClientLike;

let loading: Promise<Connect> | undefined;

export function loadMqtt(): Promise<Connect> {
  loading ??= import('mqtt').then(
    (mod) => {
      const m = (mod as unknown as { default?: { connect?: Connect }; connect?: Connect });
      const connect = m.connect ?? m.default?.connect;
      if (!connect) throw new Error('the mqtt module has no connect()');
      return connect;
    },
    (e: unknown) => {
      loading = undefined;
      throw new MqttError({ code: 'mqtt.client_missing', reason: `the mqtt package cannot be loaded (${(e as Error).message.split('\n', 1)[0]}); the MQTT bridge talks to the broker with it`, hint: 'on the gateway, install it beside epara: npm install mqtt@5' });
    },
  );
  return loading;
}
