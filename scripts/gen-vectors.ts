/**
 * Generates protocol/vectors/*.json and *.hex from the codec. The committed files are the source of
 * truth: test/protocol/vectors-*.test.ts checks the codec reproduces every valid vector
 * byte-for-byte and rejects every invalid one with its code. Re-run only when adding vectors:
 *   npx tsx scripts/gen-vectors.ts
 * Everything here is deterministic (fixed byte patterns, no randomness, no clock).
 */
import { writeFileSync } from 'node:fs';
import type { InvalidVector } from '../src/conformance/checks/vectors.js';
import { join } from 'node:path';
import {
  FLAG_RSP,
  FLAG_RTX,
  FrameDecoder,
  MessageType,
  ProtocolError,
  buildFrame,
  cobsEncode,
  crc32c,
  encodeFrame,
  encodeMessage,
  messageToJson,
  tensorFrom,
  toHex,
  type Frame,
  type Message,
} from '../src/protocol/index.js';

const OUT = join(import.meta.dirname, '..', 'protocol', 'vectors');

function pattern(n: number, start: number, step = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (start + i * step) & 0xff;
  return b;
}

interface ValidSpec {
  name: string;
  msg: Message;
  seq: number;
  corr?: number;
  rsp?: boolean;
  rtx?: boolean;
}

