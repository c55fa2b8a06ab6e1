/**
 * Framing (SPEC §2, §3): COBS edge cases the device must decode, frames it must drop without an
 * answer (bad CRC, oversize, garbage), and resynchronisation on the next delimiter.
 */
import { randomBytes } from 'node:crypto';
import { checkTable } from '../check.js';
import { CheckFailure, expectThat } from '../conform-error.js';
import type { RunContext } from '../context.js';
import { describe } from '../gateway.js';
import { cobsEncode } from '../../protocol/cobs.js';
import { FLAG_RSP, maxWirePiece } from '../../protocol/constants.js';
import { buildFrame, encodeFrame } from '../../protocol/frame.js';
import { MessageType } from '../../protocol/messages/types.js';
import { inferBody } from '../bodies.js';
import { wireOf } from '../peer.js';

export const FRAMING_CHECKS = checkTable('framing', {
  cobs: { id: 'framing.cobs-edges', title: 'COBS edge cases decode: leading delimiters, a 254-byte run, a superfluous 01', spec: '§3' },
  crc: { id: 'framing.crc', title: 'a request with a bad CRC is dropped without an answer', spec: '§2.1, §5 correlation' },
  oversize: { id: 'framing.oversize', title: 'over maxFrame (decoded, and as an endless piece) is dropped unanswered', spec: '§2.2' },
  resync: { id: 'framing.resync', title: 'garbage between frames is discarded; the next frame is answered', spec: '§3' },
  deviceFrames: { id: 'framing.device-frames', title: 'every frame the device sent decoded cleanly', spec: '§2–§4' },
});

const NO_SERVICE = 'conform-no-such-service';

/**
 * An INFER_REQUEST frame whose last COBS run is exactly 254 bytes (so its encoding ends in a 0xFF
 * block), found by trying tensor lengths and request ids until the CRC has no zero byte.
 */
function frameEndingInFullBlock(seq: number, maxFrame: number): Uint8Array | undefined {
  for (let n = 200; n <= 300; n++) {
    for (let id = 1; id < 64; id++) {
      const body = inferBody(id, NO_SERVICE, 'x', 'uint8', [n], new Uint8Array(n).fill(0x55));
      const f = buildFrame(MessageType.INFER_REQUEST, 0, seq, 0, body);
      if (f.length > maxFrame) return undefined;
      const lastZero = f.lastIndexOf(0);
      if (f.length - lastZero - 1 === 254) return f;
    }
  }
  return undefined;
}

