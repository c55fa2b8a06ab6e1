/**
 * BYE (SPEC §5.5, §7.4): a malformed BYE is not a BYE (the session goes on); a valid one ends the
 * session at once: the device stops its session traffic and drops the link or says HELLO again.
 */
import { checkTable } from '../check.js';
import { CheckFailure } from '../conform-error.js';
import type { RunContext } from '../context.js';
import { describe } from '../gateway.js';
import { MessageType } from '../../protocol/messages/types.js';

export const BYE_CHECKS = checkTable('bye', {
  malformed: { id: 'bye.malformed-ignored', title: 'a BYE with unsorted keys is ignored: the session goes on', spec: '§4, §5.5' },
  obeyed: { id: 'bye.obeyed', title: 'a valid BYE ends the session: link dropped or HELLO again, no session traffic', spec: '§5.5, §7.4' },
});

/** {1: "ok", 0: 0}: well-formed CBOR, keys out of order (outside the deterministic subset). */
const UNSORTED_BYE = Uint8Array.from([0xa2, 0x01, 0x62, 0x6f, 0x6b, 0x00, 0x00]);
const SESSION_TRAFFIC = new Set(['HEARTBEAT', 'STATE', 'DEPLOY_RESULT', 'PLACEMENT_ACK']);

export async function byeChecks(c: RunContext): Promise<void> {
  const { g, r } = c;
  await r.run(BYE_CHECKS.malformed, async () => {
    await g.expectSilence((peer) => peer.sendBody(MessageType.BYE, UNSORTED_BYE), 'a BYE with unsorted keys');
    const still = await g.registered();
    if (!still.ok) {
      await g.ensureSession().catch(() => undefined);
      throw new CheckFailure(`the device obeyed a malformed BYE: ${still.why}`);
    }
    return 'ignored; still registered';
  });
  await r.run(BYE_CHECKS.obeyed, async () => {
    const peer = g.peer;
    const from = peer.mark();
    const sentAt = peer.now();
    await peer.send({ type: 'BYE', code: 0, reason: 'epara conform: end of session' });
    const t0 = performance.now();
    const hello = await peer.waitFor((h) => h.frame?.message.type === 'HELLO', g.t.helloMs, from);
    const closed = peer.closed;
    if (!hello && !closed) {
      // a device that drops the link quietly and reconnects shows up as a new link
      const elsewhere = await g.nextHello(1);
      if (elsewhere) g.unconsume(elsewhere.heard);
      else throw new CheckFailure(`after BYE the device neither dropped the link nor said HELLO within ${g.t.helloMs} ms`);
    }
    const until = hello ? peer.heard.indexOf(hello) : peer.heard.length;
    const traffic = peer.heard.slice(from, until).find((h) => h.frame && SESSION_TRAFFIC.has(h.frame.message.type) && h.at > sentAt + 50);
    if (traffic) throw new CheckFailure(`after BYE the device still sent ${describe(traffic.frame!.message)}`);
    return closed ? `dropped the link after ${(performance.now() - t0).toFixed(0)} ms` : 'said HELLO again';
  });
}
