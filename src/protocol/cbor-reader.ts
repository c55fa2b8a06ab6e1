/**
 * The strict single-pass CBOR reader of the subset (SPEC §4): checks well-formedness, the subset
 * and determinism in the same pass that builds the value (what a hardware parser does), reports
 * the byte offset, and never throws anything but ProtocolError. Why it is not cbor-x.decode:
 * see cbor-subset.ts.
 */
import { protocolError } from './error-codes.js';
import { wellFormedError } from './cbor-well-formed.js';
import type { ProtocolError } from '../errors.js';
import { ALLOWED_TAGS, CborMap, CborTagged, MAX_DEPTH, TAG_WIDTH, type CborValue } from './cbor-value.js';

class Reader {
  pos: number;
  constructor(
    readonly b: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
}

function malformed(r: Reader, what: string): ProtocolError {
  return protocolError('msg.cbor', { reason: `malformed CBOR at body offset ${r.pos}: ${what}`, details: { offset: r.pos } });
}

function outside(r: Reader, what: string, at = r.pos): ProtocolError {
  return protocolError('msg.non_deterministic', {
    reason: `CBOR outside the deterministic subset at body offset ${at}: ${what}`,
    details: { offset: at },
  });
}

/** Reads the argument of a head whose first byte is at r.pos-1; checks the shortest form. */
function readArg(r: Reader, ai: number, headAt: number): number {
  const b = r.b;
  if (ai < 24) return ai;
  switch (ai) {
    case 24: {
      if (r.pos + 1 > r.end) throw malformed(r, 'truncated head');
      const v = b[r.pos++]!;
      if (v < 24) throw outside(r, `non-shortest argument ${v}`, headAt);
      return v;
    }
    case 25: {
      if (r.pos + 2 > r.end) throw malformed(r, 'truncated head');
      const v = (b[r.pos]! << 8) | b[r.pos + 1]!;
      r.pos += 2;
      if (v < 0x100) throw outside(r, `non-shortest argument ${v}`, headAt);
      return v;
    }
    case 26: {
      if (r.pos + 4 > r.end) throw malformed(r, 'truncated head');
      const v = ((b[r.pos]! << 24) | (b[r.pos + 1]! << 16) | (b[r.pos + 2]! << 8) | b[r.pos + 3]!) >>> 0;
      r.pos += 4;
      if (v < 0x10000) throw outside(r, `non-shortest argument ${v}`, headAt);
      return v;
    }
    case 27: {
      if (r.pos + 8 > r.end) throw malformed(r, 'truncated head');
      const hi = ((b[r.pos]! << 24) | (b[r.pos + 1]! << 16) | (b[r.pos + 2]! << 8) | b[r.pos + 3]!) >>> 0;
      const lo = ((b[r.pos + 4]! << 24) | (b[r.pos + 5]! << 16) | (b[r.pos + 6]! << 8) | b[r.pos + 7]!) >>> 0;
      r.pos += 8;
      if (hi === 0) throw outside(r, `non-shortest argument ${lo}`, headAt);
      // Values above 2^53-1 cannot be represented exactly in JS; the subset excludes them (SPEC §4).
      if (hi >= 0x200000) throw outside(r, 'integer or length above 2^53-1', headAt);
      return hi * 0x100000000 + lo;
    }
    case 31:
      throw outside(r, 'indefinite length', headAt);
    default:
      r.pos = headAt;
      throw malformed(r, `reserved additional information ${ai}`);
  }
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function readText(r: Reader, len: number): string {
  const b = r.b;
  const start = r.pos;
  const end = start + len;
  if (len > 64) {
    r.pos = end;
    try {
      return fatalUtf8.decode(b.subarray(start, end));
    } catch {
      r.pos = start;
      throw malformed(r, 'text string is not valid UTF-8');
    }
  }
  // Short strings (ids, names, versions) dominate: decode by hand, validating as we go.
  let s = '';
  let i = start;
  while (i < end) {
    const c = b[i]!;
    if (c < 0x80) {
      s += String.fromCharCode(c);
      i++;
      continue;
    }
    let cp: number;
    let n: number;
    let min: number;
    if ((c & 0xe0) === 0xc0) [cp, n, min] = [c & 0x1f, 1, 0x80];
    else if ((c & 0xf0) === 0xe0) [cp, n, min] = [c & 0x0f, 2, 0x800];
    else if ((c & 0xf8) === 0xf0) [cp, n, min] = [c & 0x07, 3, 0x10000];
    else {
      r.pos = i;
      throw malformed(r, 'text string is not valid UTF-8');
    }
    if (i + n >= end) {
      r.pos = i;
      throw malformed(r, 'text string is not valid UTF-8');
    }
    for (let k = 1; k <= n; k++) {
      const cc = b[i + k]!;
      if ((cc & 0xc0) !== 0x80) {
        r.pos = i;
        throw malformed(r, 'text string is not valid UTF-8');
      }
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      r.pos = i;
      throw malformed(r, 'text string is not valid UTF-8');
    }
    s += String.fromCodePoint(cp);
    i += n + 1;
  }
  r.pos = end;
  return s;
}

function readItem(r: Reader, depth: number): CborValue {
  if (r.pos >= r.end) throw malformed(r, 'truncated: item expected');
  const headAt = r.pos;
  const ib = r.b[r.pos++]!;
  const major = ib >> 5;
  const ai = ib & 0x1f;
  // RFC 8949 §3.4.2: AI 31 on an integer or a tag is not well-formed (an indefinite length, AI 31
  // on majors 2-5, is well-formed and only outside the subset).
  if (ai === 31 && (major <= 1 || major === 6)) {
    r.pos = headAt;
    throw malformed(r, `additional information 31 on major type ${major}`);
  }
  switch (major) {
    case 0:
      return readArg(r, ai, headAt);
    case 1: {
      const n = readArg(r, ai, headAt);
      if (n >= Number.MAX_SAFE_INTEGER) throw outside(r, 'integer below -(2^53-1)', headAt);
      return -1 - n;
    }
    case 2: {
      const len = readArg(r, ai, headAt);
      if (len > r.end - r.pos) throw malformed(r, `byte string of ${len} bytes runs past the end`);
      const v = r.b.subarray(r.pos, r.pos + len);
      r.pos += len;
      return v;
    }
    case 3: {
      const len = readArg(r, ai, headAt);
      if (len > r.end - r.pos) throw malformed(r, `text string of ${len} bytes runs past the end`);
      return readText(r, len);
    }
    case 4: {
      const n = readArg(r, ai, headAt);
      if (depth >= MAX_DEPTH) throw outside(r, `nesting deeper than ${MAX_DEPTH}`, headAt);
      // Every item is at least one byte: a count larger than what is left is malformed, and
      // checking it first stops a 5-byte head from making us allocate a huge array.
      if (n > r.end - r.pos) throw malformed(r, `array of ${n} items runs past the end`);
      const a: CborValue[] = new Array(n);
      for (let i = 0; i < n; i++) a[i] = readItem(r, depth + 1);
      return a;
    }
    case 5: {
      const n = readArg(r, ai, headAt);
      if (depth >= MAX_DEPTH) throw outside(r, `nesting deeper than ${MAX_DEPTH}`, headAt);
      if (n * 2 > r.end - r.pos) throw malformed(r, `map of ${n} pairs runs past the end`);
      const m = new CborMap();
      let last = -1;
      for (let i = 0; i < n; i++) {
        const keyAt = r.pos;
        if (r.pos >= r.end) throw malformed(r, 'truncated: map key expected');
        const kb = r.b[r.pos]!;
        if (kb > 23) {
          // Well-formed keys of another kind are outside the subset; check well-formedness first
          // so a truncated key still reports msg.cbor.
          readItem(r, depth + 1);
          throw outside(r, 'map key is not an unsigned integer 0..23', keyAt);
        }
        r.pos++;
        if (kb <= last) throw outside(r, kb === last ? `duplicate map key ${kb}` : `map keys not in increasing order (${kb} after ${last})`, keyAt);
        last = kb;
        m.v[kb] = readItem(r, depth + 1);
      }
      return m;
    }
    case 6: {
      const tag = readArg(r, ai, headAt);
      if (!ALLOWED_TAGS.has(tag)) {
        throw outside(r, `tag ${tag} is not allowed (only RFC 8746 typed-array tags on tensor data)`, headAt);
      }
      if (depth >= MAX_DEPTH) throw outside(r, `nesting deeper than ${MAX_DEPTH}`, headAt);
      const contentAt = r.pos;
      const content = readItem(r, depth + 1);
      if (!(content instanceof Uint8Array)) throw outside(r, `tag ${tag} must enclose a byte string`, contentAt);
      const width = TAG_WIDTH[tag]!;
      if (content.length % width !== 0) {
        throw outside(r, `tag ${tag} encloses ${content.length} bytes, not a multiple of its ${width}-byte element`, contentAt);
      }
      return new CborTagged(tag, content);
    }
    default: {
      // major 7
      if (ai === 20) return false;
      if (ai === 21) return true;
      if (ai === 24) {
        if (r.pos >= r.end) throw malformed(r, 'truncated simple value');
        const v = r.b[r.pos++]!;
        if (v < 32) {
          r.pos = headAt;
          throw malformed(r, `two-byte simple value ${v} < 32`);
        }
        throw outside(r, `simple value ${v}`, headAt);
      }
      if (ai === 25 || ai === 26 || ai === 27) {
        const size = ai === 25 ? 2 : ai === 26 ? 4 : 8;
        if (r.pos + size > r.end) throw malformed(r, 'truncated float');
        throw outside(r, 'floating-point number (use an integer in fixed units)', headAt);
      }
      if (ai === 31) {
        r.pos = headAt;
        throw malformed(r, 'break code outside an indefinite-length item');
      }
      if (ai >= 28) {
        r.pos = headAt;
        throw malformed(r, `reserved additional information ${ai}`);
      }
      throw outside(r, ai === 22 ? 'null (omit absent fields instead)' : ai === 23 ? 'undefined' : `simple value ${ai}`, headAt);
    }
  }
}

/**
 * Decode exactly one data item spanning `bytes[start, end)`. Throws ProtocolError `msg.cbor`
 * (malformed, trailing bytes) or `msg.non_deterministic` (outside the subset); nothing else.
 *
 * SPEC §4 precedence: a malformation anywhere in the body wins over a subset violation anywhere.
 * The single pass stops at the first problem it meets, so when that is a subset violation the
 * rest of the body is scanned for well-formedness (cbor-well-formed.ts) before 112 is reported.
 */
export function decodeCbor(bytes: Uint8Array, start = 0, end = bytes.length): CborValue {
  const r = new Reader(bytes, start, end);
  try {
    const v = readItem(r, 0);
    if (r.pos !== end) throw malformed(r, `${end - r.pos} trailing bytes after the item`);
    return v;
  } catch (e) {
    if ((e as ProtocolError).code === 'msg.non_deterministic') throw wellFormedError(bytes, start, end) ?? e;
    throw e;
  }
}

/**
 * Read (and check) the one item at `bytes[pos, end)` nested `depth` deep, and return the position
 * after it: how the compiled readers (messages/compiled-reader.ts) pass over the value of a key
 * their schema does not know while still holding it to the subset. Throws like decodeCbor.
 */
export function skipItem(bytes: Uint8Array, pos: number, end: number, depth: number): number {
  const r = new Reader(bytes, pos, end);
  readItem(r, depth);
  return r.pos;
}
