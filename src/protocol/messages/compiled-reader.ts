/**
 * Per-message compiled readers: for every schema of the catalogue, a reader built once (at module
 * load, from the same TypeSpec tree `decodeWith` walks) that reads the body's bytes straight into
 * the TypeScript message, checking well-formedness, the deterministic subset and the schema as it
 * goes, with no intermediate CborMap/array values and no per-field switch on the spec.
 *
 * It is a fast path only, and it only ever answers "here is the message" or "not me": on anything
 * unexpected (a wrong major type, a non-shortest head, a missing field, trailing bytes, a bad
 * UTF-8 sequence...) it throws the NOT_ME sentinel and decodeMessage runs the reference path
 * (decodeCbor + decodeWith), which reports the one error SPEC §4's precedence picks (malformed
 * anywhere, then outside the subset anywhere, then the schema). So the error codes, fields and
 * offsets a receiver reports are the reference path's by construction; what this file must get
 * right is that it accepts nothing the reference rejects and builds the same message for what it
 * accepts (test/protocol/compiled-reader-matches-the-reference.test.ts, and `npm run fuzz`).
 *
 * Values of keys the schema does not know (or a later protocol version added) are skipped with
 * the strict generic reader, so they are still checked for well-formedness and the subset.
 */
import { skipItem } from '../cbor-reader.js';
import { ALLOWED_TAGS, MAX_DEPTH, TAG_WIDTH } from '../cbor-value.js';
import { DTYPE_BY_TAG, type Tensor } from '../tensor.js';
import { PROTOCOL_MAX } from '../constants.js';
import type { FieldSpec, TypeSpec } from './schema.js';
import { TENSOR_NAME_MAX } from './schema.js';

/** Thrown (never allocated per call) when the fast path declines; the caller runs the reference path. */
export const NOT_ME: unique symbol = Symbol('compiled-reader: not me');

/** The one read cursor: decoding is synchronous and not re-entrant, so it is shared. */
const EMPTY = new Uint8Array(0);
const r: { b: Uint8Array; pos: number; end: number; version: number } = { b: EMPTY, pos: 0, end: 0, version: PROTOCOL_MAX };

type Read = (depth: number) => unknown;

/** The argument of a head whose initial byte `ib` was just read: shortest form or NOT_ME. */
function arg(ib: number): number {
  const ai = ib & 0x1f;
  if (ai < 24) return ai;
  const b = r.b;
  const p = r.pos;
  if (ai === 24) {
    if (p + 1 > r.end) throw NOT_ME;
    const v = b[p]!;
    if (v < 24) throw NOT_ME;
    r.pos = p + 1;
    return v;
  }
  if (ai === 25) {
    if (p + 2 > r.end) throw NOT_ME;
    const v = (b[p]! << 8) | b[p + 1]!;
    if (v < 0x100) throw NOT_ME;
    r.pos = p + 2;
    return v;
  }
  if (ai === 26) {
    if (p + 4 > r.end) throw NOT_ME;
    const v = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    if (v < 0x10000) throw NOT_ME;
    r.pos = p + 4;
    return v;
  }
  if (ai === 27) {
    if (p + 8 > r.end) throw NOT_ME;
    const hi = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    const lo = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
    // hi 0 is a non-shortest head; 2^53 and above is outside the subset (SPEC §4)
    if (hi === 0 || hi >= 0x200000) throw NOT_ME;
    r.pos = p + 8;
    return hi * 0x100000000 + lo;
  }
  throw NOT_ME; // 28..31: reserved or indefinite
}

/** The initial byte of the next item, which must be of major type `major`. */
function head(major: number): number {
  if (r.pos >= r.end) throw NOT_ME;
  const ib = r.b[r.pos]!;
  if (ib >> 5 !== major) throw NOT_ME;
  r.pos++;
  return ib;
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A text string's bytes [pos, pos + len): ASCII by hand, anything else through the fatal decoder. */
function text(len: number): string {
  const b = r.b;
  const start = r.pos;
  const end = start + len;
  let s = '';
  if (len <= 64) {
    for (let i = start; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) {
        s = '';
        break;
      }
      s += String.fromCharCode(c);
    }
    if (s.length === len) {
      r.pos = end;
      return s;
    }
  }
  try {
    s = fatalUtf8.decode(b.subarray(start, end));
  } catch {
    throw NOT_ME;
  }
  r.pos = end;
  return s;
}

