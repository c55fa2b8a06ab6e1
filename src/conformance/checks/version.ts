/**
 * Protocol version negotiation (SPEC §8) and what protocol version 2 (spec 1.1) adds: the STATE
 * service keys memKiB / busyUs (§5.8) and the PLACEMENT op `pipeline` (§5.10). The kit speaks
 * [1, 2] and offers whatever HELLO `proto` shares with it; a device that speaks only version 1
 * (the FPGA endpoint, device-c) gets version 1 and never a version-2 key, and the version-2 checks
 * are skipped for it with the reason. A device that speaks both is also held to a version-1
 * session (the SPEC §8 example of a 1.1 device and a 1.0 server).
 */
import { readFileSync } from 'node:fs';
import { checkTable } from '../check.js';
import { CheckFailure, expectThat } from '../conform-error.js';
import type { RunContext } from '../context.js';
import { describe, NO_SERVICE, type Session } from '../gateway.js';
import { vectorsFile } from '../vector-files.js';
import { PROTOCOL_MIN } from '../../protocol/constants.js';
import { MessageType, type HelloMessage, type StateMessage } from '../../protocol/messages/types.js';
import type { Heard } from '../peer.js';

export const VERSION_CHECKS = checkTable('version', {
  negotiated: { id: 'version.negotiated', title: 'CHALLENGE offers the highest version HELLO proto shares with the kit, and the device registers at it', spec: '§8 rule 3, §5.1, §5.2' },
  stateKeys: { id: 'version.state-v2-keys', title: 'in a version-2 session STATE memKiB / busyUs, when sent, are uints within the device\'s means', spec: '§5.8, §8' },
  pipeline: { id: 'version.placement-pipeline', title: 'in a version-2 session a PLACEMENT op with a pipeline stage is answered with PLACEMENT_ACK', spec: '§5.10, §8' },
  pipelineIndex: { id: 'version.pipeline-index-refused', title: 'in a version-2 session a pipeline index not below count is ERROR 113 msg.schema', spec: '§5.10, §4' },
  v1Session: { id: 'version.v1-session', title: 'in a version-1 session the device sends no version-2 key (STATE memKiB / busyUs)', spec: '§8, §5.8' },
});

/** The checks of what version 2 adds: skipped, with the reason, for a device that speaks only 1. */
export const VERSION_2_ONLY: readonly string[] = [VERSION_CHECKS.stateKeys.id, VERSION_CHECKS.pipeline.id, VERSION_CHECKS.pipelineIndex.id];

const V2_SERVICE_KEYS = ['memKiB', 'busyUs'] as const;

const isState = (h: Heard): boolean => h.frame?.message.type === 'STATE';

/** Why the version-2 checks cannot run against this device (undefined: they can). */
function noV2(hello: HelloMessage | undefined, kitMax: number): string | undefined {
  if (!hello) return 'no HELLO';
  if (hello.proto[1] < 2) return `the device speaks only protocol version ${hello.proto[0]}..${hello.proto[1]} (HELLO proto): version 2's keys do not exist in its sessions, and the kit sends it none (§8)`;
  if (kitMax < 2) return `the kit was told to speak only ${PROTOCOL_MIN}..${kitMax}`;
  return undefined;
}

/** What the device said in session `s`: from its WELCOME to the next session on the same link. */
function heardIn(c: RunContext, s: Session): Heard[] {
  const next = c.g.sessions.find((x, i) => i > c.g.sessions.indexOf(s) && x.peer === s.peer);
  return s.peer.heard.slice(s.heardFrom, next ? next.heardFrom : undefined);
}

/** The highest common version (§8 rule 3), checked on the first session. */
export async function versionNegotiated(c: RunContext): Promise<void> {
  const { g, r } = c;
  await r.run(VERSION_CHECKS.negotiated, async () => {
    const s = g.sessions[0];
    if (!s) throw new CheckFailure('no session');
    const [dmin, dmax] = s.hello.proto;
    const [kmin, kmax] = g.o.proto;
    expectThat(dmin <= dmax, `HELLO proto [${dmin}, ${dmax}] is not [min, max]`);
    const want = Math.min(dmax, kmax);
    expectThat(s.version === want, `the session runs version ${s.version}, the highest shared by HELLO proto ${dmin}..${dmax} and the kit's ${kmin}..${kmax} is ${want}`);
    return `HELLO proto ${dmin}..${dmax}, kit ${kmin}..${kmax}: CHALLENGE version ${s.version}, AUTH and WELCOME at it`;
  });
}

