/**
 * Codec throughput and wire size. For HEARTBEAT, a realistic STATE (three services, link and
 * frame counters) and a 1 KiB DEPLOY_CHUNK:
 *  - frames/s for the full path beside bare cbor-x on the same body, measured in alternating
 *    rounds of the same run; the ratio is the figure (target < 1.5x). What each column includes:
 *      encode/s      encodeFrame(msg): schema validation of the TypeScript message while writing
 *                    its deterministic CBOR straight into the frame buffer (CborWriter), 9-byte
 *                    header, CRC-32C, COBS, delimiter, returned in a fresh array the caller owns.
 *      cbor-x enc/s  cbor-x encode of the same body from a prebuilt integer-keyed Map (no
 *                    validation, Map not built in the loop), returning a view of cbor-x's own
 *                    buffer (no copy), in RESET_BUFFER_MODE so it does not pay for reallocating
 *                    that buffer every few KiB (plain encode() would, which would flatter us).
 *      decode/s      FrameDecoder.push(wire): delimiter search, one copy of the piece, COBS decode,
 *                    CRC-32C, header checks, strict CBOR reader (well-formedness, subset and
 *                    determinism), schema validation, building the TypeScript message.
 *      cbor-x dec/s  cbor-x decode of the body alone (no header, CRC, COBS or checks; byte strings
 *                    are views into the input, no copy).
 *  - wire bytes beside JSON (one line) and beside base64 + CRC16 line framing of the same body
 *    (the mcumgr/SMP serial console framing: [len16][body][crc16] in base64, lines of at most
 *    127 bytes with a 2-byte start/continuation marker and '\n').
 */
import { Decoder, Encoder } from 'cbor-x';
import {
  FrameDecoder,
  encodeFrame,
  encodeMessage,
  messageToJson,
  type Message,
} from '../src/protocol/index.js';
import { SCHEMAS } from '../src/protocol/messages/catalogue.js';
import { encodeWith } from '../src/protocol/messages/schema.js';
import { MessageType } from '../src/protocol/messages/types.js';
import { NATIVE_CRC_MIN_BYTES, nativeCrc32c } from '../src/protocol/crc32c.js';
import { ajvDecoder, obviousDecoder } from './_validating-baselines.js';

const bareEncoder = new Encoder({ useRecords: false, tagUint8Array: false, mapsAsObjects: false, variableMapSize: true } as ConstructorParameters<typeof Encoder>[0]);
/** cbor-x's RESET_BUFFER_MODE (not re-exported by its index), as src/protocol/cbor-subset.ts uses it. */
const RESET_BUFFER_MODE = 1024;
const bareEncode = bareEncoder.encode as (value: unknown, mode: number) => Uint8Array;
const bareDecoder = new Decoder({ useRecords: false, mapsAsObjects: false } as ConstructorParameters<typeof Decoder>[0]);

const chunk = new Uint8Array(1024);
for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 131 + 7) & 0xff;

/** Issue 22's targets for (encode, decode) time over bare cbor-x's. */
const TARGETS: Record<string, [number, number]> = { HEARTBEAT: [1.5, 1.5], 'STATE (3 services)': [1.5, 1.5], 'DEPLOY_CHUNK 1 KiB': [1.5, 2] };

const CASES: Array<[string, Message]> = [
  ['HEARTBEAT', { type: 'HEARTBEAT', uptimeMs: 3_600_123 }],
  [
    'STATE (3 services)',
    {
      type: 'STATE',
      loadPermille: 730,
      memFreeKiB: 1_843_200,
      gpuPermille: 615,
      services: [
        { name: 'resnet50', version: '1.2.0', status: 'ready', queueLen: 12, served: 950, violations: 3, batch: 8 },
        { name: 'yolov8n', version: '8.0.1', status: 'ready', queueLen: 2, served: 410, violations: 0, batch: 4 },
        { name: 'whisper-tiny', version: '0.3.0', status: 'loading', queueLen: 0, served: 0, violations: 0 },
      ],
      temperatureDeciC: 612,
      powerMw: 18_500,
      link: { rssiDbm: -61, rxErrors: 2, txRetries: 5 },
      frames: { good: 120_443, badCrc: 3, oversize: 0 },
      uptimeMs: 86_400_000,
    },
  ],
  ['DEPLOY_CHUNK 1 KiB', { type: 'DEPLOY_CHUNK', deploymentId: 42, offset: 1_048_576, data: chunk }],
];

