import { ConfigError } from '../errors.js';
import { resolveNumber, resolveNumbers } from '../options.js';
import { TIME_SCALES } from '../time-scales.js';
import { MAX_MAX_FRAME, MIN_MAX_FRAME, PROTOCOL_MAX, PROTOCOL_MIN, WINDOW_MAX, WINDOW_MIN } from '../protocol/index.js';
import type { HandshakeConfig } from './connection.js';
import type { RegistryStore } from '../device-mgmt/registry/store.js';
import type { AuditRetentionOptions } from '../device-mgmt/registry/audit-retention.js';
import type { FrameLinkOptions } from '../transport/frame-link-options.js';
import type { EventFeedOptions } from './event-feed.js';
import type { MqttBridgeOptions } from './mqtt/mqtt-options.js';
import type { HttpApiOptions } from './http-api.js';
import type { RefusalLimitOptions } from './refusal-limiter.js';
import type { SchedulerOption } from './live-scheduler.js';
import type { EparaServer } from './server.js';

/** EparaServer's options: every tunable with its default and range (docs/server.md has the table). */
export interface EparaServerOptions {
  /** Directory for the registry (registry.sqlite), master.key and artifacts/. Created 0700. */
  dataDir: string;
  /** EPARA's time scales. */
  periods?: {
    /** Default deadline of infer() when the caller gives none. */
    requestMs?: number;
    /** STATE report period told to devices in WELCOME. */
    stateSyncMs?: number;
    /** How often placement runs when a planner is configured. */
    placementMs?: number;
    /** Heartbeat period used when the device proposes none. */
    heartbeatMs?: number;
  };
  /** How long a session survives without a heartbeat (e.g. after its link dropped) before it is lost. */
  leaseMs?: number;
  /** Heartbeat periods without a heartbeat before an open link counts as degraded. */
  missedHeartbeats?: number;
  /** Unknown devices that say HELLO are recorded as pending for an operator to approve. Default off. */
  openEnrolment?: boolean;
  /** Open enrolment keeps at most this many pending devices; further unknown ids get auth.unknown_device. */
  maxPending?: number;
  /** Largest frame the server receives. */
  maxFrame?: number;
  /** Requests the server accepts in flight per link. */
  window?: number;
  /** A link must complete HELLO..WELCOME within this time. */
  authTimeoutMs?: number;
  /** PING each device this often to measure round-trip time (0 = never). */
  rttProbeMs?: number;
  /** Retransmissions of an INFER_REQUEST within its deadline (lossy links). */
  inferRetries?: number;
  deploy?: { chunkSize?: number; resultTimeoutMs?: number; requestTimeoutMs?: number; retryMs?: number };
  /** FrameLink options (timeouts, retries; a virtual clock for emulated links) applied to every device link. */
  link?: Pick<FrameLinkOptions, 'requestTimeoutMs' | 'retries' | 'clock'>;
  registry?: { batchIntervalMs?: number; synchronous?: 'normal' | 'full'; auditRetention?: AuditRetentionOptions };
  /** Per-source-address rate limit on refused handshakes (src/server-adapter/refusal-limiter.ts). */
  refusalLimit?: RefusalLimitOptions;
  /** Storage other than the default SQLite file (e.g. a distributed store). */
  store?: RegistryStore;
  /** HTTP JSON API + /metrics; off unless given. */
  http?: HttpApiOptions;
  /**
   * The scheduler, on by default: 'epara' (default), 'round-robin' or 'least-outstanding' plan
   * from what was deployed (declared category and SLO, measured demand, learned service times;
   * live-scheduler.ts) and run placement every `periods.placementMs` (deploy / load / unload /
   * configure); infer() routes by the policy's rule (EPARA: earliest predicted finish). A
   * SchedulerConfig gives the planner your own service specs and speed model. 'off' (or false):
   * no placement, infer() goes to the least-loaded ready device.
   */
  scheduler?: SchedulerOption | false;
  /** Extra hook called every `periods.placementMs` after the scheduler's round (if any). */
  planner?: (server: EparaServer) => Promise<void> | void;
  /** The live event stream (GET /events, the MQTT bridge): buffer size and rate limits (event-feed.ts). */
  events?: EventFeedOptions;
  /**
   * The MQTT bridge (mqtt/mqtt-bridge.ts; `epara serve --mqtt`): the fleet published to a broker
   * zigbee2mqtt-style with Home Assistant discovery, inference requests taken from it. Off unless
   * given; needs the optional peer `mqtt`. A broker that is down never stops the server.
   */
  mqtt?: MqttBridgeOptions & { softwareVersion?: string };
}