function compileInt(spec: { t: 'uint' | 'int'; min?: number; max?: number }): Read {
  const min = spec.min ?? (spec.t === 'uint' ? 0 : -Number.MAX_SAFE_INTEGER);
  const max = spec.max ?? Number.MAX_SAFE_INTEGER;
  const signed = spec.t === 'int';
  return () => {
    if (r.pos >= r.end) throw NOT_ME;
    const ib = r.b[r.pos++]!;
    const major = ib >> 5;
    let v: number;
    if (major === 0) v = arg(ib);
    else if (major === 1 && signed) {
      const n = arg(ib);
      if (n >= Number.MAX_SAFE_INTEGER) throw NOT_ME;
      v = -1 - n;
    } else throw NOT_ME;
    if (v < min || v > max) throw NOT_ME;
    return v;
  };
}

function compileText(spec: { minBytes?: number; maxBytes?: number; pattern?: RegExp }): Read {
  const minBytes = spec.minBytes ?? 0;
  const maxBytes = spec.maxBytes ?? Infinity;
  const pattern = spec.pattern;
  return () => {
    const len = arg(head(3));
    if (len > r.end - r.pos || len < minBytes || len > maxBytes) throw NOT_ME;
    const s = text(len);
    if (pattern && !pattern.test(s)) throw NOT_ME;
    return s;
  };
}

function compileBytes(spec: { size?: number; maxBytes?: number }): Read {
  const size = spec.size;
  const maxBytes = spec.maxBytes ?? Infinity;
  return () => {
    const len = arg(head(2));
    if (len > r.end - r.pos || len > maxBytes || (size !== undefined && len !== size)) throw NOT_ME;
    const v = r.b.subarray(r.pos, r.pos + len);
    r.pos += len;
    return v;
  };
}

function readBool(): boolean {
  if (r.pos >= r.end) throw NOT_ME;
  const ib = r.b[r.pos]!;
  if (ib !== 0xf4 && ib !== 0xf5) throw NOT_ME;
  r.pos++;
  return ib === 0xf5;
}

function compileEnum(values: readonly string[]): Read {
  return () => {
    const v = arg(head(0));
    if (v >= values.length) throw NOT_ME;
    return values[v]!;
  };
}

/** Count of an array head at `depth` (the generic reader's depth and size checks). */
function arrayHead(depth: number): number {
  const n = arg(head(4));
  if (depth >= MAX_DEPTH || n > r.end - r.pos) throw NOT_ME;
  return n;
}

function compileArray(spec: { of: TypeSpec; min?: number; max?: number }): Read {
  const item = compile(spec.of);
  const min = spec.min ?? 0;
  const max = spec.max ?? Infinity;
  return (depth) => {
    const n = arrayHead(depth);
    if (n < min || n > max) throw NOT_ME;
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = item(depth + 1);
    return out;
  };
}

function compileRange(spec: { of: TypeSpec & { t: 'uint' } }): Read {
  const bound = compileInt(spec.of);
  return (depth) => {
    if (arrayHead(depth) !== 2) throw NOT_ME;
    const lo = bound(depth + 1) as number;
    const hi = bound(depth + 1) as number;
    if (lo > hi) throw NOT_ME;
    return [lo, hi];
  };
}

/** Pairs of a map head at `depth` (the generic reader's depth and size checks). */
function mapHead(depth: number): number {
  const n = arg(head(5));
  if (depth >= MAX_DEPTH || n * 2 > r.end - r.pos) throw NOT_ME;
  return n;
}

/** The next map key: an unsigned integer 0..23 above `last` (one byte, SPEC §4). */
function mapKey(last: number): number {
  if (r.pos >= r.end) throw NOT_ME;
  const k = r.b[r.pos]!;
  if (k > 23 || k <= last) throw NOT_ME;
  r.pos++;
  return k;
}

function skip(depth: number): void {
  try {
    r.pos = skipItem(r.b, r.pos, r.end, depth);
  } catch {
    throw NOT_ME;
  }
}

