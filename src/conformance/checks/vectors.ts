/**
 * Every invalid golden vector (protocol/vectors/invalid.json) sent to the registered device:
 * a request whose body fails §4/§5 must get ERROR with the vector's code; everything else
 * (frame-level damage, responses, notifications) must get silence, and the device must still be
 * registered afterwards (a malformed BYE is not a BYE).
 */
import { readFileSync } from 'node:fs';
import type { CheckDef } from '../check.js';
import { CheckFailure } from '../conform-error.js';
import type { RunContext } from '../context.js';
import { describe } from '../gateway.js';
import { vectorsFile } from '../vector-files.js';
import { cobsDecode, cobsEncode } from '../../protocol/cobs.js';
import { crc32c } from '../../protocol/crc32c.js';
import { FLAG_RSP, maxWirePiece } from '../../protocol/constants.js';
import { messageTypeName, type Message } from '../../protocol/messages/types.js';
import { isRequestType } from '../../protocol/messages/catalogue.js';
import { messageFromJson } from '../../protocol/messages/json-form.js';

/** One entry of protocol/vectors/invalid.json (the vectors README describes each field). */
export interface InvalidVector {
  name: string;
  description: string;
  max_frame: number;
  wire_hex: string;
  expect: string;
  expect_wire: number;
  field?: string;
}

/** Request types only a server receives (SPEC §5 dir D): HELLO, AUTH, HEARTBEAT. */
const DEVICE_BOUND_ONLY = new Set([0x01, 0x03, 0x08]);

export function loadInvalidVectors(): InvalidVector[] {
  return (JSON.parse(readFileSync(vectorsFile('invalid.json'), 'utf8')) as { vectors: InvalidVector[] }).vectors;
}

interface AcceptVector {
  name: string;
  description: string;
  wire_hex: string;
  header: { version: number; type: number; flags: number; seq: number; corr: number };
  message: Record<string, unknown>;
}

/** protocol/vectors/accept.json (spec 1.1): inputs a receiver must accept; none before it. */
export function loadAcceptVectors(): AcceptVector[] {
  let path: string;
  try {
    path = vectorsFile('accept.json');
  } catch {
    return [];
  }
  return (JSON.parse(readFileSync(path, 'utf8')) as { vectors: AcceptVector[] }).vectors;
}

export function acceptCheck(v: AcceptVector): CheckDef {
  return { id: `accept.${v.name}`, family: 'vectors', title: v.description, spec: '§2, §4, §4.1' };
}

export function vectorCheck(v: InvalidVector): CheckDef {
  return { id: `vector.${v.name}`, family: 'vectors', title: v.description, spec: specOf(v.expect) };
}

function specOf(code: string): string {
  if (code === 'frame.crc') return '§2.1, §3';
  if (code === 'frame.oversize') return '§2.2';
  if (code.startsWith('frame.')) return '§2, §3';
  if (code === 'msg.unknown_type') return '§3, §8 rule 5';
  if (code === 'msg.schema') return '§4, §5';
  return '§4';
}

/** The unencoded frame of a vector, or undefined when its COBS is the thing that is broken. */
function frameOf(wire: Uint8Array): Uint8Array | undefined {
  try {
    return cobsDecode(wire.subarray(0, wire.length - 1));
  } catch {
    return undefined;
  }
}

function crcOk(f: Uint8Array): boolean {
  if (f.length < 13) return false;
  const n = f.length - 4;
  const got = (f[n]! | (f[n + 1]! << 8) | (f[n + 2]! << 16) | (f[n + 3]! << 24)) >>> 0;
  return got === crc32c(f, 0, 0, n);
}

/** The same frame under the kit's own seq (CRC recomputed): a device's duplicate cache must not answer it from an earlier frame. */
function restamp(f: Uint8Array, seq: number): Uint8Array {
  const g = Uint8Array.from(f);
  g[3] = seq >> 8;
  g[4] = seq & 0xff;
  const n = g.length - 4;
  const c = crc32c(g, 0, 0, n);
  g[n] = c & 0xff;
  g[n + 1] = (c >>> 8) & 0xff;
  g[n + 2] = (c >>> 16) & 0xff;
  g[n + 3] = c >>> 24;
  const enc = cobsEncode(g);
  const out = new Uint8Array(enc.length + 1);
  out.set(enc);
  return out;
}

