import { ConfigError } from '../../errors.js';
import { resolveNumbers } from '../../options.js';

/**
 * The MQTT bridge's options, checked before anything connects: the broker URL (mqtt:// or
 * mqtts://, credentials in it when the broker wants them), the topic prefix, TLS trust.
 * Pure: no I/O (the CA is passed in as bytes; the CLI reads the file).
 */
export interface MqttBridgeOptions {
  /** `mqtt://[user:password@]host[:1883]` or `mqtts://…[:8883]`. */
  url: string;
  /** First topic level of everything published. Default `epara`. */
  prefix?: string;
  /** Home Assistant's discovery prefix. Default `homeassistant`; `false` publishes no discovery config. */
  discoveryPrefix?: string | false;
  /** PEM of the CA(s) that signed the broker's certificate (mqtts://). Default: the system's. */
  ca?: string | Buffer;
  /** Default `epara-<prefix>-<random>`. */
  clientId?: string;
  /** Wait for the broker this long at start before carrying on without it (it keeps retrying). Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Pause before the first reconnection attempt; doubled after each failed one. Default 2000 ms. */
  reconnectMs?: number;
  /** Longest pause between attempts while the broker stays away. Default 60 000 ms. */
  maxReconnectMs?: number;
  /** Inference requests over MQTT running at once; more are answered mqtt.busy. Default 32. */
  maxInflight?: number;
  /** Largest inference request payload. Default 16 MiB. */
  maxRequestBytes?: number;
}

export const MQTT_SPECS = {
  connectTimeoutMs: { default: 5000, min: 100, max: 600_000, integer: true, unit: 'ms' },
  reconnectMs: { default: 2000, min: 100, max: 3_600_000, integer: true, unit: 'ms' },
  maxReconnectMs: { default: 60_000, min: 100, max: 3_600_000, integer: true, unit: 'ms' },
  maxInflight: { default: 32, min: 1, max: 10_000, integer: true },
  maxRequestBytes: { default: 16 * 2 ** 20, min: 1024, max: 2 ** 28, integer: true, unit: 'bytes' },
};

export interface BrokerAddress {
  protocol: 'mqtt' | 'mqtts';
  host: string;
  port: number;
  username?: string;
  password?: string;
  /** The URL without its password: what logs and errors show. */
  display: string;
}

const URL_HINT = 'pass --mqtt mqtt://host:1883 (or mqtts://host:8883 with --mqtt-ca ca.pem; user:password@ before the host when the broker wants them)';

export function parseBrokerUrl(url: unknown): BrokerAddress {
  if (typeof url !== 'string' || url.length === 0) {
    throw new ConfigError({ code: 'config.mqtt_url', reason: 'the MQTT broker URL is missing', hint: URL_HINT, field: 'mqtt.url' });
  }
  const shown = url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@').slice(0, 200);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError({ code: 'config.mqtt_url', reason: `${JSON.stringify(shown)} is not a URL`, hint: URL_HINT, field: 'mqtt.url' });
  }
  const protocol = u.protocol.replace(/:$/, '');
  if (protocol !== 'mqtt' && protocol !== 'mqtts') {
    throw new ConfigError({ code: 'config.mqtt_url', reason: `the MQTT broker URL has scheme ${protocol}: (mqtt: or mqtts: wanted)`, hint: URL_HINT, field: 'mqtt.url' });
  }
  if (!u.hostname) throw new ConfigError({ code: 'config.mqtt_url', reason: `${JSON.stringify(shown)} names no host`, hint: URL_HINT, field: 'mqtt.url' });
  if ((u.pathname && u.pathname !== '/') || u.search || u.hash) {
    throw new ConfigError({ code: 'config.mqtt_url', reason: `${JSON.stringify(shown)} has a path or query; a broker URL is scheme://host:port`, hint: 'set the topic prefix with --mqtt-prefix instead', field: 'mqtt.url' });
  }
  const port = u.port ? Number(u.port) : protocol === 'mqtts' ? 8883 : 1883;
  const a: BrokerAddress = { protocol, host: u.hostname.replace(/^\[|\]$/g, ''), port, display: `${protocol}://${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}` };
  if (u.username) a.username = decodeURIComponent(u.username);
  if (u.password) a.password = decodeURIComponent(u.password);
  return a;
}

/** A prefix is one or more topic levels without wildcards: `epara`, `site-a/epara`. */
export function validatePrefix(prefix: unknown, field = 'mqtt.prefix'): string {
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(prefix) || prefix.length > 100) {
    const shown = typeof prefix === 'string' ? JSON.stringify(prefix.slice(0, 40)) : typeof prefix;
    throw new ConfigError({ code: 'config.mqtt_prefix', reason: `MQTT topic prefix ${shown} is not topic levels of [A-Za-z0-9_.-] (no +, #, empty level or leading /)`, hint: 'use e.g. --mqtt-prefix site-a/epara', field });
  }
  return prefix;
}

export function resolveMqttOptions(o: MqttBridgeOptions) {
  const broker = parseBrokerUrl(o?.url);
  const prefix = validatePrefix(o.prefix ?? 'epara');
  const discoveryPrefix: string | false = o.discoveryPrefix === false ? false : validatePrefix(o.discoveryPrefix ?? 'homeassistant', 'mqtt.discoveryPrefix');
  if (o.ca !== undefined && broker.protocol !== 'mqtts') {
    throw new ConfigError({ code: 'config.mqtt_url', reason: `a CA was given but ${broker.display} is not TLS`, hint: 'use an mqtts:// URL with --mqtt-ca', field: 'mqtt.ca' });
  }
  const n = resolveNumbers<keyof typeof MQTT_SPECS>(MQTT_SPECS, o as unknown as Record<string, unknown>, 'mqtt.');
  const clientId = o.clientId ?? `epara-${prefix.replace(/\//g, '-')}-${Math.random().toString(36).slice(2, 8)}`;
  // The cap is never below the first pause.
  return { broker, prefix, discoveryPrefix, ca: o.ca, clientId, ...n, maxReconnectMs: Math.max(n.maxReconnectMs, n.reconnectMs) };
}

export type ResolvedMqttOptions = ReturnType<typeof resolveMqttOptions>;