const sha = pattern(32, 0xa0);
const valid: ValidSpec[] = [
  {
    name: 'hello-fpga-minimal',
    seq: 0,
    msg: {
      type: 'HELLO',
      deviceId: 'basys3-01',
      deviceClass: 'fpga',
      proto: [1, 1],
      firmware: 'hdl-1.0',
      caps: { cpuCores: 0, memoryKiB: 36, computeMops: 100 },
      maxFrame: 256,
      rxWindow: 1,
    },
  },
  {
    name: 'hello-jetson-full',
    seq: 1,
    msg: {
      type: 'HELLO',
      deviceId: 'jetson-nano.lab_2',
      deviceClass: 'embedded-gpu',
      proto: [1, 2],
      firmware: 'epara-sdk 0.1.0',
      caps: {
        cpuCores: 4,
        memoryKiB: 4_194_304,
        gpuCount: 1,
        gpuMemoryKiB: 4_194_304,
        accelerators: ['cuda'],
        computeMops: 472_000,
        runtimes: ['onnx'],
        formats: ['onnx', 'blob'],
        transports: ['tcp', 'tls'],
      },
      maxFrame: 16384,
      rxWindow: 8,
      keepaliveMs: 5000,
      resume: pattern(8, 0x11, 0x11),
    },
  },
  { name: 'challenge', seq: 0, rsp: true, corr: 0, msg: { type: 'CHALLENGE', nonce: pattern(16, 0x00), version: 1, maxFrame: 256, window: 1, keepaliveMs: 10000 } },
  { name: 'auth', seq: 1, msg: { type: 'AUTH', serverNonce: pattern(16, 0x00), deviceNonce: pattern(16, 0x10), mac: pattern(32, 0x20) } },
  {
    name: 'welcome-resumed',
    seq: 1,
    rsp: true,
    corr: 1,
    msg: { type: 'WELCOME', sessionId: pattern(8, 0x11, 0x11), leaseMs: 60000, heartbeatMs: 10000, stateMs: 3000, serverMac: pattern(32, 0x40), resumed: true },
  },
  { name: 'welcome', seq: 1, rsp: true, corr: 1, msg: { type: 'WELCOME', sessionId: pattern(8, 0xf0), leaseMs: 60000, heartbeatMs: 10000, stateMs: 3000, serverMac: pattern(32, 0x40) } },
  { name: 'bye-normal', seq: 40, msg: { type: 'BYE', code: 0, reason: 'shutting down' } },
  { name: 'bye-empty', seq: 41, msg: { type: 'BYE' } },
  { name: 'ping-empty', seq: 7, msg: { type: 'PING' } },
  { name: 'ping-data', seq: 8, msg: { type: 'PING', data: pattern(4, 0xde, 0x11) } },
  { name: 'pong-data', seq: 9, rsp: true, corr: 8, msg: { type: 'PONG', data: pattern(4, 0xde, 0x11) } },
  { name: 'heartbeat', seq: 2, msg: { type: 'HEARTBEAT', uptimeMs: 123456 } },
  { name: 'heartbeat-rtx', seq: 2, rtx: true, msg: { type: 'HEARTBEAT', uptimeMs: 123456 } },
  { name: 'heartbeat-seq-wrap', seq: 65535, msg: { type: 'HEARTBEAT', uptimeMs: 0 } },
  { name: 'heartbeat-large-uptime', seq: 3, msg: { type: 'HEARTBEAT', uptimeMs: 2 ** 40 } },
  { name: 'heartbeat-ack', seq: 5, rsp: true, corr: 2, msg: { type: 'HEARTBEAT_ACK', leaseMs: 60000 } },
  {
    name: 'state-fpga',
    seq: 10,
    msg: {
      type: 'STATE',
      loadPermille: 250,
      memFreeKiB: 12,
      services: [{ name: 'mnist-fc', version: '3', status: 'ready', queueLen: 0, served: 42, violations: 0 }],
      frames: { good: 1000, badCrc: 2, oversize: 0 },
      uptimeMs: 3_600_000,
    },
  },
  {
    name: 'state-gpu-full',
    seq: 11,
    msg: {
      type: 'STATE',
      loadPermille: 730,
      memFreeKiB: 20_971_520,
      gpuPermille: 1000,
      services: [
        { name: 'resnet50', version: '1.2.0', status: 'ready', queueLen: 12, served: 950, violations: 3, batch: 8 },
        { name: 'yolo', version: '8.0.1', status: 'loading', queueLen: 0, served: 0, violations: 0 },
      ],
      temperatureDeciC: -105,
      powerMw: 250000,
      link: { rssiDbm: -67, rxErrors: 1, txRetries: 4 },
      uptimeMs: 86_400_000,
    },
  },
  { name: 'state-no-services', seq: 12, msg: { type: 'STATE', loadPermille: 0, memFreeKiB: 0, services: [], uptimeMs: 1 } },
  {
    name: 'error-response',
    seq: 3,
    rsp: true,
    corr: 1,
    msg: { type: 'ERROR', code: 200, reason: 'AUTH MAC does not verify', hint: 're-provision the device', field: 'mac' },
  },
  { name: 'error-notify', seq: 4, msg: { type: 'ERROR', code: 100, reason: 'frame CRC-32C does not match' } },
  {
    name: 'placement',
    seq: 20,
    msg: {
      type: 'PLACEMENT',
      planVersion: 17,
      ops: [
        { action: 'load', service: 'resnet50', version: '1.2.0', settings: { batch: 8, replicas: 2, parallelDegree: 1, stage: 0, maxQueue: 64 } },
        { action: 'unload', service: 'old-model' },
        { action: 'configure', service: 'yolo', settings: { batch: 4 } },
      ],
    },
  },
  { name: 'placement-ack', seq: 21, rsp: true, corr: 20, msg: { type: 'PLACEMENT_ACK', planVersion: 17, results: [{ service: 'resnet50', code: 0 }, { service: 'old-model', code: 601 }] } },
  {
    name: 'deploy-offer-onnx',
    seq: 30,
    msg: {
      type: 'DEPLOY_OFFER',
      deploymentId: 1001,
      service: 'mlp',
      version: '1.0.0',
      kind: 'onnx',
      size: 3134,
      sha256: sha,
      chunkSize: 1024,
      category: 'latency-single',
      meta: { inputNames: ['input'], outputNames: ['logits'], inputShape: [1, 64], outputShape: [1, 10] },
    },
  },
  {
    name: 'deploy-offer-fpga',
    seq: 31,
    msg: { type: 'DEPLOY_OFFER', deploymentId: 7, service: 'mnist-fc', version: '3', kind: 'int8-fc-weights', size: 7850, sha256: sha, chunkSize: 128, category: 'frequency-single' },
  },
  { name: 'deploy-accept-resume', seq: 32, rsp: true, corr: 30, msg: { type: 'DEPLOY_ACCEPT', deploymentId: 1001, nextOffset: 2048, window: 4 } },
  { name: 'deploy-chunk-16', seq: 33, msg: { type: 'DEPLOY_CHUNK', deploymentId: 1001, offset: 2048, data: pattern(16, 0) } },
  { name: 'deploy-chunk-256-with-zeros', seq: 34, msg: { type: 'DEPLOY_CHUNK', deploymentId: 7, offset: 0, data: pattern(256, 0) } },
  { name: 'deploy-chunk-ack', seq: 35, rsp: true, corr: 33, msg: { type: 'DEPLOY_CHUNK_ACK', deploymentId: 1001, nextOffset: 2064 } },
  { name: 'deploy-commit', seq: 36, msg: { type: 'DEPLOY_COMMIT', deploymentId: 1001 } },
  { name: 'deploy-result-ready', seq: 37, rsp: true, corr: 36, msg: { type: 'DEPLOY_RESULT', deploymentId: 1001, state: 'ready', activeVersion: '1.0.0' } },
  { name: 'deploy-result-failed-notify', seq: 38, msg: { type: 'DEPLOY_RESULT', deploymentId: 1001, state: 'rolled-back', code: 405, activeVersion: '0.9.0' } },
  {
    name: 'infer-request-int8',
    seq: 50,
    msg: { type: 'INFER_REQUEST', requestId: 1, service: 'mnist-fc', inputs: [tensorFrom('x', new Int8Array([-128, -1, 0, 1, 127, 5, 6, 7]), [1, 8])], deadlineUs: 50000 },
  },
  {
    name: 'infer-request-all-dtypes',
    seq: 51,
    msg: {
      type: 'INFER_REQUEST',
      requestId: 0xffffffff,
      service: 'echo',
      inputs: [
        tensorFrom('u8', new Uint8Array([0, 255])),
        tensorFrom('i8', new Int8Array([-1])),
        tensorFrom('u16', new Uint16Array([1, 0xffff])),
        tensorFrom('i16', new Int16Array([-2])),
        tensorFrom('u32', new Uint32Array([0xdeadbeef])),
        tensorFrom('i32', new Int32Array([-3, 3])),
        tensorFrom('i64', new BigInt64Array([-4n])),
        tensorFrom('f32', new Float32Array([1.5, -0.25]), [2, 1]),
        tensorFrom('f64', new Float64Array([Math.PI])),
        tensorFrom('empty', new Float32Array([]), [0, 3]),
      ],
      flowId: 9,
    },
  },
  {
    name: 'infer-response',
    seq: 52,
    rsp: true,
    corr: 50,
    msg: { type: 'INFER_RESPONSE', requestId: 1, outputs: [tensorFrom('y', new Int32Array([10, -20, 30]), [1, 3])], queueUs: 120, computeUs: 830 },
  },
  { name: 'infer-response-empty', seq: 53, rsp: true, corr: 51, msg: { type: 'INFER_RESPONSE', requestId: 2, outputs: [] } },
  { name: 'infer-cancel', seq: 54, msg: { type: 'INFER_CANCEL', requestId: 1 } },
  // spec 1.1 additions (appended so earlier records keep their place in the .hex files)
  {
    name: 'infer-request-scalar',
    seq: 55,
    msg: { type: 'INFER_REQUEST', requestId: 3, service: 'scale', inputs: [tensorFrom('k', new Float32Array([2.5]), [])] },
  },
];

