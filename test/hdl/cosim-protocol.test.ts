/**
 * Co-simulation at the protocol level: the Verilator-built edge_core, its UART
 * pins bridged to a pseudo-terminal, opened with the project's serial transport
 * (openSerial, the /dev/rfcomm0 code path) and driven through FrameLink with
 * src/protocol messages. The test plays the server: handshake with real
 * HMAC-SHA256 both ways, PING, DEPLOY of int8-fc weights (good and bad hash),
 * INFER checked against the TypeScript behavioural model, and errors.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameLink, openSerial } from '../../src/transport/index.js';
import type { Message } from '../../src/protocol/index.js';
import { tensorFrom, tensorValues } from '../../src/protocol/index.js';
import { Int8FcModel, int8FcArtifact, BASYS3_FC_DIMS } from '../../src/conformance/int8-fc-model.js';
import { missingTools, ROOT } from './hdl-project.js';
import { authMac, buildCosim, CosimProcess, FrameTap, rawWire, serverMac, SIM_DEVICE_ID, SIM_KEY, type CosimEvent } from './cosim-driver.js';
import { deviceExpectation, type InvalidVector } from './device-expectations.js';

const missing = missingTools('co-simulation', ['verilator', 'g++', 'make']);

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24);
}

interface Session {
  proc: CosimProcess;
  link: FrameLink;
  tap: FrameTap;
  notes: Message[];
  heartbeats: number;
  handshake: { challengeOk: boolean; authMacOk: boolean };
}

async function startSession(cpb: number, clksPerMs: number): Promise<Session> {
  const proc = new CosimProcess(buildCosim(cpb, clksPerMs, 'proto', 5000));
  const path = await proc.ready();
  const stream = await openSerial({ path, baudRate: 115200 });
  const link = new FrameLink(stream, { requestTimeoutMs: 5000, retries: 2 });
  const s: Session = { proc, link, tap: new FrameTap(stream), notes: [], heartbeats: 0, handshake: { challengeOk: false, authMacOk: false } };
  const nonce = randomBytes(16);
  link.on('notify', (f) => s.notes.push(f.message));
  link.on('request', async (f, reply) => {
    const m = f.message;
    if (m.type === 'HELLO') {
      s.handshake.challengeOk = m.deviceId === SIM_DEVICE_ID && m.deviceClass === 'fpga';
      await reply({ type: 'CHALLENGE', nonce, version: 1, maxFrame: 512, window: 1, keepaliveMs: 5000 });
    } else if (m.type === 'AUTH') {
      s.handshake.authMacOk =
        Buffer.from(m.serverNonce).equals(nonce) &&
        Buffer.from(authMac(SIM_KEY, nonce, m.deviceNonce, SIM_DEVICE_ID)).equals(Buffer.from(m.mac));
      await reply({
        type: 'WELCOME', sessionId: randomBytes(8), leaseMs: 60000, heartbeatMs: 5000, stateMs: 3000,
        serverMac: serverMac(SIM_KEY, m.deviceNonce, nonce, SIM_DEVICE_ID),
      });
    } else if (m.type === 'HEARTBEAT') {
      s.heartbeats++;
      await reply({ type: 'HEARTBEAT_ACK', leaseMs: 60000 });
    }
  });
  return s;
}

async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function deploy(link: FrameLink, id: number, artifact: Uint8Array, sha: Uint8Array, version: string) {
  const accept = await link.request({
    type: 'DEPLOY_OFFER', deploymentId: id, service: 'fc16', version, kind: 'int8-fc-weights',
    size: artifact.length, sha256: sha, chunkSize: 32, category: 'latency-single',
  });
  expect(accept).toMatchObject({ type: 'DEPLOY_ACCEPT', deploymentId: id, nextOffset: 0, window: 1 });
  const acks: number[] = [];
  for (let off = 0; off < artifact.length; off += 32) {
    const ack = await link.request({ type: 'DEPLOY_CHUNK', deploymentId: id, offset: off, data: artifact.subarray(off, off + 32) });
    acks.push((ack as { nextOffset: number }).nextOffset);
  }
  return { acks, result: await link.request({ type: 'DEPLOY_COMMIT', deploymentId: id }) };
}

/** Writes a raw frame, then a PING as a sync point (the device answers in order), and returns the answers to the raw frame. */
async function rawExchange(s: Session, wire: Uint8Array, seq: number | undefined) {
  const from = s.tap.frames.length;
  await s.link.stream.write(wire);
  const data = new Uint8Array([0x5a, seq === undefined ? 0 : seq & 0xff]);
  expect(await s.link.request({ type: 'PING', data })).toEqual({ type: 'PONG', data });
  return seq === undefined ? [] : s.tap.answersTo(seq, from);
}

