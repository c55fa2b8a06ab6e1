/**
 * The CBOR subset of SPEC §4: core deterministic encoding, integer map keys 0..23, no floats, no
 * null/undefined, definite lengths, only RFC 8746 typed-array tags on byte strings.
 *
 * Message bodies are written by `CborWriter` (below), driven by the message schema: shortest-form
 * heads, definite lengths, keys in increasing order. Generic values (`encodeCbor`) go through
 * cbor-x, configured so it cannot leave the subset: no records extension, no implicit tags
 * (`tagUint8Array: false`), maps written as `Map`s whose keys are inserted in increasing order, so
 * its shortest-form output is the deterministic encoding. Tests hold the writer to cbor-x's bytes.
 *
 * Decoding is a strict single-pass reader instead of `cbor-x.decode`, for two reasons:
 *  1. cbor-x accepts non-canonical input and turns tag 64 into the same Uint8Array as an untagged
 *     byte string, so "decode, re-encode, compare" cannot tell a tagged uint8 tensor from a plain
 *     nonce; the reader keeps tags explicit.
 *  2. It checks well-formedness, the subset and determinism in the same pass that builds the value
 *     (what a hardware parser does), reports the byte offset, and never throws anything but
 *     ProtocolError. Tests cross-check it against cbor-x: whatever it accepts, cbor-x decodes and
 *     re-encodes to the identical bytes (test/protocol/cbor-subset-matches-cbor-x.test.ts).
 */
import { Encoder, Tag } from 'cbor-x';
import { protocolError } from './error-codes.js';
import { wellFormedError } from './cbor-well-formed.js';
import type { ProtocolError } from '../errors.js';

/** A CBOR map of the subset: keys are 0..23, so a sparse array indexed by key is enough. */
export class CborMap {
  readonly v: (CborValue | undefined)[] = [];
  get(key: number): CborValue | undefined {
    return this.v[key];
  }
  set(key: number, value: CborValue): this {
    this.v[key] = value;
    return this;
  }
  keys(): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.v.length; k++) if (this.v[k] !== undefined) out.push(k);
    return out;
  }
}

/** A tagged byte string (only RFC 8746 typed-array tags are in the subset). */
export class CborTagged {
  constructor(
    readonly tag: number,
    readonly value: Uint8Array,
  ) {}
}

export type CborValue = number | string | boolean | Uint8Array | CborValue[] | CborMap | CborTagged;

/** RFC 8746 little-endian typed-array tags plus uint8 (64) and int8 (72). */
export const ALLOWED_TAGS: ReadonlySet<number> = new Set([64, 69, 70, 72, 77, 78, 79, 85, 86]);
/** Element size of each allowed tag (RFC 8746 §2.1: the byte string is a whole number of elements). */
const TAG_WIDTH: Record<number, number> = { 64: 1, 69: 2, 70: 4, 72: 1, 77: 2, 78: 4, 79: 8, 85: 4, 86: 8 };
/** Deepest nesting of arrays/maps/tags a receiver must accept (SPEC §4). */
export const MAX_DEPTH = 8;

const encoder = new Encoder({
  useRecords: false,
  tagUint8Array: false,
  mapsAsObjects: false,
  useTag259ForMaps: false,
  variableMapSize: true,
  pack: false,
  structuredClone: false,
  bundleStrings: false,
} as ConstructorParameters<typeof Encoder>[0]);

/**
 * cbor-x writes integers outside the 32-bit range as float64 (it picks the shorter of the two for
 * numbers); as a BigInt they get the 8-byte integer head, which is the shortest integer form.
 */
export function cborInt(v: number): number | bigint {
  return v > 0xffffffff || v < -0x100000000 ? BigInt(v) : v;
}

function toCborX(v: CborValue): unknown {
  if (typeof v === 'number') return cborInt(v);
  if (v instanceof CborMap) {
    const m = new Map<number, unknown>();
    for (let k = 0; k < v.v.length; k++) {
      const e = v.v[k];
      if (e !== undefined) m.set(k, toCborX(e));
    }
    return m;
  }
  if (v instanceof CborTagged) return new Tag(plainBytes(v.value), v.tag);
  if (Array.isArray(v)) return v.map(toCborX);
  if (v instanceof Uint8Array) return plainBytes(v);
  return v;
}

