/**
 * Codec fuzzer (`npm run fuzz`, not part of `npm test`). Feeds at least 1,000,000 cases through the
 * receive path and fails on anything that is not a ProtocolError:
 *   random    random bytes + delimiter
 *   mutated   a valid frame with 1-4 byte mutations (flip, set, insert, delete, truncate)
 *   body      a valid frame whose CBOR body is mutated and whose len and CRC are then fixed up,
 *             so the case reaches the CBOR reader and the schema instead of stopping at the CRC
 *   value     a valid body whose decoded map gets one value replaced (wrong kind, out of range,
 *             nested) or an unknown key added, re-encoded deterministically, len and CRC fixed:
 *             this is what reaches the schema checks
 *   stream    several frames and noise split into random chunks through one FrameDecoder
 * Every frame that decodes must re-encode (validation is the same in both directions).
 *
 *   npm run fuzz                 # 1,000,000 cases, seed 1
 *   npm run fuzz -- 5000000 42   # cases, seed
 */
import { ProtocolError } from '../src/errors.js';
import {
  FrameDecoder,
  buildFrame,
  cobsDecode,
  cobsEncode,
  crc32c,
  encodeFrame,
  encodeMessage,
  messageFromJson,
  type Frame,
  type Message,
} from '../src/protocol/index.js';
import { readFileSync } from 'node:fs';
import { CborMap, decodeCbor, encodeCbor, type CborValue } from '../src/protocol/cbor-subset.js';

const total = Number(process.argv[2] ?? 1_000_000);
let seed = Number(process.argv[3] ?? 1) >>> 0 || 1;
if (!Number.isInteger(total) || total < 1) {
  console.error('usage: fuzz-codec [cases>=1] [seed]');
  process.exit(2);
}

// xorshift32: fast and reproducible from the printed seed
function rnd(): number {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed;
}
const below = (n: number) => rnd() % n;

const valid = JSON.parse(readFileSync(new URL('../protocol/vectors/valid.json', import.meta.url), 'utf8')).vectors as Array<{
  message: Record<string, unknown>;
  frame_hex: string;
  wire_hex: string;
}>;
const corpusMsgs: Message[] = valid.map((v) => messageFromJson(v.message));
const corpusFrames = valid.map((v) => new Uint8Array(Buffer.from(v.frame_hex, 'hex')));

const tally = new Map<string, number>();
const count = (k: string) => tally.set(k, (tally.get(k) ?? 0) + 1);
let cases = 0;
let frames = 0;
const MAXF = 65535;

function check(out: Array<Frame | ProtocolError>): void {
  for (const o of out) {
    if (o instanceof ProtocolError) {
      count(o.code);
    } else if (o && typeof o === 'object' && 'message' in o) {
      frames++;
      count('ok');
      encodeMessage(o.message); // throws (and fails the run) if a decoded message is not valid
    } else {
      throw new Error(`decoder yielded neither Frame nor ProtocolError: ${String(o)}`);
    }
  }
}

function withDelimiter(b: Uint8Array): Uint8Array {
  const w = new Uint8Array(b.length + 1);
  w.set(b);
  return w;
}

function mutate(b: Uint8Array, n: number): Uint8Array {
  let a = Array.from(b);
  for (let i = 0; i < n; i++) {
    const at = a.length ? below(a.length) : 0;
    switch (below(5)) {
      case 0:
        if (a.length) a[at] = a[at]! ^ (1 << below(8));
        break;
      case 1:
        if (a.length) a[at] = below(256);
        break;
      case 2:
        a.splice(at, 0, below(256));
        break;
      case 3:
        a.splice(at, 1);
        break;
      default:
        a = a.slice(0, at);
    }
  }
  return new Uint8Array(a);
}

function fixFrame(f: Uint8Array): Uint8Array {
  // keep the header, set len to the (mutated) body length, recompute the CRC
  const body = f.subarray(9, f.length - 4);
  return buildFrame(f[1]!, f[2]! & 3, (f[3]! << 8) | f[4]!, (f[5]! << 8) | f[6]!, body);
}

const started = process.hrtime.bigint();
const byKind = { random: 0, mutated: 0, body: 0, value: 0, stream: 0 };
const REPLACEMENTS: CborValue[] = [0, 1, -1, 1000, 1001, 65535, 65536, 2 ** 32, 2 ** 53 - 1, '', 'x', 'bad id!', 'a'.repeat(70), new Uint8Array(0), new Uint8Array(16), new Uint8Array(33), true, false, [], [1, 2], new CborMap()];

