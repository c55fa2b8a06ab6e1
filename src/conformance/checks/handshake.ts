/**
 * Handshake and version negotiation (SPEC §5.1–§5.4, §7.1, §8): the device's HELLO, a correct
 * handshake, a CHALLENGE for a version the device does not speak, and registering again after
 * refusals.
 */
import { checkTable } from '../check.js';
import { CheckFailure, expectThat } from '../conform-error.js';
import type { RunContext } from '../context.js';
import type { HandshakeOutcome } from '../gateway.js';
import { FLAG_RSP } from '../../protocol/constants.js';

export const HANDSHAKE_CHECKS = checkTable('handshake', {
  hello: { id: 'handshake.hello', title: 'HELLO is a valid v1 request naming the provisioned device', spec: '§5.1, §7.1, §8 rule 1' },
  welcome: { id: 'handshake.welcome', title: 'CHALLENGE → AUTH with a MAC that verifies → WELCOME accepted', spec: '§5.2–§5.4, §7.1' },
  versionRefused: { id: 'handshake.version-refused', title: 'a CHALLENGE version outside HELLO proto is refused (no AUTH)', spec: '§8 rule 4' },
  reregister: { id: 'handshake.reregister', title: 'after refused handshakes the device registers again', spec: '§7.4 device view, §9' },
});

/** The first session: HELLO checked, handshake completed. False when there is no session to test. */
export async function firstSession(c: RunContext): Promise<boolean> {
  const { g, r } = c;
  let outcome: HandshakeOutcome | undefined;
  let failure: string | undefined;
  try {
    outcome = await g.handshake();
  } catch (e) {
    failure = e instanceof CheckFailure ? e.reason : String((e as Error).message);
  }
  const hello = g.lastHello;
  await r.run(HANDSHAKE_CHECKS.hello, async () => {
    if (!hello) throw new CheckFailure(failure ?? 'no HELLO');
    const f = g.peers.flatMap((p) => p.heard).find((h) => h.frame?.message === hello)?.frame;
    expectThat(f && !(f.header.flags & FLAG_RSP) && f.header.corr === 0, 'HELLO must be a request (RSP clear, corr 0)');
    expectThat(hello.deviceId === g.o.id, `HELLO deviceId is ${JSON.stringify(hello.deviceId)}, the kit was given --id ${g.o.id}`);
    if (g.o.deviceClass) expectThat(hello.deviceClass === g.o.deviceClass, `HELLO deviceClass is ${hello.deviceClass}, the kit was given --class ${g.o.deviceClass}`);
    expectThat(hello.proto[0] <= g.o.proto[1] && hello.proto[1] >= g.o.proto[0], `HELLO proto ${hello.proto.join('..')} shares no version with the kit (${g.o.proto.join('..')})`);
    const caps = hello.caps;
    return `${hello.deviceId} (${hello.deviceClass}), proto ${hello.proto.join('..')}, firmware ${hello.firmware}, maxFrame ${hello.maxFrame}, rxWindow ${hello.rxWindow}, formats [${(caps.formats ?? []).join(', ')}]`;
  });
  await r.run(HANDSHAKE_CHECKS.welcome, async () => {
    if (!outcome) throw new CheckFailure(failure ?? 'no handshake');
    if (outcome.kind !== 'welcomed') throw new CheckFailure('the handshake did not complete');
    const rtt = await g.alive('WELCOME');
    const s = outcome.session;
    return `session v${s.version}, maxFrame ${s.maxFrame}, window ${s.window}; PING after WELCOME answered in ${rtt.toFixed(0)} ms`;
  });
  // the session checks run whenever there is a session (also with --skip handshake)
  return outcome?.kind === 'welcomed';
}

/** CHALLENGE with a version above the device's range: it must not AUTH (and should BYE 121). */
export async function versionRefused(c: RunContext): Promise<void> {
  const { g, r } = c;
  await r.run(HANDSHAKE_CHECKS.versionRefused, async (warn) => {
    const peek = await g.nextHello(g.t.helloMs);
    if (!peek) throw new CheckFailure(`no HELLO from the device within ${g.t.helloMs} ms`);
    // put it back: handshake() takes the newest unanswered HELLO again
    const dmax = peek.hello.proto[1];
    if (dmax >= 255) return 'the device speaks up to version 255: no version above its range to offer';
    g.unconsume(peek.heard);
    const out = await g.handshake({ version: dmax + 1 });
    expectThat(out.kind === 'no-auth', 'the device sent AUTH');
    const bye = await out.peer.waitFor((h) => h.frame?.message.type === 'BYE', g.t.graceMs, out.from);
    const code = bye?.frame?.message.type === 'BYE' ? bye.frame.message.code : undefined;
    if (bye && code !== 121 && code !== 120) throw new CheckFailure(`the device refused with BYE code ${code}; §8 rule 4 says 120 or 121`);
    if (!bye) warn('no BYE 121 before closing (§8 rule 4 says the device sends BYE with code 120/121)');
    return `CHALLENGE version ${dmax + 1} refused${bye ? ` with BYE ${code}` : ''}`;
  });
}

/** The device comes back and registers after the refusals. */
export async function reregister(c: RunContext): Promise<boolean> {
  return c.r.run(HANDSHAKE_CHECKS.reregister, async () => {
    const s = await c.g.establish();
    const rtt = await c.g.alive('the new WELCOME');
    return `registered again over ${s.peer.description}; PING answered in ${rtt.toFixed(0)} ms`;
  });
}
