/**
 * Writes the flat .hex vector files the Icarus testbenches read with $readmemh
 * (hdl/basys3/tb/vectors/), in the same record format as protocol/vectors/*.hex:
 *   [count hi][count lo] then count records of [len hi][len lo][bytes...]
 * The golden vectors in protocol/vectors/ are the contract and the testbenches
 * read them first; these files add cases the golden set does not need (frames at
 * the 512-byte limit, every SHA-256 padding boundary, random int8-fc weights with
 * expected results from the TypeScript model).
 *
 * Run: npx tsx scripts/hdl-vectors.ts
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cobsEncodeRef, crc32cRef } from '../firmware-sims/fpga/ref-codec.js';
import { Int8FcModel, int8FcArtifact, BASYS3_FC_DIMS } from '../src/conformance/int8-fc-model.js';

const OUT = join(import.meta.dirname, '..', 'hdl', 'basys3', 'tb', 'vectors');

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  };
}

function record(bytes: Uint8Array): number[] {
  return [bytes.length >> 8, bytes.length & 0xff, ...bytes];
}

function writeHex(name: string, records: number[][]): void {
  const all = [records.length >> 8, records.length & 0xff, ...records.flat()];
  const lines: string[] = [];
  for (let i = 0; i < all.length; i += 16) {
    lines.push(all.slice(i, i + 16).map((b) => b.toString(16).padStart(2, '0')).join(' '));
  }
  writeFileSync(join(OUT, name), lines.join('\n') + '\n');
}

/** Payloads that exercise every COBS corner: empty, zeros, 254/255 runs, trailing zero. */
export function cobsCases(): Uint8Array[] {
  const rnd = lcg(0xc0b5);
  const cases: Uint8Array[] = [
    new Uint8Array([]),
    new Uint8Array([0]),
    new Uint8Array([0, 0]),
    new Uint8Array([0x11, 0x22, 0x00, 0x33]),
    new Uint8Array([0x11, 0x22, 0x33, 0x44]),
    new Uint8Array([0x11, 0x00, 0x00, 0x00]),
    Uint8Array.from({ length: 254 }, (_, i) => i + 1),
    Uint8Array.from({ length: 255 }, (_, i) => (i % 255) + 1),
    Uint8Array.from({ length: 253 }, (_, i) => i + 1),
    new Uint8Array([...Uint8Array.from({ length: 254 }, (_, i) => i + 1), 0]),
    new Uint8Array([...Uint8Array.from({ length: 254 }, (_, i) => i + 1), 0, 5]),
    Uint8Array.from({ length: 512 }, (_, i) => (i % 7 === 0 ? 0 : i & 0xff)),
  ];
  for (let n = 1; n <= 40; n++) {
    const len = n <= 15 ? n : rnd() * 2;
    cases.push(Uint8Array.from({ length: len }, () => (rnd() < 40 ? 0 : rnd())));
  }
  return cases;
}

/**
 * int8-fc vectors, expected values from the TypeScript model: [n_sets] then per set
 * artifact, [n_inputs], then per input x, class, scores (int32 LE). Extreme values
 * (-128, 127, large biases that wrap) are mixed into the random ones on purpose.
 */
export function int8FcVectorHex(seed: number, sets: number, inputsPerSet: number): string {
  const rnd = lcg(seed);
  const dims = BASYS3_FC_DIMS;
  const s8 = () => { const r = rnd(); return r < 20 ? -128 : r > 235 ? 127 : r - 128; };
  const bytes: number[] = [sets];
  for (let s = 0; s < sets; s++) {
    const w = Int8Array.from({ length: dims.inputs * dims.outputs }, s8);
    const b = Int32Array.from({ length: dims.outputs }, (_, o) =>
      s === sets - 1 && o === 0 ? 0x7fffffff : ((rnd() << 24) | (rnd() << 16) | (rnd() << 8) | rnd()) >> (s === 0 ? 20 : 8),
    );
    const art = int8FcArtifact(w, b, dims);
    const model = new Int8FcModel(art, dims);
    bytes.push(...art, inputsPerSet);
    for (let k = 0; k < inputsPerSet; k++) {
      const x = Int8Array.from({ length: dims.inputs }, s8);
      const r = model.infer(x);
      bytes.push(...new Uint8Array(x.buffer), r.classIndex, ...new Uint8Array(r.scores.buffer));
    }
  }
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    lines.push(bytes.slice(i, i + 16).map((v) => (v & 0xff).toString(16).padStart(2, '0')).join(' '));
  }
  return lines.join('\n') + '\n';
}