const hex = toHex;
function wireOf(frame: Uint8Array): Uint8Array {
  const c = cobsEncode(frame);
  const w = new Uint8Array(c.length + 1);
  w.set(c);
  return w;
}

const validOut = valid.map((v) => {
  const wire = encodeFrame(v.msg, { seq: v.seq, corr: v.corr, rsp: v.rsp, rtx: v.rtx, maxFrame: 65535 });
  const body = encodeMessage(v.msg);
  const flags = (v.rsp ? FLAG_RSP : 0) | (v.rtx ? FLAG_RTX : 0);
  const type = MessageType[v.msg.type];
  const frame = buildFrame(type, flags, v.seq, v.corr ?? 0, body);
  if (hex(wireOf(frame)) !== hex(wire)) throw new Error(`inconsistent framing for ${v.name}`);
  return {
    name: v.name,
    type: v.msg.type,
    header: { version: 1, type, flags, seq: v.seq, corr: v.corr ?? 0 },
    message: messageToJson(v.msg),
    body_hex: hex(body),
    frame_hex: hex(frame),
    wire_hex: hex(wire),
  };
});

for (const name of Object.keys(MessageType)) {
  if (!validOut.some((v) => v.type === name)) throw new Error(`no valid vector for ${name}`);
}

// ---------------------------------------------------------------------------------------------
// invalid vectors

const WIRE: Record<string, number> = {
  'frame.crc': 100,
  'frame.cobs': 101,
  'frame.oversize': 102,
  'frame.truncated': 103,
  'frame.header': 104,
  'frame.version': 105,
  'msg.unknown_type': 110,
  'msg.cbor': 111,
  'msg.non_deterministic': 112,
  'msg.schema': 113,
};

const invalid: InvalidVector[] = [];
function bad(name: string, description: string, wire: Uint8Array, expect: string, field?: string, maxFrame = 512): void {
  invalid.push({ name, description, max_frame: maxFrame, wire_hex: hex(wire), expect, expect_wire: WIRE[expect]!, ...(field ? { field } : {}) });
}
function withBody(type: number, bodyHex: string, flags = 0): Uint8Array {
  return wireOf(buildFrame(type, flags, 1, 0, new Uint8Array(Buffer.from(bodyHex, 'hex'))));
}

const hbBody = encodeMessage({ type: 'HEARTBEAT', uptimeMs: 123456 });
const hbFrame = buildFrame(MessageType.HEARTBEAT, 0, 2, 0, hbBody);