/** A map reader: `into` (the body's `{ type }`) is filled in field order, as decodeWith does. */
type MapRead = (depth: number, into?: Record<string, unknown>) => Record<string, unknown>;

function compileMap(fields: readonly FieldSpec[], lessThan?: readonly [string, string]): MapRead {
  const byKey: Array<{ name: string; read: Read; since: number } | undefined> = new Array(24).fill(undefined);
  for (const f of fields) byKey[f.key] = { name: f.name, read: compile(f.type), since: f.since ?? 1 };
  // The required keys, per protocol version (a required field is never `since` a later version).
  const required = fields.filter((f) => f.required).reduce((m, f) => m | (1 << f.key), 0);
  return (depth, into) => {
    const out: Record<string, unknown> = into ?? {};
    const version = r.version;
    let got = 0;
    const n = mapHead(depth);
    for (let i = 0, k = -1; i < n; i++) {
      k = mapKey(k);
      const f = byKey[k];
      if (f === undefined || f.since > version) {
        skip(depth + 1);
        continue;
      }
      got |= 1 << k;
      out[f.name] = f.read(depth + 1);
    }
    if ((got & required) !== required) throw NOT_ME;
    // Properties were set in wire order, which is key order, which is field order (catalogue.ts
    // checks the fields are declared in increasing key order): the same object decodeWith builds.
    if (lessThan) {
      const x = out[lessThan[0]];
      const y = out[lessThan[1]];
      if (typeof x === 'number' && typeof y === 'number' && !(x < y)) throw NOT_ME;
    }
    return out;
  };
}

const tensorName = compileText({ maxBytes: TENSOR_NAME_MAX });
const shapeDim = compileInt({ t: 'uint' });

function readTensor(depth: number): Tensor {
  let name: string | undefined;
  let shape: number[] | undefined;
  let data: Uint8Array | undefined;
  let tag = 0;
  const pairs = mapHead(depth);
  for (let i = 0, k = -1; i < pairs; i++) {
    k = mapKey(k);
    if (k === 0) name = tensorName(depth + 1) as string;
    else if (k === 1) {
      const n = arrayHead(depth + 1);
      shape = new Array<number>(n);
      for (let i = 0; i < n; i++) shape[i] = shapeDim(depth + 2) as number;
    } else if (k === 2) {
      tag = arg(head(6));
      if (!ALLOWED_TAGS.has(tag) || depth + 1 >= MAX_DEPTH) throw NOT_ME;
      const len = arg(head(2));
      if (len > r.end - r.pos || len % TAG_WIDTH[tag]! !== 0) throw NOT_ME;
      data = r.b.subarray(r.pos, r.pos + len);
      r.pos += len;
    } else skip(depth + 1);
  }
  if (name === undefined || shape === undefined || data === undefined) throw NOT_ME;
  const info = DTYPE_BY_TAG.get(tag)!;
  let count = 1;
  for (const d of shape) count *= d;
  if (count * info.bytes !== data.length) throw NOT_ME;
  return { name, dtype: info.dtype, shape, data };
}

function compile(spec: TypeSpec): Read {
  switch (spec.t) {
    case 'uint':
    case 'int':
      return compileInt(spec);
    case 'tstr':
      return compileText(spec);
    case 'bstr':
      return compileBytes(spec);
    case 'bool':
      return readBool;
    case 'enum':
      return compileEnum(spec.values);
    case 'array':
      return compileArray(spec);
    case 'range':
      return compileRange(spec);
    case 'map':
      return compileMap(spec.fields, spec.lessThan);
    case 'tensor':
      return readTensor;
  }
}

/** A body reader for `body` (a message's top-level map spec), built once per message type. */
export function compileBodyReader(body: TypeSpec & { t: 'map' }): (bytes: Uint8Array, start: number, end: number, version: number, into: Record<string, unknown>) => Record<string, unknown> {
  const read = compileMap(body.fields, body.lessThan);
  return (bytes, start, end, version, into) => {
    r.b = bytes;
    r.pos = start;
    r.end = end;
    r.version = version;
    try {
      const out = read(0, into);
      if (r.pos !== end) throw NOT_ME;
      return out;
    } finally {
      r.b = EMPTY; // do not keep the last frame alive
    }
  };
}
