/**
 * Mutual authentication (SPEC §7.1 step 5, §9): a WELCOME whose serverMac is wrong must be
 * refused. The device must not act as registered: no HEARTBEAT, no STATE, no answers to
 * session requests; it should say BYE 208 and close.
 */
import { checkTable } from '../check.js';
import { CheckFailure } from '../conform-error.js';
import type { RunContext } from '../context.js';
import { describe } from '../gateway.js';
import { FLAG_RSP } from '../../protocol/constants.js';

export const AUTH_CHECKS = checkTable('auth', {
  serverMac: { id: 'auth.server-mac', title: 'a WELCOME with a wrong serverMac is refused', spec: '§7.1 step 5, §9' },
});

const ALLOWED_AFTER_BAD_WELCOME = new Set(['BYE', 'HELLO', 'ERROR']);

export async function serverMacRefused(c: RunContext): Promise<void> {
  const { g, r } = c;
  await r.run(AUTH_CHECKS.serverMac, async (warn) => {
    const out = await g.handshake({ badServerMac: true });
    if (out.kind !== 'welcome-sent') throw new CheckFailure('the handshake did not reach WELCOME');
    const { peer, from } = out;
    // A session request right away: a device that believed the WELCOME would run it.
    const seq = await peer.send({ type: 'INFER_REQUEST', requestId: 0x5eed, service: 'conform-no-such-service', inputs: [{ name: 'x', dtype: 'uint8', shape: [1], data: new Uint8Array(1) }] });
    const watchMs = Math.max(2 * g.t.heartbeatMs, g.t.stateMs) + g.t.answerMs;
    await peer.waitFor((h) => h.frame?.message.type === 'HELLO', watchMs, from);
    const said = peer.heard.slice(from).filter((h) => h.frame);
    const bad = said.find((h) => !ALLOWED_AFTER_BAD_WELCOME.has(h.frame!.message.type));
    if (bad) throw new CheckFailure(`after a WELCOME with a wrong serverMac the device sent ${describe(bad.frame!.message)}: it accepted an impostor`);
    const answer = said.find((h) => h.frame!.header.flags & FLAG_RSP && h.frame!.header.corr === seq)?.frame?.message;
    // Serving it (a response, or 500 for the unknown service: it looked the service up) means the
    // device took the impostor's WELCOME; another refusal than 205 is wrong only in its code.
    if (answer && (answer.type !== 'ERROR' || answer.code === 500)) throw new CheckFailure(`a session request after the bad WELCOME got ${describe(answer)}: the device served it; ERROR 205 auth.not_authenticated (or nothing) is due`);
    if (answer?.type === 'ERROR' && answer.code !== 205) warn(`a session request after the bad WELCOME got ${describe(answer)}; §7.1 says ERROR 205 auth.not_authenticated`);
    const bye = said.find((h) => h.frame!.message.type === 'BYE')?.frame?.message;
    if (bye?.type === 'BYE' && bye.code !== 208) throw new CheckFailure(`the device refused with BYE code ${bye.code}; §7.1 says 208 auth.server_mac`);
    if (!bye) warn('no BYE 208 before closing (§7.1 step 5)');
    const how = bye ? 'BYE 208' : peer.closed ? 'closed the link' : answer ? 'answered 205' : 'went quiet and said HELLO again';
    return `refused: ${how}`;
  });
}
