/**
 * Retransmission with the RTX flag (SPEC §2, §5 correlation, §7.2): a request the kit sends twice
 * (same seq, RTX set) is answered again with the same response, not run twice; a request the
 * device sends again reuses its seq and sets RTX.
 */
import { checkTable } from '../check.js';
import { CheckFailure, expectThat } from '../conform-error.js';
import type { RunContext } from '../context.js';
import { describe, type LinkDrop } from '../gateway.js';
import { FLAG_RSP, FLAG_RTX } from '../../protocol/constants.js';
import { encodeMessage } from '../../protocol/messages/codec.js';
import type { Message } from '../../protocol/messages/types.js';
import { macsEqual } from '../../protocol/auth-mac.js';

export const RTX_CHECKS = checkTable('rtx', {
  request: { id: 'rtx.answered-again', title: 'a retransmitted request (RTX, same seq) gets the same answer again', spec: '§2, §5 correlation' },
  device: { id: 'rtx.device-retransmits', title: 'an unanswered device request is retransmitted with RTX and the same seq', spec: '§2, §7.2' },
});

/** Same answer body: the retransmission was answered from the cache, not recomputed differently. */
function sameAnswer(a: Message, b: Message): boolean {
  return a.type === b.type && macsEqual(encodeMessage(a), encodeMessage(b));
}

export async function rtxRequest(c: RunContext, request: () => Message): Promise<void> {
  const { g, r } = c;
  await r.run(RTX_CHECKS.request, async () => {
    const peer = g.peer;
    const msg = request();
    const from = peer.mark();
    const seq = await peer.send(msg);
    const first = await peer.waitAnswer(seq, g.t.answerMs, from);
    if (!first?.frame) throw new CheckFailure(`${msg.type}: no answer within ${g.t.answerMs} ms`);
    const from2 = peer.mark();
    await peer.send(msg, { seq, rtx: true });
    const second = await peer.waitAnswer(seq, g.t.answerMs, from2);
    if (!second?.frame) throw new CheckFailure(`the retransmission (RTX, seq ${seq}) of ${msg.type} was not answered: a device must answer it again from its response cache`);
    if (!sameAnswer(first.frame.message, second.frame.message)) throw new CheckFailure(`the retransmission got ${describe(second.frame.message)} where the first got ${describe(first.frame.message)} (an answer that differs means the request ran twice)`);
    await g.alive('the retransmission');
    const extra = peer.heard.slice(from2).filter((h) => h.frame && h.frame.header.flags & FLAG_RSP && h.frame.header.corr === seq);
    expectThat(extra.length === 1, `the retransmission was answered ${extra.length} times`);
    return `${msg.type} answered again with the same ${second.frame.message.type}`;
  });
}

/**
 * Hold back the answer to one HEARTBEAT and watch for its retransmission. A drop by silence
 * (serial links) already watched several: its record is used instead.
 */
export async function rtxDevice(c: RunContext, seen?: LinkDrop): Promise<void> {
  const { g, r } = c;
  await r.run(RTX_CHECKS.device, async () => {
    let beats = seen?.heartbeats;
    if (!beats) {
      const peer = g.peer;
      const saved = peer.auto;
      peer.auto = { ...saved, heartbeatLeaseMs: 0 };
      const from = peer.mark();
      try {
        const first = await peer.waitFor((h) => h.frame?.message.type === 'HEARTBEAT' && !(h.frame.header.flags & FLAG_RSP), 3 * g.t.heartbeatMs + g.t.answerMs, from);
        if (!first) throw new CheckFailure(`no HEARTBEAT within ${3 * g.t.heartbeatMs + g.t.answerMs} ms`);
        const seq = first.frame!.header.seq;
        // its retransmission (a device may also just send fresh ones: that is allowed)
        const wait = Math.max(2 * g.t.heartbeatMs, 2500) + g.t.answerMs;
        await peer.waitFor((h) => h !== first && h.frame?.message.type === 'HEARTBEAT' && h.frame.header.seq === seq, wait, peer.heard.indexOf(first) + 1);
        const all = peer.heard.slice(peer.heard.indexOf(first)).filter((h) => h.frame?.message.type === 'HEARTBEAT' && !(h.frame.header.flags & FLAG_RSP));
        beats = all.map((h) => ({ seq: h.frame!.header.seq, rtx: (h.frame!.header.flags & FLAG_RTX) !== 0 }));
        // answer them all so the session carries on
        for (const b of new Set(beats.map((x) => x.seq))) await peer.send({ type: 'HEARTBEAT_ACK', leaseMs: g.t.leaseMs }, { rsp: true, corr: b });
      } finally {
        peer.auto = saved;
      }
    }
    const seenSeqs = new Set<number>();
    let retransmitted = 0;
    for (const b of beats) {
      if (seenSeqs.has(b.seq)) {
        if (!b.rtx) throw new CheckFailure(`HEARTBEAT seq ${b.seq} was sent again without the RTX flag`);
        retransmitted++;
      } else if (b.rtx) {
        // a first sighting with RTX is fine only if the original was lost on the way; on a clean
        // link that is a device setting RTX on a fresh request
        throw new CheckFailure(`HEARTBEAT seq ${b.seq} carries RTX the first time it is seen`);
      }
      seenSeqs.add(b.seq);
    }
    if (!seen && retransmitted === 0) await g.alive('holding back a HEARTBEAT_ACK');
    return retransmitted > 0 ? `${retransmitted} retransmission(s), all with RTX and the original seq` : 'the device sent a fresh HEARTBEAT instead of retransmitting (allowed); no retransmission to check';
  });
}