/** `periods`: the request deadline and EPARA's three time scales (src/time-scales.ts, shared with the simulator). */
export const OPTION_SPECS = {
  requestMs: { default: 1000, min: 1, max: 600_000, integer: true, unit: 'ms' },
  ...TIME_SCALES,
};

export const MISC_SPECS = {
  missedHeartbeats: { default: 2, min: 1, max: 100, integer: true },
  maxFrame: { default: 4096, min: MIN_MAX_FRAME, max: MAX_MAX_FRAME, integer: true, unit: 'bytes' },
  window: { default: 8, min: WINDOW_MIN, max: WINDOW_MAX, integer: true },
  authTimeoutMs: { default: 10_000, min: 100, max: 600_000, integer: true, unit: 'ms' },
  rttProbeMs: { default: 30_000, min: 0, max: 3_600_000, integer: true, unit: 'ms' },
  inferRetries: { default: 2, min: 0, max: 10, integer: true },
  maxPending: { default: 1000, min: 0, max: 1_000_000, integer: true },
};

export const DEPLOY_SPECS = {
  chunkSize: { default: 4096, min: 16, max: 65_000, integer: true, unit: 'bytes' },
  resultTimeoutMs: { default: 120_000, min: 100, max: 3_600_000, integer: true, unit: 'ms' },
  requestTimeoutMs: { default: 5000, min: 50, max: 600_000, integer: true, unit: 'ms' },
  retryMs: { default: 5000, min: 10, max: 3_600_000, integer: true, unit: 'ms' },
};

/** Options with defaults applied and ranges checked; throws ConfigError. */
export function resolveServerOptions(options: EparaServerOptions) {
  const periods = resolveNumbers<keyof typeof OPTION_SPECS>(OPTION_SPECS, options.periods as Record<string, unknown> | undefined, 'periods.');
  const misc = resolveNumbers<keyof typeof MISC_SPECS>(MISC_SPECS, options as unknown as Record<string, unknown>);
  const deploy = resolveNumbers<keyof typeof DEPLOY_SPECS>(DEPLOY_SPECS, options.deploy as Record<string, unknown> | undefined, 'deploy.');
  const minLease = periods.heartbeatMs * (misc.missedHeartbeats + 1);
  const leaseMs = resolveNumber('leaseMs', options.leaseMs, { default: Math.max(15_000, minLease), min: 200, max: 86_400_000, integer: true, unit: 'ms' });
  if (leaseMs < minLease) {
    throw new ConfigError({
      code: 'config.range',
      reason: `leaseMs=${leaseMs} ms is shorter than ${misc.missedHeartbeats + 1} heartbeat periods (${minLease} ms)`,
      hint: `raise leaseMs to at least ${minLease} ms or shorten periods.heartbeatMs`,
      field: 'leaseMs',
    });
  }
  return {
    ...periods,
    ...misc,
    leaseMs,
    chunkSize: deploy.chunkSize,
    resultTimeoutMs: deploy.resultTimeoutMs,
    deployRequestTimeoutMs: deploy.requestTimeoutMs,
    deployRetryMs: deploy.retryMs,
  };
}

export type ResolvedServerOptions = ReturnType<typeof resolveServerOptions>;

/** The limits and periods every link's handshake offers (connection.ts negotiates with the device's). */
export function handshakeConfig(o: ResolvedServerOptions, openEnrolment: boolean): HandshakeConfig {
  return {
    versions: { min: PROTOCOL_MIN, max: PROTOCOL_MAX },
    maxFrame: o.maxFrame,
    window: o.window,
    heartbeatMs: o.heartbeatMs,
    minHeartbeatMs: Math.min(100, o.heartbeatMs),
    maxHeartbeatMs: Math.max(o.heartbeatMs, Math.floor(o.leaseMs / (o.missedHeartbeats + 1))),
    leaseMs: o.leaseMs,
    stateMs: o.stateSyncMs,
    authTimeoutMs: o.authTimeoutMs,
    openEnrolment,
  };
}