/** A short CBOR text string head + bytes (< 256 bytes). */
function tstr(t: string): number[] {
  const b = [...Buffer.from(t)];
  return b.length < 24 ? [0x60 | b.length, ...b] : [0x78, b.length, ...b];
}

function errorCode(f: { message: Message }): number | undefined {
  return f.message.type === 'ERROR' ? f.message.code : undefined;
}

/** Cycles from the end of the host's frame to the end of the FPGA's answer to it. */
function exchangeCycles(events: CosimEvent[], fromIndex: number): number[] {
  const out: number[] = [];
  const evs = events.slice(fromIndex);
  for (let i = 0; i < evs.length; i++) {
    if (evs[i]!.kind !== 'rxf') continue;
    const rsp = evs.slice(i + 1).find((e) => e.kind === 'txf' && e.start > evs[i]!.end);
    if (rsp) out.push(rsp.end - evs[i]!.end);
  }
  return out;
}

describe.skipIf(missing.length > 0)('edge_core co-simulation over a pty (16 clocks/bit)', () => {
  let s: Session;
  const rnd = lcg(0xfeed);
  const s8 = () => rnd() - 128;
  const weights = Int8Array.from({ length: 64 }, s8);
  const bias = Int32Array.from({ length: 4 }, () => (rnd() << 4) - 2048);
  const artifact = int8FcArtifact(weights, bias);
  const model = new Int8FcModel(artifact);

  beforeAll(async () => {
    s = await startSession(16, 200);
    await until(() => s.proc.events.some((e) => e.kind === 'registered'), 'registration');
  }, 180_000);
  afterAll(async () => {
    s?.link.close();
    await s?.proc.stop();
  });

  it('authenticates with HMAC-SHA256 computed in hardware, both directions', () => {
    expect(s.handshake.challengeOk).toBe(true);
    expect(s.handshake.authMacOk).toBe(true);
    const reg = s.proc.events.find((e) => e.kind === 'registered')!;
    const frames = s.proc.events.filter((e) => e.end <= reg.end);
    // HELLO out, CHALLENGE in, AUTH out, WELCOME in, then registered
    expect(frames.filter((e) => e.kind === 'rxf').length).toBeGreaterThanOrEqual(2);
    console.log(`[cosim] registered at cycle ${reg.end}`);
  });

  it('answers PING with PONG echoing data that contains zeros', async () => {
    const data = new Uint8Array([0, 1, 0, 0, 255, 7, 0]);
    expect(await s.link.request({ type: 'PING', data })).toEqual({ type: 'PONG', data });
    expect(await s.link.request({ type: 'PING' })).toEqual({ type: 'PONG' });
  });

  it('refuses what it does not handle with a typed ERROR', async () => {
    await expect(s.link.request({ type: 'PLACEMENT', planVersion: 1, ops: [] })).rejects.toMatchObject({ code: 'not_supported' });
    const x = tensorFrom('x', new Int8Array(16), [16]);
    await expect(
      s.link.request({ type: 'INFER_REQUEST', requestId: 1, service: 'fc16', inputs: [x] }),
    ).rejects.toMatchObject({ code: 'infer.unknown_service' });
    await expect(
      s.link.request({ type: 'DEPLOY_OFFER', deploymentId: 1, service: 'm', version: '1', kind: 'onnx', size: 80, sha256: new Uint8Array(32), chunkSize: 32, category: 'latency-single' }),
    ).rejects.toMatchObject({ code: 'deploy.unsupported_kind' });
    await expect(s.link.request({ type: 'DEPLOY_CHUNK', deploymentId: 99, offset: 0, data: new Uint8Array(4) })).rejects.toMatchObject({ code: 'deploy.unknown' });
  });

  it('deploys int8-fc weights, SHA-256 checked in hardware, and rejects a bad hash without touching the active weights', async () => {
    const sha = createHash('sha256').update(artifact).digest();
    const good = await deploy(s.link, 7, artifact, sha, 'v1');
    expect(good.acks).toEqual([32, 64, 80]);
    expect(good.result).toEqual({ type: 'DEPLOY_RESULT', deploymentId: 7, state: 'ready', activeVersion: 'v1' });

    // an out-of-order chunk is dropped and the ack repeats nextOffset (go-back-N)
    const other = int8FcArtifact(Int8Array.from({ length: 64 }, s8), new Int32Array(4));
    const wrongSha = createHash('sha256').update(other).digest();
    wrongSha[0]! ^= 1;
    await s.link.request({ type: 'DEPLOY_OFFER', deploymentId: 8, service: 'fc16', version: 'v2', kind: 'int8-fc-weights', size: 80, sha256: wrongSha, chunkSize: 32, category: 'latency-single' });
    const ooo = await s.link.request({ type: 'DEPLOY_CHUNK', deploymentId: 8, offset: 32, data: other.subarray(32, 64) });
    expect(ooo).toMatchObject({ type: 'DEPLOY_CHUNK_ACK', nextOffset: 0 });
    const early = await s.link.request({ type: 'DEPLOY_COMMIT', deploymentId: 8 });
    expect(early).toMatchObject({ type: 'DEPLOY_RESULT', state: 'failed', code: 401 });
    const bad = await deploy(s.link, 8, other, wrongSha, 'v2');
    expect(bad.result).toMatchObject({ type: 'DEPLOY_RESULT', deploymentId: 8, state: 'failed', code: 400 });
  });

  it('runs INFER_REQUEST on the int8-fc kernel bit-identically to the TypeScript model', async () => {
    const latencies: number[] = [];
    for (let k = 0; k < 12; k++) {
      const x = Int8Array.from({ length: BASYS3_FC_DIMS.inputs }, s8);
      if (k === 0) x.fill(127);
      if (k === 1) x.fill(-128);
      const before = s.proc.events.length;
      const rsp = await s.link.request({ type: 'INFER_REQUEST', requestId: 1000 + k, service: 'fc16', inputs: [tensorFrom('x', x, [16])] });
      const want = model.infer(x);
      expect(rsp.type).toBe('INFER_RESPONSE');
      if (rsp.type !== 'INFER_RESPONSE') return;
      expect(rsp.requestId).toBe(1000 + k);
      const scores = rsp.outputs.find((t) => t.name === 'scores')!;
      const cls = rsp.outputs.find((t) => t.name === 'class')!;
      expect(scores.dtype).toBe('int32');
      expect(Array.from(tensorValues(scores) as Int32Array)).toEqual(Array.from(want.scores));
      expect(Array.from(tensorValues(cls) as Uint8Array)).toEqual([want.classIndex]);
      await until(() => exchangeCycles(s.proc.events, before).length > 0, 'cycle events');
      latencies.push(exchangeCycles(s.proc.events, before)[0]!);
    }
    console.log(`[cosim] INFER request-end -> response-end at 16 clocks/bit: ${Math.min(...latencies)}..${Math.max(...latencies)} cycles`);
    // wrong input width is a typed error
    await expect(
      s.link.request({ type: 'INFER_REQUEST', requestId: 5, service: 'fc16', inputs: [tensorFrom('x', new Int8Array(8), [8])] }),
    ).rejects.toMatchObject({ code: 'infer.bad_input' });
    await expect(
      s.link.request({ type: 'INFER_REQUEST', requestId: 5, service: 'other', inputs: [tensorFrom('x', new Int8Array(16), [16])] }),
    ).rejects.toMatchObject({ code: 'infer.unknown_service' });
  });

  it('checks each INFER tensor\'s shape against its data length (SPEC §4.1): msg.schema before the service is looked up', async () => {
    // {0: 77, 1: "fc16", 2: [{0: "x", 1: shape, 2: 72(h'00..')}]}, written by hand: the codec refuses to build these
    const infer = (shape: number[], n: number, tag = 0x48) =>
      Uint8Array.from([0xa3, 0x00, 0x18, 77, 0x01, 0x64, ...Buffer.from('fc16'), 0x02, 0x81,
        0xa3, 0x00, 0x61, 0x78, 0x01, 0x80 | shape.length, ...shape.flatMap((d) => (d < 24 ? [d] : [0x18, d])),
        0x02, ...(tag >= 0 ? [0xd8, tag] : []), 0x40 | n, ...new Array<number>(n).fill(3)]);
    const cases: Array<[string, Uint8Array, number | 'ok']> = [
      ['int8 [5] with 16 bytes', infer([5], 16), 113],
      ['int8 [4, 4] with 16 bytes', infer([4, 4], 16), 'ok'],
      ['int8 [4, 5] with 16 bytes', infer([4, 5], 16), 113],
      ['int8 [2, 0, 8] with 16 bytes', infer([2, 0, 8], 16), 113],
      ['int8 [16] untagged', infer([16], 16, -1), 113],
      ['int16 [8] with 16 bytes (valid tensor, wrong dtype for the kernel)', infer([8], 16, 0x4d), 502],
      ['int16 [16] with 16 bytes', infer([16], 16, 0x4d), 113],
      ['int8 [200] with 16 bytes (product past one byte)', infer([200], 16), 113],
    ];
    const got: string[] = [];
    for (const [i, [what, body]] of cases.entries()) {
      const seq = 0xe000 + i;
      const answers = await rawExchange(s, rawWire(0x30, seq, body), seq);
      expect(answers.length, what).toBe(1);
      got.push(`${what}: ${answers[0]!.message.type === 'ERROR' ? errorCode(answers[0]!) : 'ok'}`);
    }
    expect(got).toEqual(cases.map(([what, , want]) => `${what}: ${want}`));
  });

  it('checks text strings as UTF-8 (RFC 3629): overlong forms, surrogates, stray and missing continuation bytes are msg.cbor', async () => {
    // INFER_REQUEST {0: 9, 1: service, 2: []}: a well-formed unknown name is infer.unknown_service (or 113 for the empty inputs)
    const infer = (name: number[]) => Uint8Array.from([0xa3, 0x00, 0x09, 0x01, 0x60 | name.length, ...name, 0x02, 0x80]);
    const cases: Array<[string, number[], number]> = [
      ['ASCII', [0x61, 0x62], 113],
      ['2-byte é', [0xc3, 0xa9], 113],
      ['3-byte €', [0xe2, 0x82, 0xac], 113],
      ['4-byte U+1F600', [0xf0, 0x9f, 0x98, 0x80], 113],
      ['U+10FFFF', [0xf4, 0x8f, 0xbf, 0xbf], 113],
      ['overlong NUL c0 80', [0xc0, 0x80], 111],
      ['overlong e0 80 80', [0xe0, 0x80, 0x80], 111],
      ['surrogate ed a0 80', [0xed, 0xa0, 0x80], 111],
      ['past U+10FFFF f4 90 80 80', [0xf4, 0x90, 0x80, 0x80], 111],
      ['stray continuation 80', [0x61, 0x80], 111],
      ['truncated e2 82', [0x61, 0xe2, 0x82], 111],
      ['ff', [0xff], 111],
    ];
    const got: string[] = [];
    for (const [i, [what, name]] of cases.entries()) {
      const seq = 0xe300 + i;
      const answers = await rawExchange(s, rawWire(0x30, seq, infer(name)), seq);
      got.push(`${what}: ${answers.map(errorCode).join(',')}`);
    }
    expect(got).toEqual(cases.map(([what, , want]) => `${what}: ${want}`));
  });

  it('orders body errors as SPEC 1.1 §4 does: malformed anywhere (111) over outside the subset (112) over schema (113)', async () => {
    const HB = 0x08, PING = 0x06;
    const h = (x: string) => [...Buffer.from(x.replace(/ /g, ''), 'hex')];
    const cases: Array<[string, number, number[], number | 'PONG']> = [
      ['non-shortest, then a trailing byte', HB, h('a1 00 1805 00'), 111],
      ['non-shortest alone', HB, h('a1 00 1805'), 112],
      ['indefinite map with its break', HB, h('bf 00 01 ff'), 112],
      ['indefinite map without a break', HB, h('bf 00 01'), 111],
      ['indefinite map broken after a key', HB, h('a1 00 bf 01 ff'), 111],
      ['indefinite array, break, well-formed', HB, h('a1 00 9f 01 02 ff'), 112],
      ['indefinite array, no break', HB, h('a1 00 9f 01 02'), 111],
      ['indefinite byte string of byte chunks', PING, h('a1 00 5f 41 78 40 ff'), 112],
      ['indefinite byte string with a text chunk', HB, h('a1 00 5f 61 78 ff'), 111],
      ['indefinite text string of valid chunks', HB, h('a1 00 7f 61 61 62 c3a9 ff'), 112],
      ['indefinite text string, a chunk of bad UTF-8', HB, h('a1 00 7f 61 61 61 ff ff'), 111],
      ['a float, then invalid UTF-8', HB, h('a2 00 f93c00 01 62 ff41'), 111],
      ['a float alone', HB, h('a1 00 f93c00'), 112],
      ['a 1-byte simple value below 32', HB, h('a1 00 f810'), 111],
      ['a 1-byte simple value 32', HB, h('a1 00 f820'), 112],
      ['AI 31 on a uint', HB, h('a1 00 1f'), 111],
      ['AI 31 on a negative int', HB, h('a1 00 3f'), 111],
      ['AI 31 on a tag', HB, h('a1 00 df 01'), 111],
      ['nine nested arrays under an unknown key', HB, h('a2 00 01 01' + '81'.repeat(9) + '00'), 112],
      ['eleven nested arrays that never close', HB, h('a1 01' + '81'.repeat(11)), 111],
      ['a text key, then a complete pair', HB, h('a2 00 00 6175 01'), 112],
      ['a text key, then a key without its value', HB, h('a2 6175 01 00'), 111],
      ['tag 1 under an unknown key', HB, h('a2 00 01 05 c1 01'), 112],
      ['a typed array under an unknown key (accepted; HEARTBEAT is not for a device)', HB, h('a2 00 05 05 d840 41aa'), 114],
      ['a typed array under an unknown PING key (accepted)', PING, h('a1 05 d840 41aa'), 'PONG'],
      ['a typed array as PING data', PING, h('a1 00 d840 41aa'), 113],
      ['a float32 typed array of 7 bytes', PING, h('a1 05 d855 47 00000000000000'), 112],
      ['typed array on a uint', PING, h('a1 05 d840 01'), 112],
    ];
    const got: string[] = [];
    for (const [i, [what, type, body]] of cases.entries()) {
      const seq = 0xe400 + i;
      const answers = await rawExchange(s, rawWire(type, seq, Uint8Array.from(body)), seq);
      got.push(`${what}: ${answers.map((f) => errorCode(f) ?? f.message.type).join(',')}`);
    }
    expect(got).toEqual(cases.map(([what, , , want]) => `${what}: ${want}`));
  });

  it('checks SPEC 1.1 text limits: INFER service 1..64 and tensor names up to 128 bytes (113); a DEPLOY_OFFER service the FPGA cannot hold is deploy.no_space', async () => {
    const inferBody = (service: string, name: string) =>
      Uint8Array.from([0xa3, 0x00, 0x09, 0x01, ...tstr(service), 0x02, 0x81, 0xa3, 0x00, ...tstr(name), 0x01, 0x81, 0x10, 0x02, 0xd8, 0x48, 0x50, ...new Array<number>(16).fill(1)]);
    const a = await rawExchange(s, rawWire(0x30, 0xe500, inferBody('s'.repeat(65), 'x')), 0xe500);
    const b = await rawExchange(s, rawWire(0x30, 0xe501, inferBody('s'.repeat(64), 'x')), 0xe501);
    const c = await rawExchange(s, rawWire(0x30, 0xe502, inferBody('fc16', 'n'.repeat(129))), 0xe502);
    const d = await rawExchange(s, rawWire(0x30, 0xe503, inferBody('fc16', 'n'.repeat(128))), 0xe503);
    expect([a, b, c, d].map((x) => x.map((f) => errorCode(f) ?? f.message.type).join(','))).toEqual(['113', '500', '113', 'INFER_RESPONSE']);
    await expect(s.link.request({ type: 'DEPLOY_OFFER', deploymentId: 31, service: 's'.repeat(40), version: '1', kind: 'int8-fc-weights', size: 80, sha256: new Uint8Array(32), chunkSize: 32, category: 'latency-single' })).rejects.toMatchObject({ code: 'deploy.no_space' });
    // a 65-byte service, written by hand (the codec refuses to encode it)
    const offer65 = Uint8Array.from([0xa8, 0x00, 0x18, 32, 0x01, ...tstr('s'.repeat(65)), 0x02, ...tstr('1'), 0x03, 0x01, 0x04, 0x18, 80,
      0x05, 0x58, 32, ...new Array<number>(32).fill(0), 0x06, 0x18, 32, 0x07, 0x00]);
    expect((await rawExchange(s, rawWire(0x20, 0xe504, offer65), 0xe504)).map(errorCode)).toEqual([113]);
    // an empty version is allowed in 1.1 (the offer is accepted; nothing is committed here)
    expect(await s.link.request({ type: 'DEPLOY_OFFER', deploymentId: 33, service: 'fc16', version: '', kind: 'int8-fc-weights', size: 80, sha256: new Uint8Array(32), chunkSize: 32, category: 'latency-single' })).toMatchObject({ type: 'DEPLOY_ACCEPT', deploymentId: 33 });
  });

  it('answers every invalid golden vector (protocol/vectors/invalid.json) with the code it expects, or not at all', async () => {
    const vectors = (JSON.parse(readFileSync(join(ROOT, 'protocol', 'vectors', 'invalid.json'), 'utf8')) as { vectors: InvalidVector[] }).vectors;
    const rows: string[] = [];
    const wrong: string[] = [];
    let checked = 0;
    for (const v of vectors) {
      // the device's maxFrame is 512: a vector written for a smaller receiver says nothing about it
      if (v.max_frame !== 512) {
        rows.push(`${v.name.padEnd(28)} n/a (vector for max_frame ${v.max_frame}; the device's is 512)`);
        continue;
      }
      const want = deviceExpectation(v);
      const unregBefore = s.proc.events.filter((e) => e.kind === 'unregistered').length;
      const answers = await rawExchange(s, Buffer.from(v.wire_hex, 'hex'), want.seq);
      const got = answers.map((f) => errorCode(f) ?? f.message.type);
      const ok = want.code === undefined ? got.length === 0 : got.length === 1 && got[0] === want.code;
      // nothing malformed may be obeyed either: a BYE that was acted on shows as an unregistration
      const obeyed = s.proc.events.filter((e) => e.kind === 'unregistered').length !== unregBefore;
      rows.push(`${v.name.padEnd(28)} want ${String(want.code ?? 'silence').padEnd(7)} got ${got.length ? got.join(',') : 'silence'}${obeyed ? ' OBEYED' : ''}  (${want.why})`);
      if (!ok || obeyed) wrong.push(v.name);
      checked++;
    }
    console.log(`[cosim] invalid.json at the device:\n  ${rows.join('\n  ')}`);
    expect(checked).toBeGreaterThan(40);
    expect(wrong).toEqual([]);
    // an oversize frame at the device's own maxFrame: a PING holding 600 bytes is never answered
    const big = Uint8Array.from([0xa1, 0x00, 0x59, 0x02, 0x58, ...new Array<number>(600).fill(0x11)]);
    expect(await rawExchange(s, rawWire(0x06, 0xe100, big), 0xe100)).toEqual([]);
  });

  it('survives the invalid stream back to back (protocol/vectors/invalid-wire.hex): frame errors counted, next frame answered', async () => {
    const lines = readFileSync(join(ROOT, 'protocol', 'vectors', 'invalid-wire.hex'), 'utf8').split('\n');
    const frameLevel = lines.filter((l) => /^\/\/ .*: frame\./.test(l)).length;
    const bytes = Uint8Array.from(lines.filter((l) => /^[0-9a-f]{2}$/i.test(l.trim())).map((l) => parseInt(l, 16)));
    expect(frameLevel).toBeGreaterThan(5);
    const latestBad = () => {
      const st = [...s.notes].reverse().find((m) => m.type === 'STATE');
      return st && st.type === 'STATE' ? st.frames!.badCrc : -1;
    };
    const seen = s.notes.length;
    await until(() => s.notes.slice(seen).some((m) => m.type === 'STATE'), 'a STATE before');
    const before = latestBad();
    await s.link.stream.write(bytes);
    const data = new Uint8Array([9, 0, 9]);
    expect(await s.link.request({ type: 'PING', data })).toEqual({ type: 'PONG', data });
    const mark = s.notes.length;
    await until(() => s.notes.slice(mark).some((m) => m.type === 'STATE'), 'a STATE after');
    console.log(`[cosim] invalid-wire.hex: ${bytes.length} bytes, ${frameLevel} frame-level errors expected; bad-frame counter ${before} -> ${latestBad()}`);
    expect(latestBad() - before).toBeGreaterThanOrEqual(frameLevel);
  });

  it('reports STATE with the loaded service and frame counters, and sends heartbeats', async () => {
    await until(() => s.notes.some((m) => m.type === 'STATE' && m.services.length === 1), 'STATE with a service');
    const st = [...s.notes].reverse().find((m) => m.type === 'STATE' && m.services.length === 1)!;
    expect(st).toMatchObject({ type: 'STATE', services: [{ name: 'fc16', version: 'v1', status: 'ready' }] });
    if (st.type === 'STATE') expect(st.frames!.good).toBeGreaterThan(10);
    // keepaliveMs 5000 at 200 clocks/ms is 1 M cycles: about half a second of idle simulation
    await until(() => s.heartbeats > 0, 'a HEARTBEAT');
    expect(s.heartbeats).toBeGreaterThan(0);
  });

  it('reports STATE served as the inferences since the last STATE, not a running total (SPEC §5.8)', async () => {
    const served = (m: Message) => (m.type === 'STATE' && m.services[0] ? m.services[0].served : undefined);
    let mark = s.notes.length;
    await until(() => s.notes.slice(mark).some((m) => m.type === 'STATE'), 'a STATE');
    mark = s.notes.length;
    const x = tensorFrom('x', new Int8Array(16).fill(1), [16]);
    for (let k = 0; k < 5; k++) await s.link.request({ type: 'INFER_REQUEST', requestId: 2000 + k, service: 'fc16', inputs: [x] });
    const after = s.notes.length;
    // the five may straddle a STATE: what the STATEs after the mark report adds up to five
    await until(() => s.notes.slice(after).some((m) => m.type === 'STATE'), 'a STATE after the inferences');
    const since = s.notes.slice(mark).filter((m) => m.type === 'STATE').map(served);
    expect(since.reduce((a: number, b) => a + (b ?? 0), 0)).toBe(5);
    // and with nothing served since, the next STATE says 0
    const quiet = s.notes.length;
    await until(() => s.notes.slice(quiet).some((m) => m.type === 'STATE'), 'a quiet STATE');
    expect(served(s.notes.slice(quiet).find((m) => m.type === 'STATE')!)).toBe(0);
  });

  it('obeys a well-formed BYE (and registers again), after refusing the malformed ones above', async () => {
    const count = (kind: string) => s.proc.events.filter((e) => e.kind === kind).length;
    const before = count('registered');
    const left = count('unregistered');
    await s.link.stream.write(rawWire(0x05, 0xe200, Uint8Array.from([0xa1, 0x00, 0x00])));
    await until(() => count('unregistered') > left, 'the device leaving');
    await until(() => count('registered') > before, 'registration again');
  });
});