export async function vectorChecks(c: RunContext): Promise<void> {
  const { g, r } = c;
  for (const v of loadInvalidVectors()) {
    const def = vectorCheck(v);
    await r.run(def, async (warn) => {
      const peer = g.peer;
      const mf = g.session!.maxFrame;
      let wire: Uint8Array = Uint8Array.from(Buffer.from(v.wire_hex, 'hex'));
      const frame = frameOf(wire);
      if (v.expect === 'frame.oversize') {
        const tooBig = frame && frame.length > 13 ? frame.length > mf : wire.length - 1 > maxWirePiece(mf);
        if (!tooBig) return `skipped as sent: the vector is oversize only at maxFrame ${v.max_frame}, this session has ${mf} (framing.oversize tests it at ${mf})`;
      }
      const valid = frame !== undefined && crcOk(frame) && v.expect !== 'frame.crc';
      const seq = valid ? peer.takeSeq() : undefined;
      if (valid) wire = restamp(frame, seq!);
      const type = frame && frame.length >= 2 ? frame[1]! : -1;
      const flags = frame && frame.length >= 3 ? frame[2]! : 0;
      const answerable = valid && v.expect.startsWith('msg.') && !(flags & FLAG_RSP) && (isRequestType(type) || messageTypeName(type) === undefined);
      if (answerable && v.expect === 'msg.schema' && DEVICE_BOUND_ONLY.has(type)) {
        // A request only a server receives (dir D): a device MAY refuse it as unexpected without
        // a schema engine for messages it never uses (§4 errors it must still find).
        const from = peer.mark();
        await peer.write(wire);
        const got = await peer.waitAnswer(seq!, g.t.answerMs, from);
        if (!got?.frame) throw new CheckFailure(`${v.name}: no answer within ${g.t.answerMs} ms (ERROR 113 msg.schema, or 114 msg.unexpected for a server-bound request, is due)`);
        const m = got.frame.message;
        if (m.type !== 'ERROR' || (m.code !== 113 && m.code !== 114)) throw new CheckFailure(`${v.name}: answered ${describe(m)} where 113 msg.schema (or 114 msg.unexpected: only servers receive ${messageTypeName(type)}) is due`);
        await g.alive(v.name);
        return m.code === 113 ? 'ERROR 113 msg.schema' : `ERROR 114 msg.unexpected (a device never receives ${messageTypeName(type)}; 113 would do too)`;
      }
      if (answerable) {
        const err = await g.expectError(() => peer.write(wire).then(() => seq!), v.expect, v.name);
        if (v.field && err.field !== undefined && err.field !== v.field && !err.field.endsWith(v.field)) warn(`ERROR field is ${JSON.stringify(err.field)}, the vector names ${JSON.stringify(v.field)}`);
        if (v.field && err.field === undefined) warn(`ERROR has no field; §4 says a schema error names it (${v.field})`);
        await g.alive(v.name);
        return `ERROR ${v.expect_wire} ${v.expect}`;
      }
      if (valid && (v.expect === 'frame.header' || v.expect === 'frame.version')) {
        // The CRC held, so the header can be trusted: SPEC §5 forbids answering only frames that
        // failed the CRC, COBS or size checks. Silence or ERROR with this code are both conforming.
        const from = peer.mark();
        await peer.write(wire);
        await g.alive(v.name);
        await new Promise((res) => setTimeout(res, g.t.graceMs));
        const said = g.answersTo(peer, seq!, from);
        if (said.length === 0) return `silence (${v.expect})`;
        const m = said[0]!.message;
        if (m.type !== 'ERROR' || m.code !== v.expect_wire) throw new CheckFailure(`answered with ${describe(m)}; silence or ERROR ${v.expect_wire} ${v.expect} is due`);
        return `ERROR ${v.expect_wire} ${v.expect} (silence would do too)`;
      }
      await g.expectSilence(() => peer.write(wire).then(() => seq), v.name);
      if (messageTypeName(type) === 'BYE') {
        // PING is answered before registration too: only a session request shows that the device
        // still considers itself registered.
        const still = await g.registered();
        if (!still.ok) {
          await g.ensureSession().catch(() => undefined);
          throw new CheckFailure(`the device obeyed a malformed BYE: ${still.why}`);
        }
      }
      const why = v.expect.startsWith('frame.') ? `${v.expect}: the header cannot be trusted` : `a ${messageTypeName(type) ?? 'frame'} ${flags & FLAG_RSP ? 'response' : 'notification'} is never answered with ERROR`;
      return `silence (${why}), still answering`;
    });
  }
}

/**
 * Every accept vector, then the same message in its canonical bytes: the device must answer both
 * the same way (a device answers a server-bound HEARTBEAT with 114, say, but never with a
 * decoding error because of the oddity: a non-zero corr without RSP, an unknown key).
 */
export async function acceptChecks(c: RunContext): Promise<void> {
  const { g, r } = c;
  for (const v of loadAcceptVectors()) {
    await r.run(acceptCheck(v), async () => {
      const peer = g.peer;
      const frame = frameOf(Uint8Array.from(Buffer.from(v.wire_hex, 'hex')))!;
      const odd = await answerTo(c, (seq) => peer.write(restamp(frame, seq)));
      const msg = messageFromJson(v.message);
      const plain = await answerTo(c, (seq) => peer.send(msg, { seq }).then(() => undefined));
      if (v.header.flags & FLAG_RSP || !(isRequestType(v.header.type))) {
        if (odd || plain) throw new CheckFailure(`a ${msg.type} that is not a request was answered`);
        return 'accepted (no answer, as for the canonical form)';
      }
      if (!odd) throw new CheckFailure(`no answer within ${g.t.answerMs} ms; the canonical ${msg.type} gets ${plain ? describe(plain) : 'none either'}`);
      if (odd.type === 'ERROR' && odd.code >= 110 && odd.code <= 113) throw new CheckFailure(`refused with ${describe(odd)}: ${v.description.split(':')[0]} must be accepted`);
      if (!plain || plain.type !== odd.type || (odd.type === 'ERROR' && plain.type === 'ERROR' && odd.code !== plain.code)) throw new CheckFailure(`answered ${describe(odd)}, the canonical ${msg.type} ${plain ? describe(plain) : 'nothing'}`);
      return `answered ${describe(odd)}, as the canonical ${msg.type}`;
    });
  }
}

/** Send under a fresh seq; the answer (or undefined after answerMs). */
async function answerTo(c: RunContext, send: (seq: number) => Promise<void>): Promise<Message | undefined> {
  const peer = c.g.peer;
  const seq = peer.takeSeq();
  const from = peer.mark();
  await send(seq);
  return (await peer.waitAnswer(seq, c.g.t.answerMs, from))?.frame?.message;
}
