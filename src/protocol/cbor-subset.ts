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
 * Decoding is a strict single-pass reader (cbor-reader.ts) instead of `cbor-x.decode`, for two reasons:
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
import { CborMap, CborTagged, type CborValue } from './cbor-value.js';

export { ALLOWED_TAGS, CborMap, CborTagged, MAX_DEPTH, type CborValue } from './cbor-value.js';
export { decodeCbor } from './cbor-reader.js';


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