describe.skipIf(missing.length > 0)('edge_core refuses a CHALLENGE version outside its range (SPEC §8 rule 4)', () => {
  it('answers version 2 with BYE 121 and no AUTH, then registers when the next CHALLENGE says 1', async () => {
    const proc = new CosimProcess(buildCosim(16, 200, 'proto', 5000));
    try {
      const stream = await openSerial({ path: await proc.ready(), baudRate: 115200 });
      const link = new FrameLink(stream, { requestTimeoutMs: 5000, retries: 2 });
      const seen: string[] = [];
      let hellos = 0;
      link.on('notify', (f) => {
        if (f.message.type === 'BYE') seen.push(`BYE ${f.message.code}`);
      });
      link.on('request', async (f, reply) => {
        const m = f.message;
        seen.push(m.type);
        if (m.type === 'HELLO') {
          hellos++;
          await reply({ type: 'CHALLENGE', nonce: randomBytes(16), version: hellos === 1 ? 2 : 1, maxFrame: 512, window: 1, keepaliveMs: 5000 });
        } else if (m.type === 'AUTH') {
          await reply({ type: 'WELCOME', sessionId: randomBytes(8), leaseMs: 60000, heartbeatMs: 5000, stateMs: 3000, serverMac: serverMac(SIM_KEY, m.deviceNonce, Buffer.from(m.serverNonce), SIM_DEVICE_ID) });
        }
      });
      await until(() => proc.events.some((e) => e.kind === 'registered'), 'registration after the retry');
      expect(seen.slice(0, 4)).toEqual(['HELLO', 'BYE 121', 'HELLO', 'AUTH']);
      link.close();
    } finally {
      await proc.stop();
    }
  }, 120_000);
});
