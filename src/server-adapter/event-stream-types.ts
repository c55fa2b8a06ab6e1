/**
 * The live event stream's catalogue (GET /events, the MQTT bridge, `epara devices --watch`): one
 * kind name per thing an operator watches, and the JSON each carries. Types and constants only,
 * with no Node import, so the browser console shares it with the server (docs/server.md, "Live
 * events").
 *
 * Every event has an id `<boot>-<seq>`: `boot` names this server run (its start time in base 36 and two random digits),
 * `seq` counts from 1. A client that reconnects sends the last id it saw (`Last-Event-ID`) and gets
 * what it missed from the server's bounded buffer; when that is not possible (the events were
 * pushed out of the buffer, or the server restarted) it gets one `stream.gap` first and should
 * reread the state it shows (GET /devices, GET /deployments).
 */

export const STREAM_EVENT_KINDS = [
  /** A device finished a fresh handshake (not a resume). */
  'device.registered',
  /** A device's session went degraded: missed heartbeats or its link dropped; the lease runs. */
  'device.degraded',
  /** A degraded device is heard again or resumed its session. */
  'device.back',
  /** The lease ran out: the session is gone. */
  'device.lost',
  /** The device said BYE (or a new session replaced this one). */
  'device.left',
  /** An operator revoked the device. */
  'device.revoked',
  /** A STATE summary, at most one per device per `events.stateEveryMs`. */
  'device.state',
  /** A deployment moved: state changes at once, byte counts at most every `events.progressEveryMs`. */
  'deployment.progress',
  /** A deployment settled: ready, failed, rolled-back or undeployed. */
  'deployment.result',
  /** The scheduler's placement plan changed (which services run where). */
  'plan.changed',
  /** One audit row, as GET /audit shows it. */
  'audit',
  /** Events were missed: reread the state. Sent first on a resume that cannot be served. */
  'stream.gap',
] as const;

export type StreamEventKind = (typeof STREAM_EVENT_KINDS)[number];

/** The device lifecycle kinds (one session state change each). */
export type DeviceLifecycleKind = 'device.registered' | 'device.degraded' | 'device.back' | 'device.lost' | 'device.left' | 'device.revoked';

export interface DeviceLifecycleData {
  deviceId: string;
  /** Session state now ('revoked' for device.revoked). */
  state: string;
  previous?: string;
  deviceClass?: string;
  remote?: string;
}

export interface ServiceSummary {
  name: string;
  version: string;
  status: string;
  queueLen: number;
  servedPerSec: number;
  violationRate: number;
}

export interface DeviceStateData {
  deviceId: string;
  load: number;
  memFreeKiB: number;
  gpu?: number;
  temperatureC?: number;
  powerMw?: number;
  linkQuality: number;
  rttMs?: number;
  rssiDbm?: number;
  uptimeMs: number;
  services: ServiceSummary[];
  /** Server clock (ms since epoch) of the STATE report summarised. */
  updatedAt: number;
}

export interface DeploymentProgressData {
  deploymentId: number;
  deviceId: string;
  service: string;
  version: string;
  state: string;
  /** Bytes the device acknowledged, of `size`. */
  offset: number;
  size: number;
  interrupted?: boolean;
  errorCode?: string;
}

export interface DeploymentResultData extends DeploymentProgressData {
  /** The error's one-line reason and hint when it failed (from the error catalogue). */
  reason?: string;
  hint?: string;
}

export interface PlanChangedData {
  version: number;
  /** One entry per placed unit: a replica (one device) or a pipeline's stages in order. */
  assignments: Array<{ service: string; devices: string[]; batch: number; share: number }>;
  /** Load / unload / configure / deploy actions the round sent, and how each ended. */
  actions: Array<{ device: string; action: string; service: string; outcome: string }>;
}

export interface AuditData {
  id?: number;
  at: number;
  event: string;
  deviceId?: string;
  remote?: string;
  detail?: string;
}

export interface StreamGapData {
  /** `buffer`: the events after `lastEventId` were pushed out; `restart`: the id is from an earlier server run; `unknown`: not an id this server gave. */
  reason: 'buffer' | 'restart' | 'unknown';
  lastEventId: string;
  /** The oldest id the server still holds (what follows the gap), if any. */
  oldestId?: string;
  /** How many events were lost, when the server can tell. */
  missed?: number;
}

/** The JSON `data:` of each kind. */
export interface StreamEventData {
  'device.registered': DeviceLifecycleData;
  'device.degraded': DeviceLifecycleData;
  'device.back': DeviceLifecycleData;
  'device.lost': DeviceLifecycleData;
  'device.left': DeviceLifecycleData;
  'device.revoked': DeviceLifecycleData;
  'device.state': DeviceStateData;
  'deployment.progress': DeploymentProgressData;
  'deployment.result': DeploymentResultData;
  'plan.changed': PlanChangedData;
  audit: AuditData;
  'stream.gap': StreamGapData;
}

/** One event as the stream carries it: `id:` and `event:` lines, and `data:` this object as JSON. */
export type StreamEvent<K extends StreamEventKind = StreamEventKind> = {
  [P in K]: {
    id: string;
    kind: P;
    /** Server clock, ms since epoch. */
    at: number;
    data: StreamEventData[P];
  };
}[K];

export function isStreamEventKind(s: string): s is StreamEventKind {
  return (STREAM_EVENT_KINDS as readonly string[]).includes(s);
}