/**
 * ops/s of `a` and `b`, measured in alternating rounds (~`ms` each) after a warm-up, best round of
 * each: on a shared machine both sides see the same load, so their ratio is stable even when the
 * absolute figures are not.
 */
function ratePair(a: () => unknown, b: () => unknown, ms = 150, rounds = 4): [number, number] {
  return rates([a, b], ms, rounds) as [number, number];
}

/** ops/s of each of `fns`, in alternating rounds after a warm-up, best round of each (see ratePair). */
function rates(fns: Array<() => unknown>, ms = 150, rounds = 4): number[] {
  for (let i = 0; i < 3000; i++) for (const f of fns) f();
  const once = (fn: () => unknown) => {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < ms) {
      for (let i = 0; i < 100; i++) fn();
      n += 100;
      t = performance.now();
    }
    return (n * 1000) / (t - t0);
  };
  const best = fns.map(() => 0);
  for (let r = 0; r < rounds; r++) fns.forEach((f, i) => (best[i] = Math.max(best[i]!, once(f))));
  return best;
}

// CRC-16/CCITT (poly 0x1021, initial value 0) as mcumgr's console transport computes it.
function crc16(b: Uint8Array): number {
  let c = 0;
  for (const x of b) {
    c ^= x << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  }
  return c;
}

/** Bytes on the line for `body` in SMP console framing; `header` adds SMP's own 8-byte header. */
function smpConsoleBytes(bodyOnly: Uint8Array, header = false): number {
  const body = header ? new Uint8Array([...new Uint8Array(8), ...bodyOnly]) : bodyOnly;
  const pkt = new Uint8Array(2 + body.length + 2);
  pkt[0] = (body.length + 2) >> 8;
  pkt[1] = (body.length + 2) & 0xff;
  pkt.set(body, 2);
  const c = crc16(body);
  pkt[pkt.length - 2] = c >> 8;
  pkt[pkt.length - 1] = c & 0xff;
  const b64 = Buffer.from(pkt).toString('base64');
  // each line: 2-byte marker + up to 124 base64 chars + '\n' (127 bytes max)
  const lines = Math.ceil(b64.length / 124);
  return b64.length + lines * 3;
}