/** Replace one value somewhere in the tree (depth-first at a random path). */
function replaceSomewhere(v: CborValue): CborValue {
  if (v instanceof CborMap) {
    const keys = v.keys();
    if (!keys.length || below(4) === 0) return v.set(below(24), REPLACEMENTS[below(REPLACEMENTS.length)]!);
    const k = keys[below(keys.length)]!;
    return v.set(k, below(3) ? replaceSomewhere(v.get(k)!) : REPLACEMENTS[below(REPLACEMENTS.length)]!);
  }
  if (Array.isArray(v)) {
    if (!v.length) return [REPLACEMENTS[below(REPLACEMENTS.length)]!];
    const i = below(v.length);
    v[i] = below(2) ? replaceSomewhere(v[i]!) : REPLACEMENTS[below(REPLACEMENTS.length)]!;
    return v;
  }
  return REPLACEMENTS[below(REPLACEMENTS.length)]!;
}
const decoder = new FrameDecoder({ maxFrame: MAXF });
try {
  while (cases < total) {
    const kind = below(10);
    if (kind < 3) {
      const len = below(80);
      const b = new Uint8Array(len);
      for (let i = 0; i < len; i++) b[i] = below(256);
      check(decoder.push(withDelimiter(b)));
      // a stray unterminated tail must not leak into the next case
      decoder.push(new Uint8Array([0]));
      byKind.random++;
    } else if (kind < 5) {
      const f = corpusFrames[below(corpusFrames.length)]!;
      const w = cobsEncode(mutate(f, 1 + below(4)));
      check(new FrameDecoder({ maxFrame: [64, 512, MAXF][below(3)]! }).push(withDelimiter(w)));
      byKind.mutated++;
    } else if (kind < 7) {
      const f = corpusFrames[below(corpusFrames.length)]!;
      const value = replaceSomewhere(decodeCbor(f.slice(9, f.length - 4)));
      const body = encodeCbor(value);
      const fixed = buildFrame(f[1]!, f[2]!, (f[3]! << 8) | f[4]!, (f[5]! << 8) | f[6]!, body);
      check(decoder.push(withDelimiter(cobsEncode(fixed))));
      byKind.value++;
    } else if (kind < 9) {
      const f = corpusFrames[below(corpusFrames.length)]!;
      const body = mutate(f.subarray(9, f.length - 4), 1 + below(3));
      const fixed = fixFrame(new Uint8Array([...f.subarray(0, 9), ...body, 0, 0, 0, 0]));
      if (below(4) === 0) {
        // also corrupt a header byte (version, type, flags or len) under a valid CRC
        fixed[[0, 1, 2, 7, 8][below(5)]!] = below(256);
        new DataView(fixed.buffer).setUint32(fixed.length - 4, crc32c(fixed, 0, 0, fixed.length - 4), true);
      }
      check(decoder.push(withDelimiter(cobsEncode(fixed))));
      byKind.body++;
    } else {
      const parts: Uint8Array[] = [];
      const n = 1 + below(4);
      for (let i = 0; i < n; i++) {
        const m = corpusMsgs[below(corpusMsgs.length)]!;
        parts.push(encodeFrame(m, { seq: below(65536), maxFrame: MAXF }));
        if (below(2)) {
          const noise = new Uint8Array(below(20));
          for (let k = 0; k < noise.length; k++) noise[k] = below(256);
          parts.push(noise);
        }
      }
      const all = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
      let o = 0;
      for (const p of parts) {
        all.set(p, o);
        o += p.length;
      }
      const d = new FrameDecoder({ maxFrame: MAXF });
      let at = 0;
      while (at < all.length) {
        const step = 1 + below(64);
        check(d.push(all.subarray(at, at + step)));
        at += step;
      }
      check(d.push(new Uint8Array([0])));
      byKind.stream++;
    }
    cases++;
  }
} catch (e) {
  console.error(`FAIL after ${cases} cases (seed ${process.argv[3] ?? 1}): ${e instanceof Error ? e.stack : String(e)}`);
  process.exit(1);
}
const secs = Number(process.hrtime.bigint() - started) / 1e9;

// cobsDecode is exported on its own too: it must also only throw frame.cobs
for (let i = 0; i < 100_000; i++) {
  const b = new Uint8Array(below(40));
  for (let k = 0; k < b.length; k++) b[k] = below(256);
  try {
    cobsDecode(b);
  } catch (e) {
    if (!(e instanceof ProtocolError) || e.code !== 'frame.cobs') {
      console.error('FAIL: cobsDecode threw', e);
      process.exit(1);
    }
  }
}

console.log(`fuzz-codec: ${cases.toLocaleString('en-US')} cases in ${secs.toFixed(1)} s (${Math.round(cases / secs).toLocaleString('en-US')}/s), seed ${process.argv[3] ?? 1}`);
console.log(`  by kind: random ${byKind.random}, mutated ${byKind.mutated}, body-mutated (CRC fixed) ${byKind.body}, value-replaced (CRC fixed) ${byKind.value}, split streams ${byKind.stream}`);
console.log(`  frames decoded and re-encoded: ${frames}`);
console.log('  outcomes:');
for (const [k, v] of [...tally.entries()].sort((a, b) => b[1] - a[1])) console.log(`    ${k.padEnd(24)} ${String(v).padStart(9)}`);
console.log('  non-ProtocolError exceptions: 0');