{
  const f = hbFrame.slice();
  f[f.length - 1]! ^= 0x80;
  bad('crc-bit-flip-in-crc', 'HEARTBEAT with the top bit of the CRC flipped', wireOf(f), 'frame.crc');
  const g = hbFrame.slice();
  g[10]! ^= 0x01;
  bad('crc-bit-flip-in-body', 'HEARTBEAT with one body bit flipped (CRC unchanged)', wireOf(g), 'frame.crc');
  const h = hbFrame.slice();
  h[3]! ^= 0x40;
  bad('crc-bit-flip-in-header', 'HEARTBEAT with one seq bit flipped (CRC unchanged)', wireOf(h), 'frame.crc');
}
{
  const w = wireOf(hbFrame);
  // Drop the last two COBS bytes before the delimiter: the final code byte now points past the end.
  const t = new Uint8Array([...w.subarray(0, w.length - 3), 0]);
  bad('cobs-truncated', 'HEARTBEAT wire bytes with the last 2 bytes before the delimiter missing', t, 'frame.cobs');
  bad('cobs-code-past-end', 'a lone code byte 0x05 promising 4 bytes that never come', new Uint8Array([0x05, 0x01, 0x02, 0x00]), 'frame.cobs');
}
bad('frame-truncated', 'a 12-byte frame (the minimum is 13)', wireOf(hbFrame.subarray(0, 12)), 'frame.truncated');
bad('frame-truncated-one-byte', 'a single byte between delimiters', new Uint8Array([0x02, 0x41, 0x00]), 'frame.truncated');
{
  const big = encodeFrame({ type: 'DEPLOY_CHUNK', deploymentId: 1, offset: 0, data: pattern(100, 1) }, { seq: 1, maxFrame: 65535 });
  bad('oversize-frame', 'a 122-byte DEPLOY_CHUNK frame sent to a receiver with max_frame 64', big, 'frame.oversize', undefined, 64);
  const noise = new Uint8Array(300).fill(0x55);
  bad('oversize-no-delimiter', '300 bytes without a delimiter at max_frame 64: discarded without buffering', new Uint8Array([...noise, 0]), 'frame.oversize', undefined, 64);
}
{
  const f = buildFrame(0x0c, 0, 1, 0, new Uint8Array([0xa0]));
  bad('unknown-type-0x0c', 'type 0x0C is not defined in v1', wireOf(f), 'msg.unknown_type');
  bad('unknown-type-0xff', 'type 0xFF is not defined in v1', wireOf(buildFrame(0xff, 0, 1, 0, new Uint8Array([0xa0]))), 'msg.unknown_type');
}
{
  const f = hbFrame.slice();
  f[0] = 2;
  const crc = crc32c(f, 0, 0, f.length - 4);
  new DataView(f.buffer).setUint32(f.length - 4, crc, true);
  bad('version-2-frame', 'frame version byte 2 (CRC valid)', wireOf(f), 'frame.version');
}
bad('reserved-flag-bit-2', 'flags 0x04 (a reserved bit) on a HEARTBEAT', wireOf(buildFrame(MessageType.HEARTBEAT, 0x04, 1, 0, hbBody)), 'frame.header', 'flags');
bad('reserved-flag-bit-7', 'flags 0x81', wireOf(buildFrame(MessageType.HEARTBEAT, 0x81, 1, 0, hbBody)), 'frame.header', 'flags');
{
  const f = hbFrame.slice();
  f[8] = hbBody.length + 1;
  const crc = crc32c(f, 0, 0, f.length - 4);
  new DataView(f.buffer).setUint32(f.length - 4, crc, true);
  bad('len-mismatch', 'len one larger than the body (CRC valid)', wireOf(f), 'frame.header', 'len');
}
const HB = MessageType.HEARTBEAT;
bad('schema-wrong-type', 'HEARTBEAT uptimeMs as a text string', withBody(HB, 'a10063313233'), 'msg.schema', 'uptimeMs');
bad('schema-missing-required', 'HEARTBEAT with an empty map', withBody(HB, 'a0'), 'msg.schema', 'uptimeMs');
bad('schema-negative-uint', 'HEARTBEAT uptimeMs = -1', withBody(HB, 'a10020'), 'msg.schema', 'uptimeMs');
bad('schema-body-not-map', 'HEARTBEAT body is an array', withBody(HB, '8100'), 'msg.schema');
bad('schema-bool-for-uint', 'HEARTBEAT uptimeMs = true', withBody(HB, 'a100f5'), 'msg.schema', 'uptimeMs');
{
  const body = Buffer.from(encodeMessage({ type: 'CHALLENGE', nonce: pattern(16, 0), version: 1, maxFrame: 256, window: 1, keepaliveMs: 10000 })).toString('hex');
  // nonce header 0x50 (16 bytes) -> 0x4f (15 bytes) and drop one byte
  const short = body.replace('a50050' + hex(pattern(16, 0)), 'a5004f' + hex(pattern(15, 0)));
  if (short === body) throw new Error('nonce rewrite failed');
  bad('schema-nonce-15-bytes', 'CHALLENGE nonce of 15 bytes (must be 16)', withBody(MessageType.CHALLENGE, short, FLAG_RSP), 'msg.schema', 'nonce');
}
bad('schema-load-permille-1001', 'STATE loadPermille = 1001', withBody(MessageType.STATE, 'a40019' + '03e9' + '0100' + '0380' + '0801'), 'msg.schema', 'loadPermille');
{
  const hello: Message = {
    type: 'HELLO',
    deviceId: 'bad id!',
    deviceClass: 'mcu',
    proto: [1, 1],
    firmware: 'x',
    caps: { cpuCores: 1, memoryKiB: 1, computeMops: 1 },
    maxFrame: 64,
    rxWindow: 1,
  };
  // Build the body by hand: encodeMessage would refuse the bad id.
  const ok = hex(encodeMessage({ ...hello, deviceId: 'goodxid' } as Message));
  const body = ok.replace(hex(Buffer.from('goodxid')), hex(Buffer.from('bad id!')));
  bad('schema-device-id-pattern', 'HELLO deviceId "bad id!" (space and ! are not allowed)', withBody(MessageType.HELLO, body), 'msg.schema', 'deviceId');
  const noMem = ok.replace('a3000101010501', 'a200010501');
  if (noMem === ok) throw new Error('caps rewrite failed');
  bad('schema-missing-nested', 'HELLO caps without memoryKiB (key 1)', withBody(MessageType.HELLO, noMem), 'msg.schema', 'caps.memoryKiB');
}
{
  const req: Message = { type: 'INFER_REQUEST', requestId: 1, service: 's', inputs: [tensorFrom('x', new Float32Array([1, 2]))] };
  const ok = hex(encodeMessage(req));
  // shape [2] -> [3]: 8 data bytes no longer match 3 x 4
  const body = ok.replace('01810202d85548', '01810302d85548');
  if (body === ok) throw new Error('shape rewrite failed');
  bad('schema-tensor-length', 'INFER_REQUEST float32 tensor with shape [3] but 8 data bytes', withBody(MessageType.INFER_REQUEST, body), 'msg.schema', 'inputs[0].data');
  const untagged = ok.replace('02d85548', '0248');
  bad('schema-tensor-untagged', 'INFER_REQUEST tensor data without its RFC 8746 tag', withBody(MessageType.INFER_REQUEST, untagged), 'msg.schema', 'inputs[0].data');
}
bad('schema-tagged-nonce', 'PING data tagged 64 (tags only on tensor data)', withBody(MessageType.PING, 'a100d84041aa'), 'msg.schema', 'data');
bad('nondet-non-shortest-int', 'HEARTBEAT uptimeMs = 5 encoded as 0x18 0x05', withBody(HB, 'a1001805'), 'msg.non_deterministic');
bad('nondet-non-shortest-len', 'PING data length 1 encoded as 0x58 0x01', withBody(MessageType.PING, 'a1005801aa'), 'msg.non_deterministic');
bad('nondet-non-shortest-uint32', 'HEARTBEAT uptimeMs = 255 as a 4-byte argument', withBody(HB, 'a1001a000000ff'), 'msg.non_deterministic');
bad('nondet-indefinite-map', 'HEARTBEAT as an indefinite-length map', withBody(HB, 'bf0001ff'), 'msg.non_deterministic');
bad('nondet-indefinite-bytes', 'PING data as an indefinite-length byte string', withBody(MessageType.PING, 'a1005f41aaff'), 'msg.non_deterministic');
bad('nondet-unsorted-keys', 'BYE with key 1 before key 0 (both pairs complete)', withBody(MessageType.BYE, 'a20161780000'), 'msg.non_deterministic');
bad('nondet-duplicate-key', 'HEARTBEAT with key 0 twice', withBody(HB, 'a200010002'), 'msg.non_deterministic');
bad('nondet-float', 'HEARTBEAT uptimeMs as a half-precision float 1.0', withBody(HB, 'a100f93c00'), 'msg.non_deterministic');
bad('nondet-float64', 'HEARTBEAT uptimeMs as a double 1.0', withBody(HB, 'a100fb3ff0000000000000'), 'msg.non_deterministic');
bad('nondet-null', 'BYE reason = null (omit absent fields instead)', withBody(MessageType.BYE, 'a101f6'), 'msg.non_deterministic');
bad('nondet-text-key', 'HEARTBEAT with a text key "u"', withBody(HB, 'a1617501'), 'msg.non_deterministic');
bad('nondet-key-24', 'HEARTBEAT with an extra key 24 (keys are 0..23)', withBody(HB, 'a200011818 01'.replace(' ', '')), 'msg.non_deterministic');
bad('nondet-tag-1', 'HEARTBEAT uptimeMs wrapped in tag 1 (epoch time)', withBody(HB, 'a100c101'), 'msg.non_deterministic');
bad('cbor-truncated', 'HEARTBEAT body cut inside a 4-byte integer', withBody(HB, 'a1001a0001'), 'msg.cbor');
bad('cbor-trailing-bytes', 'HEARTBEAT body followed by an extra 0x00', withBody(HB, 'a1000100'), 'msg.cbor');
bad('cbor-invalid-utf8', 'BYE reason with the byte 0xff', withBody(MessageType.BYE, 'a10162ff41'), 'msg.cbor');
bad('cbor-empty-body', 'HEARTBEAT with an empty body', withBody(HB, ''), 'msg.cbor');
bad('cbor-reserved-ai', 'HEARTBEAT uptimeMs with additional information 28', withBody(HB, 'a1001c'), 'msg.cbor');
// spec 1.1: SPEC §4 precedence (well-formedness over the whole body, then the subset, then the
// schema), additional information 31, and the tag cases. Appended to keep the earlier order.
bad('cbor-unsorted-then-truncated', 'BYE declares 2 pairs, key 1 comes first, the second pair has no value: malformed wins over unsorted', withBody(MessageType.BYE, 'a201617800'), 'msg.cbor');
bad('cbor-stray-break', 'HEARTBEAT uptimeMs = 0xff (a break outside an indefinite-length item)', withBody(HB, 'a100ff'), 'msg.cbor');
bad('cbor-empty-map-then-trailing', 'HEARTBEAT {} (missing uptimeMs) followed by an extra 0x00: malformed wins over schema', withBody(HB, 'a000'), 'msg.cbor');
bad('nondet-non-shortest-text-for-uint', 'HEARTBEAT uptimeMs a text string with a non-shortest length: the subset wins over the schema', withBody(HB, 'a100780161'), 'msg.non_deterministic');
bad('nondet-tag-on-uint', 'HEARTBEAT uptimeMs = tag 64 on the integer 1 (typed-array tags only on byte strings)', withBody(HB, 'a100d84001'), 'msg.non_deterministic');
bad('nondet-tag-1-under-unknown-key', 'HEARTBEAT with an unknown key 5 holding tag 1: the subset applies under unknown keys too', withBody(HB, 'a2000105c101'), 'msg.non_deterministic');
bad('nondet-top-level-tag-1', 'HEARTBEAT body wrapped in tag 1', withBody(HB, 'c1a10001'), 'msg.non_deterministic');
bad('schema-tagged-body', 'HEARTBEAT body is a typed array (tag 64 on a byte string), not a map: msg.schema without a field', withBody(HB, 'd84041aa'), 'msg.schema');