const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(0)} k`);
const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

export async function run(): Promise<void> {
  const rows: string[][] = [];
  const judged: string[][] = [];
  const sizes: string[][] = [];
  for (const [label, msg] of CASES) {
    const schema = SCHEMAS.get(MessageType[msg.type])!;
    const ready = encodeWith(schema.body, msg, ''); // the integer-keyed Map cbor-x is given
    const body = encodeMessage(msg);
    const wire = encodeFrame(msg, { seq: 1, maxFrame: 4096 });
    const dec = new FrameDecoder({ maxFrame: 4096 });
    if (dec.push(wire).length !== 1) throw new Error('bench: frame did not decode');

    let seq = 0;
    const [fullEnc, bareEnc] = ratePair(
      () => encodeFrame(msg, { seq: (seq = (seq + 1) & 0xffff), maxFrame: 4096 }),
      () => bareEncode.call(bareEncoder, ready, RESET_BUFFER_MODE),
    );
    const obvious = obviousDecoder(schema.body);
    const compiled = ajvDecoder(schema.body);
    obvious(body);
    compiled(body);
    const [fullDec, bareDec, obviousDec, ajvDec] = rates([() => dec.push(wire), () => bareDecoder.decode(body), () => obvious(body), () => compiled(body)]);
    rows.push([label, fmt(fullEnc), fmt(bareEnc), (bareEnc / fullEnc).toFixed(2) + 'x', fmt(fullDec), fmt(bareDec), (bareDec / fullDec).toFixed(2) + 'x']);
    const [encT, decT] = TARGETS[label]!;
    const encR = bareEnc / fullEnc;
    const decR = bareDec / fullDec;
    judged.push([
      label,
      `${encR.toFixed(2)}x (<= ${encT}x) ${encR <= encT ? 'target met' : 'NOT MET'}`,
      `${decR.toFixed(2)}x (<= ${decT}x) ${decR <= decT ? 'target met' : 'NOT MET'}`,
      `${fmt(obviousDec)} = ${(obviousDec / fullDec).toFixed(2)}x`,
      `${fmt(ajvDec)} = ${(ajvDec / fullDec).toFixed(2)}x`,
    ]);

    const json = Buffer.byteLength(JSON.stringify(messageToJson(msg)) + '\n');
    sizes.push([label, String(body.length), String(wire.length), String(json), String(smpConsoleBytes(body)), String(smpConsoleBytes(body, true)), ((wire.length / json) * 100).toFixed(0) + '%']);
  }

  const head = ['message', 'encode/s', 'cbor-x enc/s', 'ratio', 'decode/s', 'cbor-x dec/s', 'ratio'];
  const w = [20, 10, 13, 7, 10, 13, 7];
  console.log('frames per second: full framing vs bare cbor-x on the same body');
  console.log(' encode = validate + write CBOR into the frame + header + CRC-32C + COBS + fresh wire array;  cbor-x enc = cbor-x on a prebuilt Map');
  console.log(' decode = split + copy + COBS + CRC-32C + header + strict CBOR/determinism + schema;         cbor-x dec = cbor-x on the body alone');
  console.log(` CRC-32C: ${nativeCrc32c ? `native @node-rs/crc32 from ${NATIVE_CRC_MIN_BYTES} bytes, JS below` : 'JS slicing-by-8 only (native binding not loaded)'}`);
  console.log(head.map((h, i) => (i ? lpad(h, w[i]!) : pad(h, w[i]!))).join(' '));
  for (const r of rows) console.log(r.map((c, i) => (i ? lpad(c, w[i]!) : pad(c, w[i]!))).join(' '));
  console.log('(ratio = bare cbor-x rate / full rate: the cost of framing and validation)');

  console.log('\nissue 22 targets (time of the full path over bare cbor-x, same run), and decode beside validating baselines');
  console.log(' cbor-x+check = cbor-x to Maps + the obvious recursive schema check; cbor-x+ajv = cbor-x to objects + an ajv validator compiled from the catalogue');
  console.log(' (both are floors: no determinism/subset checks, no COBS, no CRC); "= Nx" is that baseline\'s rate over the full decode\'s');
  const jh = ['message', 'encode vs cbor-x', 'decode vs cbor-x', 'cbor-x+check dec/s', 'cbor-x+ajv dec/s'];
  const jw = [20, 30, 30, 20, 20];
  console.log(jh.map((h, i) => h.padEnd(jw[i]!)).join(' '));
  for (const r of judged) console.log(r.map((c, i) => c.padEnd(jw[i]!)).join(' '));

  console.log('\nwire bytes per message');
  const sh = ['message', 'CBOR body', 'epara wire', 'JSON line', 'b64+CRC16', '+SMP hdr', 'wire/JSON'];
  const sw = [20, 10, 11, 10, 10, 9, 10];
  console.log(sh.map((h, i) => (i ? lpad(h, sw[i]!) : pad(h, sw[i]!))).join(' '));
  for (const r of sizes) console.log(r.map((c, i) => (i ? lpad(c, sw[i]!) : pad(c, sw[i]!))).join(' '));
  console.log('(epara wire = COBS(9-byte header + body + CRC-32C) + 0x00, header included; b64+CRC16 = SMP console framing');
  console.log(' of the same body without a header; +SMP hdr = the same with the 8-byte SMP header, like for like)');
}
