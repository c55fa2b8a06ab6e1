/**
 * EparaDevice's options: what each means, its default and range (resolved once, at connect), and
 * the key, which is parsed here and never logged.
 */
import { resolveNumbers } from '../options.js';
import { DEVICE_ID_PATTERN, MAX_MAX_FRAME, MIN_MAX_FRAME, WINDOW_MAX, WINDOW_MIN, type DeployChunkMessage, type DeviceClass, type Message, type StateMessage } from '../protocol/index.js';
import { ConfigError } from '../errors.js';
import type { ByteStream, Connector } from '../transport/byte-stream.js';
import type { FrameLinkOptions } from '../transport/frame-link-options.js';
import type { ArtifactRecord, ArtifactStoreOptions } from './artifact-store.js';
import type { CapabilityConfig } from './capabilities.js';
import { resolveProtocolRange } from './protocol-versions.js';
import type { ServiceRunner } from './runner.js';

/** Turns a verified artifact into something that serves requests. */
export type ArtifactLoader = (record: ArtifactRecord) => Promise<ServiceRunner>;

/** Test and emulator hooks: wire-exact misbehaviour without forking the device code. */
export interface DeviceHooks {
  /** Called for every DEPLOY_CHUNK before it is stored; false discards it (acked with the unchanged nextOffset, so the server goes back). */
  acceptChunk?(chunk: DeployChunkMessage, index: number): boolean;
  /** Called after a chunk was stored. */
  chunkStored?(info: { deploymentId: number; service: string; nextOffset: number; size: number }): void;
  /** Extra delay before the response to `request` is sent. */
  responseDelayMs?(request: Message): number;
  /** Fields merged into every STATE (an emulator's load, temperature, power). */
  state?(): Partial<StateMessage>;
}

export interface EparaDeviceOptions {
  /** Opens a fresh stream; used again for every reconnect. */
  connector?: Connector;
  /** A single already-open stream (no reconnect after it drops). */
  stream?: ByteStream;
  id: string;
  /** The provisioned key: hex string or bytes, at least 16 bytes. Never logged. */
  key: string | Uint8Array;
  deviceClass: DeviceClass;
  /** Configuration merged over detected capabilities (GPUs and accelerators come only from here). */
  caps?: CapabilityConfig;
  /** Where artifacts and partial transfers persist across restarts. */
  dataDir: string;
  /** Loaders per artifact kind; `onnx` defaults to onnxruntime-node. */
  runtimes?: Partial<Record<'onnx' | 'int8-fc-weights' | 'blob', ArtifactLoader>>;
  firmware?: string;
  maxFrame?: number;
  rxWindow?: number;
  keepaliveMs?: number;
  /** HELLO `proto` (SPEC §8): default [1, 2]; [1, 1] is a spec 1.0 device. */
  protocolVersions?: readonly [number, number];
  /** DEPLOY_ACCEPT window: chunks the device takes in flight. */
  deployWindow?: number;
  connectTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  reconnect?: { initialMs?: number; maxMs?: number; jitter?: number };
  /** Randomness for backoff jitter (seeded by fleets). Nonces always come from the CSPRNG. */
  random?: () => number;
  link?: FrameLinkOptions;
  store?: ArtifactStoreOptions;
  /** Wraps every runner (an emulator's service-time model). */
  wrapRunner?: (service: string, runner: ServiceRunner) => ServiceRunner;
  hooks?: DeviceHooks;
}

const NUM_SPECS = {
  maxFrame: { default: 4096, min: MIN_MAX_FRAME, max: MAX_MAX_FRAME, integer: true, unit: 'bytes' },
  rxWindow: { default: 8, min: WINDOW_MIN, max: WINDOW_MAX, integer: true },
  keepaliveMs: { default: 5000, min: 100, max: 3_600_000, integer: true, unit: 'ms' },
  deployWindow: { default: 4, min: WINDOW_MIN, max: WINDOW_MAX, integer: true },
  connectTimeoutMs: { default: 30_000, min: 100, max: 3_600_000, integer: true, unit: 'ms' },
  handshakeTimeoutMs: { default: 5000, min: 50, max: 600_000, integer: true, unit: 'ms' },
};
const RECONNECT_SPECS = {
  initialMs: { default: 200, min: 1, max: 600_000, integer: true, unit: 'ms' },
  maxMs: { default: 10_000, min: 1, max: 3_600_000, integer: true, unit: 'ms' },
  jitter: { default: 0.5, min: 0, max: 1 },
};

export type ResolvedDeviceOptions = ReturnType<typeof resolveOptions>;

export function resolveOptions(o: EparaDeviceOptions) {
  if (!DEVICE_ID_PATTERN.test(o.id ?? '')) {
    throw new ConfigError({ code: 'config.value', reason: `device id ${JSON.stringify(o.id)} must be 1..64 of [A-Za-z0-9._-]`, hint: 'use the id the server provisioned', field: 'id' });
  }
  if (!o.connector && !o.stream) throw new ConfigError({ code: 'config.value', reason: 'neither connector nor stream given', hint: 'pass connector: () => connectTcp({...}) (reconnects) or an open stream', field: 'connector' });
  if (!o.dataDir) throw new ConfigError({ code: 'config.value', reason: 'dataDir is required', hint: 'pass a writable directory for artifacts', field: 'dataDir' });
  const n = resolveNumbers(NUM_SPECS, o as Partial<Record<keyof typeof NUM_SPECS, unknown>>);
  const reconnect = resolveNumbers(RECONNECT_SPECS, o.reconnect, 'reconnect.');
  return { ...n, reconnect, proto: resolveProtocolRange(o.protocolVersions) };
}

export function parseKey(key: string | Uint8Array): Buffer {
  const bytes = typeof key === 'string' ? (/^([0-9a-fA-F]{2})+$/.test(key) ? Buffer.from(key, 'hex') : undefined) : Buffer.from(key);
  if (!bytes || bytes.length < 16) {
    // The key itself never goes into the message.
    throw new ConfigError({ code: 'config.value', reason: 'device key must be at least 16 bytes, given as hex or bytes', hint: 'use the key printed once by `epara register`', field: 'key' });
  }
  return bytes;
}