// Spec 1.1 vectors added after the first 1.1 set (appended, so earlier vectors keep their place
// in invalid-wire.hex): the precedence of malformed over outside-the-subset over schema errors in
// more positions, AI 31, nesting depth, a typed array of a partial element and the text limits.
// They waited until the FPGA endpoint (hdl/basys3) answered them as the spec says (rtl, issue 23);
// every device now meets them: the TypeScript codec, edge_core in co-sim and device-c.
function precedenceAndLimitVectors(): void {
  bad('cbor-non-shortest-then-trailing', 'HEARTBEAT uptimeMs = 5 as 0x18 0x05, then a trailing 0x00', withBody(HB, 'a100180500'), 'msg.cbor');
  bad('cbor-indefinite-map-no-break', 'HEARTBEAT as an indefinite-length map that never ends', withBody(HB, 'bf0001'), 'msg.cbor');
  bad('cbor-indefinite-bytes-text-chunk', 'HEARTBEAT uptimeMs as an indefinite byte string whose chunk is a text string', withBody(HB, 'a1005f6178ff'), 'msg.cbor');
  bad('cbor-float-then-bad-utf8', 'HEARTBEAT uptimeMs a half float, key 1 a text string with the byte 0xff', withBody(HB, 'a200f93c000162ff41'), 'msg.cbor');
  bad('cbor-deep-then-truncated', 'HEARTBEAT key 1 holds 11 nested arrays that never close', withBody(HB, 'a101' + '81'.repeat(11)), 'msg.cbor');
  bad('cbor-ai31-uint', 'HEARTBEAT uptimeMs = 0x1f (additional information 31 on major type 0)', withBody(HB, 'a1001f'), 'msg.cbor');
  bad('cbor-ai31-negative', 'HEARTBEAT uptimeMs = 0x3f (additional information 31 on major type 1)', withBody(HB, 'a1003f'), 'msg.cbor');
  bad('cbor-ai31-tag', 'HEARTBEAT uptimeMs = 0xdf 0x01 (additional information 31 on major type 6)', withBody(HB, 'a100df01'), 'msg.cbor');
  bad('nondet-deep-nesting', 'HEARTBEAT with an unknown key 1 holding 9 nested arrays (deeper than 8 counting the body)', withBody(HB, 'a20001' + '01' + '81'.repeat(9) + '00'), 'msg.non_deterministic');
  bad('schema-tagged-uint', 'HEARTBEAT uptimeMs a typed array where an integer is expected', withBody(HB, 'a100d84041aa'), 'msg.schema', 'uptimeMs');
  {
    const req: Message = { type: 'INFER_REQUEST', requestId: 1, service: 's', inputs: [tensorFrom('x', new Float32Array([1, 2]))] };
    const ok = hex(encodeMessage(req));
    // float32 data of 8 bytes -> 7 bytes: not a whole number of 4-byte elements
    const body = ok.replace('02d85548' + hex(new Uint8Array(new Float32Array([1, 2]).buffer)), '02d85547' + hex(new Uint8Array(new Float32Array([1, 2]).buffer)).slice(0, 14));
    if (body === ok) throw new Error('typed-array rewrite failed');
    bad('nondet-typed-array-bad-length', 'INFER_REQUEST float32 tensor data of 7 bytes (not a whole number of elements)', withBody(MessageType.INFER_REQUEST, body), 'msg.non_deterministic');
    const longName = hex(encodeMessage({ ...req, service: 'a'.repeat(64) } as Message)).replace('7840' + '61'.repeat(64), '7841' + '61'.repeat(65));
    bad('schema-service-too-long', 'INFER_REQUEST service of 65 bytes (at most 64)', withBody(MessageType.INFER_REQUEST, longName), 'msg.schema', 'service');
    const n128 = 'n'.repeat(128);
    const tn = hex(encodeMessage({ ...req, inputs: [tensorFrom(n128, new Float32Array([1, 2]))] } as Message)).replace('7880' + '6e'.repeat(128), '7881' + '6e'.repeat(129));
    bad('schema-tensor-name-too-long', 'INFER_REQUEST tensor name of 129 bytes (at most 128)', withBody(MessageType.INFER_REQUEST, tn), 'msg.schema', 'inputs[0].name');
  }
}
precedenceAndLimitVectors();