/** HMAC zero-pads short keys, so a 32-byte key with trailing zeros equals the shorter key. */
function lastNonZero(k: Uint8Array): number {
  let n = k.length;
  while (n > 0 && k[n - 1] === 0) n--;
  return n;
}

function main(): void {
  mkdirSync(OUT, { recursive: true });
  const cobs = cobsCases();
  // encoded without the delimiter, like protocol/vectors/cobs.hex
  writeHex('cobs-extra.hex', cobs.flatMap((raw) => [record(raw), record(cobsEncodeRef(raw).subarray(0, -1))]));

  const enc = new TextEncoder();
  const crcCases = [enc.encode('123456789'), new Uint8Array([]), new Uint8Array([0]), ...cobs.slice(3)];
  writeHex(
    'crc-extra.hex',
    crcCases.map((d) => {
      const c = crc32cRef(d);
      return record(new Uint8Array([...d, c & 0xff, (c >>> 8) & 0xff, (c >>> 16) & 0xff, c >>> 24]));
    }),
  );
  // SHA-256 / HMAC-SHA256: record [mode, key(32), msg...] then record [digest(32)].
  // Published vectors (FIPS 180-2 "abc", the 448- and 896-bit messages, RFC 4231 cases 1 and 2)
  // plus every padding boundary; digests from node:crypto.
  const ascii = (t: string) => enc.encode(t);
  const shaCases: Array<{ hmac: boolean; key: Uint8Array; msg: Uint8Array }> = [];
  const zeroKey = new Uint8Array(32);
  for (const t of [
    'abc',
    '',
    'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
    'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
  ]) shaCases.push({ hmac: false, key: zeroKey, msg: ascii(t) });
  const rnd = lcg(0x5a5);
  for (const n of [1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 200, 333]) {
    shaCases.push({ hmac: false, key: zeroKey, msg: Uint8Array.from({ length: n }, () => rnd()) });
  }
  const pad32 = (k: Uint8Array) => { const o = new Uint8Array(32); o.set(k); return o; };
  shaCases.push({ hmac: true, key: pad32(ascii('Jefe')), msg: ascii('what do ya want for nothing?') });
  shaCases.push({ hmac: true, key: pad32(new Uint8Array(20).fill(0x0b)), msg: ascii('Hi There') });
  for (const n of [0, 1, 50, 55, 56, 64, 100]) {
    shaCases.push({ hmac: true, key: Uint8Array.from({ length: 32 }, () => rnd()), msg: Uint8Array.from({ length: n }, () => rnd()) });
  }
  writeHex(
    'sha256.hex',
    shaCases.flatMap(({ hmac, key, msg }) => {
      const d = hmac
        ? createHmac('sha256', key.subarray(0, lastNonZero(key))).update(msg).digest()
        : createHash('sha256').update(msg).digest();
      return [record(new Uint8Array([hmac ? 1 : 0, ...key, ...msg])), record(new Uint8Array(d))];
    }),
  );
  writeFileSync(join(OUT, 'int8_fc.hex'), int8FcVectorHex(0xfc, 6, 12));
  console.log(`wrote ${cobs.length} COBS and ${crcCases.length} CRC cases to ${OUT}`);
}

main();
