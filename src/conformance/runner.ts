/**
 * `runConformance(links, options)`: plays the gateway against the device behind `links` and runs
 * every check family in an order that keeps one session as long as possible: the session checks
 * first, then the ones that end it (BYE, a WELCOME with a bad MAC, a refused version), and a last
 * handshake to show the device registers again. Returns the report; never throws for a failing
 * device, only for a kit that cannot start (bad options).
 */
import { resolveNumbers, type NumberOptionSpec } from '../options.js';
import type { DeviceClass } from '../protocol/messages/types.js';
import type { ArtifactKind } from '../protocol/messages/types.js';
import { Recorder, type CheckResult, type Family } from './check.js';
import { ConformError } from './conform-error.js';
import type { RunContext } from './context.js';
import { Gateway, type GatewayTimings } from './gateway.js';
import type { DeviceLinks } from './target.js';
import { builtinArtifact, pickKind, type TestArtifact } from './artifacts.js';
import { firstSession, reregister, versionRefused } from './checks/handshake.js';
import { serverMacRefused } from './checks/auth.js';
import { deviceFrames, framingChecks } from './checks/framing.js';
import { acceptChecks, vectorChecks } from './checks/vectors.js';
import { pingBeforeAuth, pingRegistered } from './checks/ping.js';
import { heartbeatPeriod, leaseBySilence } from './checks/heartbeat.js';
import { statePeriod, stateServed } from './checks/state.js';
import { deployChecks } from './checks/deploy.js';
import { inferChecks, inferOnce, inferRequest } from './checks/infer.js';
import { rtxDevice, rtxRequest } from './checks/rtx.js';
import { byeChecks } from './checks/bye.js';
import { versionNegotiated, versionOneSession, versionPlacement, versionStateKeys } from './checks/version.js';
import { PROTOCOL_MAX, PROTOCOL_MIN } from '../protocol/constants.js';
import { allChecks } from './catalogue.js';

export const CONFORM_TIMINGS: Record<keyof GatewayTimings, NumberOptionSpec> = {
  answerMs: { default: 3000, min: 50, max: 120_000, integer: true, unit: 'ms' },
  helloMs: { default: 30_000, min: 100, max: 3_600_000, integer: true, unit: 'ms' },
  graceMs: { default: 100, min: 0, max: 10_000, integer: true, unit: 'ms' },
  heartbeatMs: { default: 1000, min: 100, max: 3_600_000, integer: true, unit: 'ms' },
  stateMs: { default: 1000, min: 100, max: 3_600_000, integer: true, unit: 'ms' },
  leaseMs: { default: 60_000, min: 1000, max: 86_400_000, integer: true, unit: 'ms' },
};

export interface ConformOptions {
  id: string;
  /** The device's key: 32 bytes, or hex. */
  key: Uint8Array | string;
  /** Expected HELLO deviceClass (checked when given). */
  deviceClass?: DeviceClass;
  /**
   * Protocol versions the kit speaks (default: every version it knows, [1, 2]); it offers the
   * highest one HELLO `proto` shares with them.
   */
  proto?: [number, number];
  timings?: Partial<GatewayTimings>;
  /** Families not to run (reported as skipped). */
  skip?: Family[];
  /** Artifact kind to deploy (default: the first built-in kind the device lists in caps.formats). */
  kind?: ArtifactKind;
  /** The device maker's own artifact instead of a built-in one. */
  artifact?: TestArtifact;
  /** Service name the deploy checks use. */
  service?: string;
  /** Restarts the device (power cycle, process restart): enables deploy.resume-after-restart. */
  restart?: () => Promise<void>;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  onResult?: (r: CheckResult) => void;
}

export interface ConformReport {
  target: string;
  device?: { id: string; deviceClass: string; firmware: string; proto: [number, number]; maxFrame: number; rxWindow: number; formats: string[] };
  durationMs: number;
  results: CheckResult[];
  summary: { total: number; passed: number; failed: number; skipped: number; warnings: number };
  /** Every required check passed (skipped ones do not count against it). */
  ok: boolean;
}

function kitVersions(p: [number, number] | undefined): [number, number] {
  if (p === undefined) return [PROTOCOL_MIN, PROTOCOL_MAX];
  const ok = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= PROTOCOL_MIN && (v as number) <= PROTOCOL_MAX;
  if (!Array.isArray(p) || p.length !== 2 || !ok(p[0]) || !ok(p[1]) || p[0] > p[1]) {
    throw new ConformError({ code: 'conform.proto', reason: `proto ${JSON.stringify(p)} is not [min, max] within the versions the kit knows, ${PROTOCOL_MIN}..${PROTOCOL_MAX}`, hint: `leave it out to offer ${PROTOCOL_MIN}..${PROTOCOL_MAX}`, field: 'proto', usage: true });
  }
  return [p[0], p[1]];
}

function keyBytes(k: Uint8Array | string): Uint8Array {
  if (k instanceof Uint8Array) {
    if (k.length < 16 || k.length > 64) throw new ConformError({ code: 'conform.key', reason: `the device key is ${k.length} bytes; epara keys are 32 (at least 16)`, hint: 'pass the key `epara register` printed, as hex', field: 'key', usage: true });
    return k;
  }
  const s = k.trim();
  if (!/^[0-9a-fA-F]+$/.test(s) || s.length % 2 !== 0) throw new ConformError({ code: 'conform.key', reason: 'the device key is not hex', hint: 'pass the 64 hex digits `epara register <id>` printed (or --key-file FILE holding them)', field: 'key', usage: true });
  return keyBytes(Uint8Array.from(Buffer.from(s, 'hex')));
}

