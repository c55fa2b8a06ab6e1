/**
 * PING in each phase (SPEC §5.6): before the handshake, registered, during a deployment; the
 * data is echoed byte for byte, and data over 64 bytes is a schema error.
 */
import { randomBytes } from 'node:crypto';
import { checkTable } from '../check.js';
import { CheckFailure, expectThat } from '../conform-error.js';
import type { RunContext } from '../context.js';
import { describe } from '../gateway.js';
import { macsEqual } from '../../protocol/auth-mac.js';
import { MessageType } from '../../protocol/messages/types.js';
import { pingBody } from '../bodies.js';
import type { Peer } from '../peer.js';

export const PING_CHECKS = checkTable('ping', {
  registered: { id: 'ping.registered', title: 'PING while registered: PONG echoes the data (zeros, 0xFF, 64 bytes, none)', spec: '§5.6' },
  dataLimit: { id: 'ping.data-limit', title: 'PING with 65 data bytes is ERROR 113 msg.schema', spec: '§5.6, §4' },
  beforeAuth: { id: 'ping.before-auth', title: 'PING before the handshake: PONG (or ERROR 205), never ignored', spec: '§5.6, §7.1' },
  duringDeploy: { id: 'ping.during-deploy', title: 'PING between DEPLOY_CHUNKs is answered', spec: '§5.6, §7.5' },
});

/** PING with `data` (or none) must come back as PONG with the same data. */
export async function echo(c: RunContext, peer: Peer, data: Uint8Array | undefined, what: string): Promise<void> {
  const { answer } = await peer.request(data ? { type: 'PING', data } : { type: 'PING' }, c.g.t.answerMs);
  if (!answer) throw new CheckFailure(`${what}: no PONG within ${c.g.t.answerMs} ms`);
  const m = answer.message;
  if (m.type !== 'PONG') throw new CheckFailure(`${what}: answered with ${describe(m)}`);
  if (data) expectThat(m.data && macsEqual(m.data, data), `${what}: PONG data differs from the PING data`);
  else expectThat(!m.data || m.data.length === 0, `${what}: PONG carries data the PING did not have`);
}

export async function pingRegistered(c: RunContext): Promise<void> {
  const { g, r } = c;
  await r.run(PING_CHECKS.registered, async () => {
    const peer = g.peer;
    await echo(c, peer, new Uint8Array([0, 1, 0, 0, 255, 7, 0]), 'PING with zeros in its data');
    await echo(c, peer, new Uint8Array(64), 'PING with 64 zero bytes');
    await echo(c, peer, new Uint8Array(64).fill(0xff), 'PING with 64 0xFF bytes');
    await echo(c, peer, randomBytes(33), 'PING with 33 random bytes');
    await echo(c, peer, undefined, 'PING without data');
    return '5 PINGs echoed';
  });
  await r.run(PING_CHECKS.dataLimit, async () => {
    await g.expectError(() => g.peer.sendBody(MessageType.PING, pingBody(new Uint8Array(65).fill(1))), 'msg.schema', 'PING with 65 data bytes');
    await g.alive('the 65-byte PING');
    return 'refused with 113';
  });
}

/** Before answering the next HELLO: the device must answer a PING (PONG, or 205 if it is strict). */
export async function pingBeforeAuth(c: RunContext): Promise<void> {
  const { g, r } = c;
  await r.run(PING_CHECKS.beforeAuth, async () => {
    const got = await g.nextHello(g.t.helloMs);
    if (!got) throw new CheckFailure(`no HELLO from the device within ${g.t.helloMs} ms`);
    g.unconsume(got.heard);
    const { answer } = await got.peer.request({ type: 'PING', data: new Uint8Array([0, 42]) }, g.t.answerMs);
    if (!answer) throw new CheckFailure(`PING after HELLO, before CHALLENGE: no answer within ${g.t.answerMs} ms`);
    const m = answer.message;
    if (m.type === 'PONG') return 'PONG before CHALLENGE';
    if (m.type === 'ERROR' && m.code === 205) return 'ERROR 205 before CHALLENGE';
    throw new CheckFailure(`PING before CHALLENGE answered with ${describe(m)}`);
  });
}