// Check each invalid vector against the codec before writing it.
for (const v of invalid) {
  const out = new FrameDecoder({ maxFrame: v.max_frame }).push(new Uint8Array(Buffer.from(v.wire_hex, 'hex')));
  const errs = out.filter((o): o is ProtocolError => o instanceof ProtocolError);
  if (out.length !== 1 || errs.length !== 1 || errs[0]!.code !== v.expect || (v.field ? errs[0]!.field !== v.field : v.expect === 'msg.schema' && errs[0]!.field !== undefined)) {
    throw new Error(`invalid vector ${v.name}: expected ${v.expect}${v.field ? ` (${v.field})` : ''}, got ${out.map((o) => (o instanceof ProtocolError ? `${o.code}(${o.field}) ${o.reason}` : (o as Frame).message.type)).join(', ')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// accept vectors: input a receiver must accept although no encoder writes it (unknown keys are
// ignored, corr is ignored without RSP). Re-encoding the decoded message gives other bytes.

interface AcceptOut {
  name: string;
  description: string;
  wire_hex: string;
  header: { version: number; type: number; flags: number; seq: number; corr: number };
  message: Record<string, unknown>;
}
const accept: AcceptOut[] = [];
function ok(name: string, description: string, type: number, bodyHex: string, message: Message, corr = 0): void {
  const frame = buildFrame(type, 0, 1, corr, new Uint8Array(Buffer.from(bodyHex, 'hex')));
  accept.push({ name, description, wire_hex: hex(wireOf(frame)), header: { version: 1, type, flags: 0, seq: 1, corr }, message: messageToJson(message) });
}
ok('accept-corr-without-rsp', 'HEARTBEAT request with corr 0x1234 and RSP clear: corr is ignored', HB, hex(hbBody), { type: 'HEARTBEAT', uptimeMs: 123456 }, 0x1234);
ok('accept-unknown-key', 'HEARTBEAT with an unknown key 9 (a text string): ignored', HB, 'a200050961' + '78', { type: 'HEARTBEAT', uptimeMs: 5 });
ok('accept-typed-array-under-unknown-key', 'HEARTBEAT with an unknown key 5 holding a uint8 typed array: ignored', HB, 'a2000505d84041aa', { type: 'HEARTBEAT', uptimeMs: 5 });
ok('accept-unknown-nested-key', 'STATE whose frames map has an unknown key 3: ignored', MessageType.STATE, 'a5000001000380' + '07a40001010202000304' + '0801', {
  type: 'STATE',
  loadPermille: 0,
  memFreeKiB: 0,
  services: [],
  frames: { good: 1, badCrc: 2, oversize: 0 },
  uptimeMs: 1,
} as Message);
for (const v of accept) {
  const out = new FrameDecoder({ maxFrame: 512 }).push(new Uint8Array(Buffer.from(v.wire_hex, 'hex')));
  const f = out[0] as Frame;
  if (out.length !== 1 || f instanceof ProtocolError || JSON.stringify(messageToJson(f.message)) !== JSON.stringify(v.message)) {
    throw new Error(`accept vector ${v.name}: got ${out.map((o) => (o instanceof ProtocolError ? `${o.code} ${o.reason}` : JSON.stringify(messageToJson((o as Frame).message)))).join(', ')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// protocol version 2 (spec 1.1): messages with v2 keys, as a v2 session and a v1 session see them

interface V2Out {
  name: string;
  description: string;
  protocol_version: 2;
  header: { version: number; type: number; flags: number; seq: number; corr: number };
  message?: Record<string, unknown>;
  body_hex: string;
  wire_hex: string;
  /** what a version-1 session decodes the same bytes to (the v2 keys are unknown keys there) */
  message_v1: Record<string, unknown>;
  /** what a version-1 session sends for `message` */
  body_hex_v1?: string;
  expect?: string;
  expect_wire?: number;
  field?: string;
}
const v2: V2Out[] = [];
function v2ok(name: string, description: string, seq: number, msg: Message): void {
  const type = MessageType[msg.type];
  const body = encodeMessage(msg, 2);
  const body1 = encodeMessage(msg, 1);
  const wire = encodeFrame(msg, { seq, maxFrame: 65535, protocolVersion: 2 });
  const v1 = new FrameDecoder({ maxFrame: 65535, protocolVersion: 1 }).push(wire)[0] as Frame;
  v2.push({ name, description, protocol_version: 2, header: { version: 1, type, flags: 0, seq, corr: 0 }, message: messageToJson(msg), body_hex: hex(body), wire_hex: hex(wire), message_v1: messageToJson(v1.message), body_hex_v1: hex(body1) });
}
v2ok('state-v2-service-memory', 'STATE with the v2 service keys memKiB and busyUs', 13, {
  type: 'STATE',
  loadPermille: 400,
  memFreeKiB: 1_048_576,
  services: [{ name: 'resnet50', version: '1.2.0', status: 'ready', queueLen: 2, served: 31, violations: 0, batch: 4, memKiB: 100_352, busyUs: 2_480_000 }],
  uptimeMs: 7_200_000,
});
v2ok('placement-v2-pipeline', 'PLACEMENT loading stage 2 of 3 of a split model', 22, {
  type: 'PLACEMENT',
  planVersion: 18,
  ops: [{ action: 'load', service: 'resnet50.s1', version: '1.2.0', settings: { stage: 1 }, pipeline: { index: 1, count: 3, inputNames: ['/layer2/Relu_output_0'], outputNames: ['/layer3/Add_output_0', '/layer3/Relu_output_0'] } }],
});
{
  // pipeline index 3 of count 3: msg.schema at version 2, an ignored unknown key at version 1
  const good = hex(encodeMessage({ type: 'PLACEMENT', planVersion: 19, ops: [{ action: 'load', service: 'm.s2', pipeline: { index: 2, count: 3, inputNames: ['a'], outputNames: ['b'] } }] }, 2));
  const body = good.replace('a4000201030281616103816162', 'a4000301030281616103816162');
  if (body === good) throw new Error('pipeline rewrite failed');
  const wire = withBody(MessageType.PLACEMENT, body);
  const at2 = new FrameDecoder({ maxFrame: 512, protocolVersion: 2 }).push(wire)[0] as ProtocolError;
  const at1 = new FrameDecoder({ maxFrame: 512, protocolVersion: 1 }).push(wire)[0] as Frame;
  if (!(at2 instanceof ProtocolError) || at2.field !== 'ops[0].pipeline.index' || at1 instanceof ProtocolError) throw new Error('pipeline vector does not behave');
  v2.push({
    name: 'placement-v2-pipeline-index-past-count',
    description: 'PLACEMENT pipeline index 3 of count 3: msg.schema in a version-2 session, ignored (unknown key 4) in a version-1 session',
    protocol_version: 2,
    header: { version: 1, type: MessageType.PLACEMENT, flags: 0, seq: 1, corr: 0 },
    body_hex: body,
    wire_hex: hex(wire),
    message_v1: messageToJson(at1.message),
    expect: 'msg.schema',
    expect_wire: 113,
    field: 'ops[0].pipeline.index',
  });
}

// ---------------------------------------------------------------------------------------------
// CRC and COBS vectors

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'ascii'));
const crcInputs: [string, Uint8Array][] = [
  ['check-123456789', ascii('123456789')],
  ['empty', new Uint8Array(0)],
  ['one-zero-byte', new Uint8Array([0])],
  ['32-zeros', new Uint8Array(32)],
  ['32-ff', new Uint8Array(32).fill(0xff)],
  ['32-incrementing', pattern(32, 0)],
  ['32-decrementing', pattern(32, 31, -1)],
  ['heartbeat-frame-without-crc', hbFrame.subarray(0, hbFrame.length - 4)],
  ['256-incrementing', pattern(256, 0)],
];
const crcOut = crcInputs.map(([name, data]) => ({ name, data_hex: hex(data), crc32c: crc32c(data), crc32c_hex: crc32c(data).toString(16).padStart(8, '0') }));

const cobsInputs: [string, Uint8Array][] = [
  ['empty', new Uint8Array(0)],
  ['one-zero', new Uint8Array([0])],
  ['two-zeros', new Uint8Array([0, 0])],
  ['11-22-00-33', new Uint8Array([0x11, 0x22, 0x00, 0x33])],
  ['11-22-33-44', new Uint8Array([0x11, 0x22, 0x33, 0x44])],
  ['11-00-00-00', new Uint8Array([0x11, 0x00, 0x00, 0x00])],
  ['253-nonzero', pattern(253, 1).map((b) => b || 1)],
  ['254-nonzero', pattern(254, 1)],
  ['255-nonzero', pattern(255, 1).map((b) => b || 1)],
  ['zero-then-254-nonzero', new Uint8Array([0, ...pattern(254, 1)])],
  ['254-nonzero-then-zero', new Uint8Array([...pattern(254, 1), 0])],
  ['heartbeat-frame', hbFrame],
];
const cobsOut = cobsInputs.map(([name, decoded]) => ({ name, decoded_hex: hex(decoded), encoded_hex: hex(cobsEncode(decoded)) }));

// ---------------------------------------------------------------------------------------------
// $readmemh files: one byte (two hex digits) per line, `//` comments allowed by $readmemh.
// Layout (see protocol/vectors/README.md): count_hi, count_lo, then per record len_hi, len_lo, bytes.

function records(title: string, recs: [string, Uint8Array][]): string {
  const lines = [`// ${title}`, `// record count ${recs.length}`, ...u16(recs.length)];
  for (const [name, b] of recs) {
    lines.push(`// ${name} (${b.length} bytes)`, ...u16(b.length));
    for (const x of b) lines.push(x.toString(16).padStart(2, '0'));
  }
  return lines.join('\n') + '\n';
}
function u16(n: number): string[] {
  return [(n >> 8).toString(16).padStart(2, '0'), (n & 0xff).toString(16).padStart(2, '0')];
}
const buf = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
function le32(n: number): Uint8Array {
  return new Uint8Array([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24]);
}

function stream(title: string, wires: [string, string][]): string {
  const lines = [`// ${title}`];
  for (const [name, w] of wires) {
    lines.push(`// ${name}`);
    for (const x of buf(w)) lines.push(x.toString(16).padStart(2, '0'));
  }
  return lines.join('\n') + '\n';
}

const json = (x: unknown) => JSON.stringify(x, null, 2) + '\n';
writeFileSync(join(OUT, 'valid.json'), json({ format: 'epara-vectors-v1', kind: 'valid', vectors: validOut }));
writeFileSync(join(OUT, 'invalid.json'), json({ format: 'epara-vectors-v1', kind: 'invalid', vectors: invalid }));
writeFileSync(join(OUT, 'v2.json'), json({ format: 'epara-vectors-v1', kind: 'protocol-v2', vectors: v2 }));
writeFileSync(join(OUT, 'accept.json'), json({ format: 'epara-vectors-v1', kind: 'accept', vectors: accept }));
writeFileSync(join(OUT, 'crc.json'), json({ format: 'epara-vectors-v1', kind: 'crc32c', vectors: crcOut }));
writeFileSync(join(OUT, 'cobs.json'), json({ format: 'epara-vectors-v1', kind: 'cobs', vectors: cobsOut }));
writeFileSync(
  join(OUT, 'crc.hex'),
  records('CRC-32C vectors: each record is data followed by its CRC-32C, least-significant byte first', crcOut.map((c) => [c.name, new Uint8Array([...buf(c.data_hex), ...le32(c.crc32c)])])),
);
writeFileSync(
  join(OUT, 'cobs.hex'),
  records('COBS vectors: records come in pairs, decoded then encoded (no delimiter)', cobsOut.flatMap((c) => [[`${c.name} decoded`, buf(c.decoded_hex)], [`${c.name} encoded`, buf(c.encoded_hex)]] as [string, Uint8Array][])),
);
writeFileSync(
  join(OUT, 'valid-frames.hex'),
  records('valid frames: records come in pairs, unencoded frame (header|body|crc) then wire bytes (COBS + 0x00)', validOut.flatMap((v) => [[`${v.name} frame`, buf(v.frame_hex)], [`${v.name} wire`, buf(v.wire_hex)]] as [string, Uint8Array][])),
);
writeFileSync(join(OUT, 'valid-wire.hex'), stream('every valid vector\'s wire bytes back to back, as a receiver sees them on a link', validOut.map((v) => [v.name, v.wire_hex])));
writeFileSync(
  join(OUT, 'invalid-wire.hex'),
  stream(
    'every invalid vector (max_frame 512 ones only) back to back; each must be rejected and counted as bad',
    invalid.filter((v) => v.max_frame === 512).map((v) => [`${v.name}: ${v.expect}`, v.wire_hex]),
  ),
);
console.log(`wrote ${validOut.length} valid, ${invalid.length} invalid, ${accept.length} accept, ${v2.length} v2, ${crcOut.length} crc, ${cobsOut.length} cobs vectors to ${OUT}`);