/** cbor-x picks tags by constructor: a Buffer (or any subclass) must reach it as a plain Uint8Array. */
function plainBytes(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Deterministic encoding of a subset value. The result is a fresh copy (cbor-x reuses its buffer).
 * The caller guarantees the value is in the subset (the message schemas do).
 */
export function encodeCbor(v: CborValue): Uint8Array {
  return new Uint8Array(encodeCborXView(toCborX(v)));
}

/**
 * cbor-x's RESET_BUFFER_MODE (encode.js; not re-exported by its index): after the call the encoder
 * writes the next item at the same place again. By default it moves on through its 8 KiB buffer
 * and allocates a fresh one whenever less than 2 KiB is left, i.e. every few 1 KiB deploy chunks;
 * our views are copied before the next encode anyway.
 */
const RESET_BUFFER_MODE = 1024;

/**
 * Encode straight from a cbor-x-ready value (Maps with sorted keys); returns a view of cbor-x's
 * buffer, valid until the next encode.
 */
export function encodeCborXView(v: unknown): Uint8Array {
  try {
    return (encoder.encode as (value: unknown, mode: number) => Uint8Array)(v, RESET_BUFFER_MODE);
  } catch (e) {
    // Unreachable for schema-validated input; if cbor-x ever throws, callers still get our type.
    throw protocolError('internal', { reason: `CBOR encoder failed: ${String((e as Error)?.message ?? e)}`, cause: e });
  }
}

export { Tag as CborXTag };

// ---------------------------------------------------------------------------------------------
// Writer

const utf8Encoder = new TextEncoder();

/**
 * Writes deterministic CBOR heads and items into a growable buffer. Message bodies are written
 * with it straight from the schema (messages/schema.ts `writeWith`) into the frame buffer, instead
 * of building Maps for cbor-x and copying its output: for the small, many-field messages that
 * dominate traffic that was most of the encode cost. Every head is in its shortest form, so the
 * bytes are the ones cbor-x gives for the same value (tests compare the two on random messages).
 */
export class CborWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(size = 1024) {
    this.buf = new Uint8Array(size);
  }

  /** Make room for `n` more bytes (contents up to `pos` are kept). */
  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.pos + n, this.buf.length * 2));
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b;
  }

  /** A head of major type `major` with argument `n` (a safe integer >= 0), shortest form. */
  head(major: number, n: number): void {
    // one-byte heads (map keys, small counts and integers) are most of them
    if (n < 24 && this.pos < this.buf.length) {
      this.buf[this.pos++] = (major << 5) | n;
      return;
    }
    this.room(9);
    const b = this.buf;
    const mt = major << 5;
    let p = this.pos;
    if (n < 24) b[p++] = mt | n;
    else if (n < 0x100) {
      b[p++] = mt | 24;
      b[p++] = n;
    } else if (n < 0x10000) {
      b[p++] = mt | 25;
      b[p++] = n >>> 8;
      b[p++] = n & 0xff;
    } else if (n < 0x100000000) {
      b[p++] = mt | 26;
      b[p++] = n >>> 24;
      b[p++] = (n >>> 16) & 0xff;
      b[p++] = (n >>> 8) & 0xff;
      b[p++] = n & 0xff;
    } else {
      const hi = Math.floor(n / 0x100000000);
      const lo = n >>> 0;
      b[p++] = mt | 27;
      b[p++] = hi >>> 24;
      b[p++] = (hi >>> 16) & 0xff;
      b[p++] = (hi >>> 8) & 0xff;
      b[p++] = hi & 0xff;
      b[p++] = lo >>> 24;
      b[p++] = (lo >>> 16) & 0xff;
      b[p++] = (lo >>> 8) & 0xff;
      b[p++] = lo & 0xff;
    }
    this.pos = p;
  }

  /** A safe integer (major 0 or 1). */
  int(v: number): void {
    if (v >= 0) this.head(0, v);
    else this.head(1, -1 - v);
  }

  bool(v: boolean): void {
    this.room(1);
    this.buf[this.pos++] = v ? 0xf5 : 0xf4;
  }

  /** A byte string (major 2); a tag head before it makes it a typed array. */
  bytes(v: Uint8Array): void {
    const n = v.length;
    this.head(2, n);
    this.room(n);
    if (n > 32) this.buf.set(v, this.pos);
    else for (let i = 0; i < n; i++) this.buf[this.pos + i] = v[i]!;
    this.pos += n;
  }

  /** A text string (major 3). The caller has checked that `v` is well-formed UTF-16. */
  text(v: string): void {
    const n = v.length;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (v.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (!ascii) {
      this.bytesOf(3, utf8Encoder.encode(v));
      return;
    }
    this.head(3, n);
    this.room(n);
    const b = this.buf;
    const p = this.pos;
    for (let i = 0; i < n; i++) b[p + i] = v.charCodeAt(i);
    this.pos = p + n;
  }

  private bytesOf(major: number, v: Uint8Array): void {
    this.head(major, v.length);
    this.room(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }
}

// ---------------------------------------------------------------------------------------------
// Strict reader

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