/**
 * The STATEs of the version-2 sessions so far (after a deployment and some inferences, so that
 * a service is listed): the keys are optional, and when present they must decode as uints (the
 * kit decodes at version 2, so a bad type is a decoding error heard) and fit the device's means.
 */
export async function versionStateKeys(c: RunContext): Promise<void> {
  const { g, r } = c;
  const why = noV2(g.lastHello, g.o.proto[1]);
  if (why) return r.skip(VERSION_CHECKS.stateKeys, why);
  await r.run(VERSION_CHECKS.stateKeys, async (warn) => {
    const peer = g.peer;
    // one more STATE, so the inferences just run are in one
    await peer.waitFor(isState, 3 * g.t.stateMs + g.t.answerMs, peer.mark());
    const v2 = g.sessions.filter((s) => s.version >= 2);
    const states = v2.flatMap((s) => heardIn(c, s).filter(isState).map((h) => ({ h, s })));
    expectThat(states.length > 0, `no STATE in ${v2.length} version-2 session(s)`);
    const memoryKiB = g.lastHello!.caps.memoryKiB;
    let entries = 0;
    let withMem = 0;
    let withBusy = 0;
    let maxBusyUs = 0;
    let prevAt: number | undefined;
    for (const { h } of states) {
      const m = h.frame!.message as StateMessage;
      const sinceMs = prevAt === undefined ? undefined : h.at - prevAt;
      prevAt = h.at;
      for (const sv of m.services) {
        entries++;
        for (const k of V2_SERVICE_KEYS) {
          const v = sv[k];
          if (v !== undefined) expectThat(Number.isSafeInteger(v) && v >= 0, `STATE service ${sv.name} ${k} ${v} is not a uint`);
        }
        if (sv.memKiB !== undefined) {
          withMem++;
          expectThat(sv.memKiB <= memoryKiB, `STATE service ${sv.name} memKiB ${sv.memKiB} is more than the device has (HELLO caps.memoryKiB ${memoryKiB})`);
        }
        if (sv.busyUs !== undefined) {
          withBusy++;
          maxBusyUs = Math.max(maxBusyUs, sv.busyUs);
          // several runs in parallel can add up to more than the interval; more than every core busy all the time is suspicious, not wrong by the letter
          const cores = Math.max(1, g.lastHello!.caps.cpuCores);
          if (sinceMs !== undefined && sv.busyUs > (sinceMs + 100) * 1000 * cores) warn(`STATE service ${sv.name} busyUs ${sv.busyUs} in ${sinceMs.toFixed(0)} ms since the previous STATE, on ${cores} core(s)`);
        }
      }
    }
    if (entries === 0) return `${states.length} STATEs, none listing a service: no memKiB / busyUs to check`;
    return `${states.length} STATEs, ${entries} service entries: memKiB in ${withMem}, busyUs in ${withBusy} (largest ${maxBusyUs} µs)`;
  });
}

/** PLACEMENT with `pipeline` (a good one, then index = count) in a version-2 session. */
export async function versionPlacement(c: RunContext): Promise<void> {
  const { g, r } = c;
  const why = noV2(g.lastHello, g.o.proto[1]);
  if (why) {
    r.skip(VERSION_CHECKS.pipeline, why);
    return r.skip(VERSION_CHECKS.pipelineIndex, why);
  }
  await r.run(VERSION_CHECKS.pipeline, async (warn) => {
    expectThat(g.session!.version >= 2, `the session runs version ${g.session!.version}`);
    const service = c.deployed?.service ?? NO_SERVICE;
    const inputNames = (c.artifact?.input ?? []).map((t) => t.name);
    const planVersion = c.nextPlanVersion++;
    const { answer } = await g.peer.request(
      { type: 'PLACEMENT', planVersion, ops: [{ action: 'configure', service, pipeline: { index: 0, count: 1, inputNames, outputNames: [] } }] },
      g.t.answerMs,
    );
    if (!answer) throw new CheckFailure(`PLACEMENT with a pipeline stage: no answer within ${g.t.answerMs} ms`);
    const m = answer.message;
    if (m.type !== 'PLACEMENT_ACK') throw new CheckFailure(`PLACEMENT with a pipeline stage answered with ${describe(m)} (the op is valid at version 2)`);
    expectThat(m.planVersion === planVersion && m.results.length === 1 && m.results[0]!.service === service, `PLACEMENT_ACK for plan ${m.planVersion} with results ${JSON.stringify(m.results)}; want plan ${planVersion} and one result for ${service}`);
    const code = m.results[0]!.code;
    if (c.deployed && code !== 0) warn(`configure of the deployed service ${service} with a pipeline stage got result code ${code}`);
    return `PLACEMENT_ACK plan ${planVersion}, ${service}: code ${code}${c.deployed ? '' : ' (no service deployed: an unknown service)'}`;
  });
  await r.run(VERSION_CHECKS.pipelineIndex, async (warn) => {
    expectThat(g.session!.version >= 2, `the session runs version ${g.session!.version}`);
    const v = pipelineIndexVector();
    const err = await g.expectError(() => g.peer.sendBody(MessageType.PLACEMENT, Uint8Array.from(Buffer.from(v.body_hex, 'hex'))), v.expect, `PLACEMENT with pipeline index 3 of count 3 (${v.name})`);
    if (err.field !== v.field) warn(`ERROR field ${JSON.stringify(err.field)}, the vector says ${v.field}`);
    await g.alive('the refused PLACEMENT');
    return `ERROR ${err.code}${err.field ? ` (field ${err.field})` : ''}`;
  });
}