export async function framingChecks(c: RunContext): Promise<void> {
  const { g, r } = c;
  await r.run(FRAMING_CHECKS.cobs, async (warn) => {
    const peer = g.peer;
    // lone delimiters before a frame (a sender MAY flush with them)
    const seq = peer.takeSeq();
    const from = peer.mark();
    const ping = encodeFrame({ type: 'PING', data: new Uint8Array([0, 0, 9]) }, { seq });
    await peer.write(Uint8Array.from([0, 0, 0, ...ping]));
    const a = await peer.waitAnswer(seq, g.t.answerMs, from);
    expectThat(a?.frame?.message.type === 'PONG', 'a PING after three lone 0x00 delimiters was not answered with PONG');
    const done = ['leading delimiters'];
    const mf = g.session!.maxFrame;
    const seq2 = peer.takeSeq();
    const big = frameEndingInFullBlock(seq2, mf);
    if (!big) {
      warn(`negotiated maxFrame ${mf} is too small for a frame with a 254-byte run: not tested`);
      return done.join(', ');
    }
    for (const extra of [false, true]) {
      const s = extra ? peer.takeSeq() : seq2;
      const f = extra ? frameEndingInFullBlock(s, mf)! : big;
      const enc = cobsEncode(f);
      expectThat(enc[enc.length - 255] === 0xff, 'kit bug: the frame does not end in a 0xFF block');
      const wire = Uint8Array.from([...enc, ...(extra ? [1] : []), 0]);
      const from2 = peer.mark();
      await peer.write(wire);
      const ans = await peer.waitAnswer(s, g.t.answerMs, from2);
      const what = extra ? 'a frame ending in a 0xFF block plus a superfluous 01' : 'a frame ending in a 0xFF block';
      if (!ans?.frame) throw new CheckFailure(`${what} (INFER_REQUEST for an unknown service, ${f.length} bytes) was not answered`);
      const m = ans.frame.message;
      expectThat(m.type === 'ERROR' && m.code === 500, `${what}: answered ${describe(m)} where ERROR 500 infer.unknown_service is due`);
      done.push(extra ? 'superfluous 01' : '254-byte final run');
    }
    return done.join(', ');
  });

  await r.run(FRAMING_CHECKS.crc, async () => {
    await g.expectSilence(async (peer) => {
      const seq = peer.takeSeq();
      // PING {0: h'010203'} with one bit of its CRC flipped
      const frame = buildFrame(MessageType.PING, 0, seq, 0, new Uint8Array([0xa1, 0x00, 0x43, 1, 2, 3]));
      frame[frame.length - 1]! ^= 0x10;
      await peer.write(wireOf(frame));
      return seq;
    }, 'a PING with a bad CRC');
    return 'dropped; the next PING answered';
  });

  await r.run(FRAMING_CHECKS.oversize, async () => {
    const mf = g.session!.maxFrame;
    await g.expectSilence(async (peer) => {
      const seq = peer.takeSeq();
      // a well-formed request one byte over maxFrame
      const n = mf - 13 - 40 + 1;
      let body = inferBody(1, NO_SERVICE, 'x', 'uint8', [Math.max(n, 1)], new Uint8Array(Math.max(n, 1)).fill(7));
      const size = 13 + body.length;
      if (size <= mf) body = inferBody(1, NO_SERVICE, 'x', 'uint8', [n + (mf + 1 - size)], new Uint8Array(n + (mf + 1 - size)).fill(7));
      const frame = buildFrame(MessageType.INFER_REQUEST, 0, seq, 0, body);
      expectThat(frame.length > mf, 'kit bug: oversize frame not over maxFrame');
      await peer.write(wireOf(frame));
      return seq;
    }, `an INFER_REQUEST one byte over maxFrame ${mf}`);
    await g.expectSilence(async (peer) => {
      const junk = new Uint8Array(maxWirePiece(mf) + 64).fill(0x11);
      await peer.write(Uint8Array.from([...junk, 0]));
      return undefined;
    }, `${maxWirePiece(mf) + 64} bytes without a delimiter`);
    return `dropped at maxFrame ${mf}; the next PING answered`;
  });

  await r.run(FRAMING_CHECKS.resync, async () => {
    const peer = g.peer;
    const junk = randomBytes(97);
    for (let i = 0; i < junk.length; i++) if (junk[i] === 0) junk[i] = 1;
    const withZeros = randomBytes(40);
    const seq = peer.takeSeq();
    const from = peer.mark();
    const ping = encodeFrame({ type: 'PING', data: new Uint8Array([0xee]) }, { seq });
    await peer.write(Uint8Array.from([...junk, 0, ...withZeros, 0, ...ping]));
    const a = await peer.waitAnswer(seq, g.t.answerMs, from);
    expectThat(a?.frame?.message.type === 'PONG', 'a PING right after garbage (and the garbage\'s delimiter) was not answered');
    // the same PING split over three writes
    const seq2 = peer.takeSeq();
    const p2 = encodeFrame({ type: 'PING', data: new Uint8Array([1, 0, 2]) }, { seq: seq2 });
    const from2 = peer.mark();
    await peer.writePieces([p2.subarray(0, 3), p2.subarray(3, 9), p2.subarray(9)], 20);
    const b = await peer.waitAnswer(seq2, g.t.answerMs, from2);
    expectThat(b?.frame?.message.type === 'PONG', 'a PING written in three pieces was not answered');
    const answered = peer.heard.slice(from).filter((h) => h.frame && h.frame.header.flags & FLAG_RSP && h.frame.message.type === 'ERROR');
    expectThat(answered.length === 0, `garbage was answered with ${answered[0] && describe(answered[0].frame!.message)}`);
    return 'resynchronised after 97 + 40 garbage bytes; a split frame reassembled';
  });
}

/** Run last: nothing the device sent in the whole run failed to decode. */
export async function deviceFrames(c: RunContext): Promise<void> {
  await c.r.run(FRAMING_CHECKS.deviceFrames, async () => {
    const all = c.g.peers.flatMap((p) => p.heard);
    // The first piece on a link the kit opened while the device was mid-frame (a tty that was
    // already carrying its HELLO) is the tail of that frame: not the device's fault.
    const torn = new Set(c.g.peers.filter((p) => p.heard[0]?.error && p.heard[0].at < 50).map((p) => p.heard[0]!));
    const bad = all.filter((h) => h.error && !torn.has(h));
    if (bad.length) {
      const p = c.g.peers.find((x) => x.heard.includes(bad[0]!))!;
      throw new CheckFailure(`${bad.length} of ${all.length} frames from the device did not decode; first (#${p.heard.indexOf(bad[0]!)} on its link, at ${bad[0]!.at.toFixed(0)} ms): ${bad[0]!.error!.code}: ${bad[0]!.error!.reason}`);
    }
    return `${all.length} frames, all valid${torn.size ? ` (a torn first piece on ${torn.size} link(s) opened mid-frame not counted)` : ''}`;
  });
}