export async function runConformance(links: DeviceLinks, o: ConformOptions): Promise<ConformReport> {
  const timings = resolveNumbers(CONFORM_TIMINGS, o.timings, 'timings.');
  const key = keyBytes(o.key);
  const t0 = performance.now();
  const proto = kitVersions(o.proto);
  const g = new Gateway(links, { id: o.id, key, deviceClass: o.deviceClass, proto, timings, maxFrame: 65535, window: 8, log: o.log });
  const r = new Recorder(new Set(o.skip ?? []), o.onResult);
  const c: RunContext = { g, r, restart: o.restart, nextDeploymentId: 0x7e57_0001, nextPlanVersion: 1, service: o.service ?? 'conform' };
  try {
    if (await firstSession(c)) {
      await versionNegotiated(c);
      await sessionChecks(c, o);
      await endingChecks(c);
    }
    // whatever did not run: a row saying why
    const done = new Set(r.results.map((x) => x.id));
    const why = r.results.find((x) => x.id === 'handshake.welcome' && x.status === 'fail') ? 'no session (handshake.welcome failed)' : 'not reached';
    for (const d of allChecks()) if (!done.has(d.id)) r.skip(d, why);
  } finally {
    await g.close();
  }
  const h = g.lastHello;
  const results = r.results;
  const summary = {
    total: results.length,
    passed: results.filter((x) => x.status === 'pass').length,
    failed: results.filter((x) => x.status === 'fail').length,
    skipped: results.filter((x) => x.status === 'skip').length,
    warnings: results.reduce((a, x) => a + x.warnings.length, 0),
  };
  return {
    target: links.description,
    ...(h ? { device: { id: h.deviceId, deviceClass: h.deviceClass, firmware: h.firmware, proto: h.proto, maxFrame: h.maxFrame, rxWindow: h.rxWindow, formats: h.caps.formats ?? [] } } : {}),
    durationMs: Math.round(performance.now() - t0),
    results,
    summary,
    ok: !results.some((x) => x.status === 'fail' && x.required),
  };
}

/** Run a family on a registered session (re-established first if it was lost). */
async function guarded(c: RunContext, family: () => Promise<unknown>): Promise<void> {
  await c.g.ensureSession().catch((e: Error) => c.g.log(`no session for the next checks: ${e.message}`));
  await family();
}

async function sessionChecks(c: RunContext, o: ConformOptions): Promise<void> {
  const { g } = c;
  await guarded(c, () => pingRegistered(c));
  await guarded(c, () => framingChecks(c));
  await guarded(c, () => vectorChecks(c));
  await guarded(c, () => acceptChecks(c));
  await guarded(c, () => heartbeatPeriod(c));
  await guarded(c, () => statePeriod(c));
  await guarded(c, () => rtxDevice(c));

  const formats = g.session!.hello.caps.formats ?? [];
  if (c.r.skipped('deploy')) c.noArtifact = 'deploy skipped by --skip';
  else if (o.artifact) c.artifact = formats.includes(o.artifact.kind) ? o.artifact : undefined;
  else {
    const kind = pickKind(formats, o.kind);
    if (kind) c.artifact = builtinArtifact(kind);
  }
  if (!c.artifact && !c.noArtifact) c.noArtifact = formats.length === 0 ? 'the device lists no artifact formats in HELLO caps.formats' : `the device lists formats [${formats.join(', ')}]${o.kind || o.artifact ? `, not ${o.artifact?.kind ?? o.kind}` : ', none the kit has a built-in artifact for (give --artifact)'}`;

  let first = true;
  await c.g.ensureSession().catch(() => undefined);
  await deployChecks(c, async () => {
    if (!first) {
      if (c.artifact?.input) await inferOnce(c);
      return;
    }
    first = false;
    await inferChecks(c);
    await stateServed(c, async () => void (await inferOnce(c)));
    await versionStateKeys(c);
    await versionPlacement(c);
    await rtxRequest(c, () => (c.deployed && c.artifact?.input ? inferRequest(c) : { type: 'PING', data: new Uint8Array([7, 0, 7]) }));
  });
  if (first) {
    // no deployment: what can run without one
    await inferChecks(c);
    await stateServed(c, async () => undefined);
    await versionStateKeys(c);
    await versionPlacement(c);
    await rtxRequest(c, () => ({ type: 'PING', data: new Uint8Array([7, 0, 7]) }));
  }
  if (!c.lease) await guarded(c, () => leaseBySilence(c));
}

async function endingChecks(c: RunContext): Promise<void> {
  await guarded(c, () => byeChecks(c));
  await serverMacRefused(c);
  await versionRefused(c);
  await versionOneSession(c);
  await pingBeforeAuth(c);
  if (await reregister(c)) {
    await c.g.peer.send({ type: 'BYE', code: 0, reason: 'epara conform: done' }).catch(() => undefined);
  }
  await deviceFrames(c);
}