interface V2Vector {
  name: string;
  body_hex: string;
  expect?: string;
  field?: string;
}

/** protocol/vectors/v2.json's refused PLACEMENT: index 3 of count 3. */
function pipelineIndexVector(): Required<V2Vector> {
  const vs = (JSON.parse(readFileSync(vectorsFile('v2.json'), 'utf8')) as { vectors: V2Vector[] }).vectors;
  const v = vs.find((x) => x.expect === 'msg.schema' && x.field?.includes('pipeline'));
  if (!v) throw new CheckFailure('protocol/vectors/v2.json has no refused pipeline vector (reinstall epara)');
  return v as Required<V2Vector>;
}

/**
 * A version-1 session sends no version-2 key. For a device that speaks only 1, its sessions so
 * far are that; one that also speaks 2 gets a CHALLENGE for version 1 here (it must AUTH, §8 rule
 * 3 allows any common version) and its next STATE is read, then a BYE ends the session.
 */
export async function versionOneSession(c: RunContext): Promise<void> {
  const { g, r } = c;
  const dmin = g.lastHello?.proto[0] ?? 1;
  if (dmin > 1) return r.skip(VERSION_CHECKS.v1Session, `the device does not speak version 1 (HELLO proto ${g.lastHello!.proto.join('..')})`);
  await r.run(VERSION_CHECKS.v1Session, async () => {
    let sessions = g.sessions.filter((s) => s.version === 1);
    let downgraded = false;
    if (sessions.length === 0) {
      // the version-2 session ends first when nothing before this check ended it (--skip)
      const pending = await g.nextHello(0);
      if (pending) g.unconsume(pending.heard);
      else if (g.session && !g.session.peer.closed) await g.session.peer.send({ type: 'BYE', code: 0, reason: 'epara conform: a version-1 session next' }).catch(() => undefined);
      // a new session (not a resume of the version-2 one) at version 1
      const s = await g.establish({ version: 1, acceptResume: false });
      downgraded = true;
      // its STATE after WELCOME (§7.3), and one period more
      await s.peer.waitFor(isState, 3 * g.t.stateMs + g.t.answerMs, s.heardFrom);
      await s.peer.waitFor(isState, 3 * g.t.stateMs + g.t.answerMs, s.peer.mark());
      sessions = [s];
    }
    const states = sessions.flatMap((s) => heardIn(c, s).filter(isState));
    expectThat(states.length > 0, `no STATE in ${sessions.length} version-1 session(s)`);
    let entries = 0;
    for (const h of states) {
      for (const sv of (h.frame!.message as StateMessage).services) {
        entries++;
        for (const k of V2_SERVICE_KEYS) expectThat(sv[k] === undefined, `in a version-1 session STATE service ${sv.name} carries ${k} ${sv[k]} (a version-2 key, §8: a sender MUST NOT send it)`);
      }
    }
    if (downgraded) {
      await g.peer.send({ type: 'BYE', code: 0, reason: 'epara conform: end of the version-1 session' }).catch(() => undefined);
    }
    const how = downgraded ? 'CHALLENGE version 1 to a device that also speaks 2: AUTH and WELCOME' : `${sessions.length} version-1 session(s)`;
    return `${how}; ${states.length} STATEs, ${entries} service entries, none with memKiB / busyUs${entries === 0 ? ' (no service listed)' : ''}`;
  });
}
