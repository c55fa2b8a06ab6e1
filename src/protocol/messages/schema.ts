/**
 * A small schema language for the message catalogue, and the two walkers driven by it:
 *  - `decodeWith`: a strictly-read CBOR value -> the TypeScript message, checking presence,
 *    types, ranges, sizes and patterns, and naming the offending field (`caps.memoryKiB`).
 *  - `encodeWith`: a TypeScript message -> the value handed to cbor-x (Maps with keys in order),
 *    with the same checks, so a sender cannot put a malformed message on the wire.
 * Unknown keys are ignored on decode (SPEC §4 forward compatibility); unknown properties are not
 * sent on encode.
 */
import { Tag } from 'cbor-x';
import { protocolError } from '../error-codes.js';
import { CborMap, CborTagged, CborWriter, cborInt, type CborValue } from '../cbor-subset.js';
import { DTYPE_BY_NAME, DTYPE_BY_TAG, type Tensor } from '../tensor.js';
import { PROTOCOL_MAX } from '../constants.js';

export type TypeSpec =
  | { t: 'uint'; min?: number; max?: number }
  | { t: 'int'; min?: number; max?: number }
  | { t: 'tstr'; minBytes?: number; maxBytes?: number; pattern?: RegExp }
  | { t: 'bstr'; size?: number; maxBytes?: number }
  | { t: 'bool' }
  /** A uint on the wire, the string at that index in TypeScript. */
  | { t: 'enum'; values: readonly string[] }
  | { t: 'array'; of: TypeSpec; min?: number; max?: number }
  /** A two-element array [a, b] with a <= b (protocol version range). */
  | { t: 'range'; of: TypeSpec & { t: 'uint' } }
  /** `lessThan`: [a, b] means field a < field b when both are present (PLACEMENT pipeline index < count). */
  | { t: 'map'; fields: readonly FieldSpec[]; lessThan?: readonly [string, string] }
  | { t: 'tensor' };

export interface FieldSpec {
  key: number;
  name: string;
  type: TypeSpec;
  required: boolean;
  /**
   * The protocol version that defined the field (absent: 1). In a session of an older version it
   * is an unknown key: never written, and ignored when read (SPEC §8). Only optional fields can
   * be added this way.
   */
  since?: number;
}

/** Whether field `f` exists in protocol version `version`. */
const inVersion = (f: FieldSpec, version: number) => f.since === undefined || f.since <= version;

export const U32_MAX = 0xffffffff;
/** Longest tensor name (UTF-8 bytes, SPEC §4.1). */
export const TENSOR_NAME_MAX = 128;
const TENSOR_NAME = { maxBytes: TENSOR_NAME_MAX };

/** Paths are only built when an error needs one: `parent` plus a property name or an array index. */
function join(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (key === '') return parent;
  return parent ? `${parent}.${key}` : key;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? `integer ${v}` : `number ${v}`;
  if (typeof v === 'string') return `text string "${v.length > 24 ? v.slice(0, 24) + '…' : v}"`;
  if (typeof v === 'boolean') return `boolean ${v}`;
  if (v instanceof CborTagged) return `tag ${v.tag}`;
  if (v instanceof Uint8Array) return `byte string of ${v.length} bytes`;
  if (Array.isArray(v)) return `array of ${v.length}`;
  if (v instanceof CborMap || v instanceof Map) return 'map';
  if (typeof v === 'bigint') return `bigint ${v}`;
  return typeof v;
}

function bad(field: string, expected: string, got: unknown, hint?: string): never {
  // The body itself (path '') has no field name: SPEC §4 says its ERROR carries no `field`.
  if (field === '') {
    throw protocolError('msg.schema', {
      reason: `the body must be ${expected}, got ${describe(got)}`,
      hint: hint ?? 'every body is one CBOR map (protocol/SPEC.md §4)',
    });
  }
  throw protocolError('msg.schema', {
    reason: `${field} must be ${expected}, got ${describe(got)}`,
    hint: hint ?? `see ${field.split(/[.[]/, 1)[0]} in protocol/SPEC.md §5 and protocol/epara.cddl`,
    field,
  });
}

/**
 * The value field `f` of `src` sends in a session of `version`: undefined when it is absent or
 * newer than the session (a required field absent is a schema error).
 */
function sentValue(f: FieldSpec, src: Record<string, unknown>, path: string, version: number): unknown {
  const fv = src[f.name];
  if (fv === undefined || !inVersion(f, version)) {
    if (f.required) bad(join(path, f.name), 'present (required)', undefined);
    return undefined;
  }
  return fv;
}

function rangeText(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return ` in ${min}..${max}`;
  if (min !== undefined) return ` >= ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return '';
}

const utf8 = new TextEncoder();
function utf8Length(s: string): number {
  // Fast path: ASCII strings are the norm.
  const n = s.length;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return utf8.encode(s).length;
  return n;
}

function checkInt(spec: { t: 'uint' | 'int'; min?: number; max?: number }, v: unknown, parent: string, key: string | number): number {
  const min = spec.min ?? (spec.t === 'uint' ? 0 : -Number.MAX_SAFE_INTEGER);
  const max = spec.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    const what = spec.t === 'uint' ? 'an unsigned integer' : 'an integer';
    bad(join(parent, key), what + rangeText(spec.min, spec.max), v);
  }
  return v;
}

function checkText(spec: { minBytes?: number; maxBytes?: number; pattern?: RegExp }, v: unknown, parent: string, key: string | number): string {
  if (typeof v !== 'string') return bad(join(parent, key), 'a text string', v);
  if (spec.minBytes !== undefined || spec.maxBytes !== undefined) {
    const n = utf8Length(v);
    if ((spec.minBytes !== undefined && n < spec.minBytes) || (spec.maxBytes !== undefined && n > spec.maxBytes)) {
      bad(join(parent, key), `a text string of${rangeText(spec.minBytes, spec.maxBytes)} UTF-8 bytes`, v);
    }
  }
  if (spec.pattern && !spec.pattern.test(v)) bad(join(parent, key), `a text string matching ${spec.pattern.source}`, v);
  return v;
}

function checkBytes(spec: { size?: number; maxBytes?: number }, v: unknown, parent: string, key: string | number): Uint8Array {
  if (!(v instanceof Uint8Array)) return bad(join(parent, key), 'a byte string', v);
  if (spec.size !== undefined && v.length !== spec.size) bad(join(parent, key), `exactly ${spec.size} bytes`, v);
  if (spec.maxBytes !== undefined && v.length > spec.maxBytes) bad(join(parent, key), `at most ${spec.maxBytes} bytes`, v);
  return v;
}

function tensorBytesCheck(path: string, dtype: string, bytes: number, shape: number[], len: number): void {
  let n = 1;
  for (const d of shape) n *= d;
  if (n * bytes !== len) {
    bad(
      `${path}.data`,
      `${n * bytes} bytes for ${dtype}[${shape.join(', ')}] (product(shape) x ${bytes})`,
      { length: len } as unknown,
      'data length must equal product(shape) times the element size (SPEC §4.1)',
    );
  }
}

const UINT: TypeSpec & { t: 'uint' } = { t: 'uint' };

// Checks shared by the three walkers below (decodeWith, encodeWith, writeWith), so a field is
// judged, and its error worded, the same way whichever direction the bytes go.

function checkArray(spec: { min?: number; max?: number }, v: unknown, parent: string, key: string | number): unknown[] {
  if (!Array.isArray(v)) return bad(join(parent, key), 'an array', v);
  if ((spec.min !== undefined && v.length < spec.min) || (spec.max !== undefined && v.length > spec.max)) {
    bad(join(parent, key), `an array of${rangeText(spec.min, spec.max)} items`, v);
  }
  return v;
}

function checkRange(spec: { of: { t: 'uint' | 'int'; min?: number; max?: number } }, v: unknown, parent: string, key: string | number): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) return bad(join(parent, key), 'an array [min, max]', v);
  const path = join(parent, key);
  const lo = checkInt(spec.of, v[0], path, 0);
  const hi = checkInt(spec.of, v[1], path, 1);
  if (lo > hi) bad(path, 'a range [min, max] with min <= max', v);
  return [lo, hi];
}

/** The wire index of a TypeScript enum string. */
function enumIndex(spec: { values: readonly string[] }, v: unknown, parent: string, key: string | number): number {
  const i = typeof v === 'string' ? spec.values.indexOf(v) : -1;
  if (i < 0) bad(join(parent, key), `one of ${spec.values.map((s) => `'${s}'`).join(', ')}`, v);
  return i;
}

function checkObject(v: unknown, parent: string, key: string | number): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return bad(join(parent, key), 'an object', v);
  return v as Record<string, unknown>;
}

/** A TypeScript Tensor checked for sending; `wellFormedName` adds the writer's UTF-8 check right after the name. */
function checkTensorOut(v: unknown, path: string, wellFormedName: boolean) {
  if (typeof v !== 'object' || v === null) return bad(path, 'a tensor { name, dtype, shape, data }', v);
  const t = v as Partial<Tensor>;
  const name = checkText(TENSOR_NAME, t.name, path, 'name');
  if (wellFormedName) checkWellFormed(name, path, 'name');
  const info = DTYPE_BY_NAME.get(t.dtype as string);
  if (!info) return bad(`${path}.dtype`, `one of ${[...DTYPE_BY_NAME.keys()].join(', ')}`, t.dtype);
  if (!Array.isArray(t.shape)) bad(`${path}.shape`, 'an array of unsigned integers', t.shape);
  const shape = t.shape!.map((d, i) => checkInt(UINT, d, `${path}.shape`, i));
  const data = checkBytes({}, t.data, path, 'data');
  tensorBytesCheck(path, info.dtype, info.bytes, shape, data.length);
  return { name, info, shape, data };
}

function checkLessThan([a, b]: readonly [string, string], v: Record<string, unknown>, path: string): void {
  const x = v[a];
  const y = v[b];
  if (typeof x === 'number' && typeof y === 'number' && !(x < y)) bad(join(path, a), `less than ${b} (${y})`, x);
}

/** Lone UTF-16 surrogates have no UTF-8 form; the receiver's strict reader would reject them. */
function checkWellFormed(s: string, parent: string, key: string | number): void {
  if ((s as { isWellFormed?: () => boolean }).isWellFormed?.() === false) {
    bad(join(parent, key), 'a well-formed text string (no lone UTF-16 surrogates)', s);
  }
}

// ---------------------------------------------------------------------------------------------
// wire -> TypeScript
//
// `parent` + `key` name the value being checked (`caps` + `memoryKiB`, `services` + 2); the joined
// path string is only built when a check fails or a container is entered.

/** `into`: the object to fill for a map (lets the caller put `type` first without a copy). */
export function decodeWith(spec: TypeSpec, v: CborValue | undefined, parent: string, key: string | number = '', into?: Record<string, unknown>, version = PROTOCOL_MAX): unknown {
  switch (spec.t) {
    case 'uint':
    case 'int':
      return checkInt(spec, v, parent, key);
    case 'tstr':
      return checkText(spec, v, parent, key);
    case 'bstr':
      if (v instanceof CborTagged) bad(join(parent, key), 'an untagged byte string', v);
      return checkBytes(spec, v, parent, key);
    case 'bool':
      if (typeof v !== 'boolean') bad(join(parent, key), 'a boolean', v);
      return v;
    case 'enum': {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= spec.values.length) {
        bad(join(parent, key), `one of ${spec.values.map((s, i) => `${i} (${s})`).join(', ')}`, v);
      }
      return spec.values[v]!;
    }
    case 'array': {
      const items = checkArray(spec, v, parent, key);
      const path = join(parent, key);
      const out = new Array(items.length);
      for (let i = 0; i < items.length; i++) out[i] = decodeWith(spec.of, items[i] as CborValue, path, i, undefined, version);
      return out;
    }
    case 'range': {
      const [lo, hi] = checkRange(spec, v, parent, key);
      return [lo, hi];
    }
    case 'map': {
      if (!(v instanceof CborMap)) return bad(join(parent, key), 'a map', v);
      const path = join(parent, key);
      const out: Record<string, unknown> = into ?? {};
      const fields = spec.fields;
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i]!;
        const fv = v.v[f.key];
        if (fv === undefined || !inVersion(f, version)) {
          if (f.required) bad(join(path, f.name), `present (key ${f.key}, required)`, undefined);
          continue;
        }
        out[f.name] = decodeWith(f.type, fv, path, f.name, undefined, version);
      }
      if (spec.lessThan) checkLessThan(spec.lessThan, out, path);
      return out;
    }
    case 'tensor': {
      const path = join(parent, key);
      if (!(v instanceof CborMap)) return bad(path, 'a tensor map {0: name, 1: shape, 2: data}', v);
      const name = checkText(TENSOR_NAME, v.v[0], path, 'name');
      const shapeV = v.v[1];
      if (!Array.isArray(shapeV)) bad(`${path}.shape`, 'an array of unsigned integers', shapeV);
      const shapeIn = shapeV as CborValue[];
      const shape = new Array<number>(shapeIn.length);
      for (let i = 0; i < shapeIn.length; i++) shape[i] = checkInt(UINT, shapeIn[i], `${path}.shape`, i);
      const data = v.v[2];
      if (!(data instanceof CborTagged)) {
        return bad(`${path}.data`, 'a byte string tagged with an RFC 8746 typed-array tag', data);
      }
      const info = DTYPE_BY_TAG.get(data.tag)!;
      tensorBytesCheck(path, info.dtype, info.bytes, shape, data.value.length);
      const t: Tensor = { name, dtype: info.dtype, shape, data: data.value };
      return t;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// TypeScript -> cbor-x input

export function encodeWith(spec: TypeSpec, v: unknown, parent: string, key: string | number = '', version = PROTOCOL_MAX): unknown {
  switch (spec.t) {
    case 'uint':
    case 'int':
      return cborInt(checkInt(spec, v, parent, key));
    case 'tstr':
      return checkText(spec, v, parent, key);
    case 'bstr': {
      const b = checkBytes(spec, v, parent, key);
      // cbor-x chooses tags by constructor; Buffer must go out as a plain byte string.
      return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    }
    case 'bool':
      if (typeof v !== 'boolean') bad(join(parent, key), 'a boolean', v);
      return v;
    case 'enum': {
      const i = enumIndex(spec, v, parent, key);
      return i;
    }
    case 'array': {
      const items = checkArray(spec, v, parent, key);
      const path = join(parent, key);
      const out = new Array(items.length);
      for (let i = 0; i < items.length; i++) out[i] = encodeWith(spec.of, items[i], path, i, version);
      return out;
    }
    case 'range': {
      const [lo, hi] = checkRange(spec, v, parent, key);
      return [cborInt(lo), cborInt(hi)];
    }
    case 'map': {
      const src = checkObject(v, parent, key);
      const path = join(parent, key);
      const m = new Map<number, unknown>();
      // fields are declared in increasing key order (checked in catalogue.ts), so the Map's
      // insertion order is the deterministic key order.
      const fields = spec.fields;
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i]!;
        const fv = sentValue(f, src, path, version);
        if (fv !== undefined) m.set(f.key, encodeWith(f.type, fv, path, f.name, version));
      }
      if (spec.lessThan) checkLessThan(spec.lessThan, src, path);
      return m;
    }
    case 'tensor': {
      const { name, info, shape, data } = checkTensorOut(v, join(parent, key), false);
      const shapeOut = shape.map(cborInt);
      const plain = data.constructor === Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      return new Map<number, unknown>([
        [0, name],
        [1, shapeOut],
        [2, new Tag(plain, info.tag)],
      ]);
    }
  }
}


// ---------------------------------------------------------------------------------------------
// TypeScript -> CBOR bytes, directly
//
// The same checks, in the same order, as encodeWith, but the value is written as deterministic
// CBOR into `w` instead of being built as Maps for cbor-x: no intermediate objects, and the body
// lands where the caller wants it (encodeFrame: right after the frame header). encodeWith stays
// as the reference the tests compare this against byte for byte.

export function writeWith(spec: TypeSpec, v: unknown, w: CborWriter, parent: string, key: string | number = '', version = PROTOCOL_MAX): void {
  switch (spec.t) {
    case 'uint':
    case 'int':
      w.int(checkInt(spec, v, parent, key));
      return;
    case 'tstr': {
      const s = checkText(spec, v, parent, key);
      checkWellFormed(s, parent, key);
      w.text(s);
      return;
    }
    case 'bstr':
      w.bytes(checkBytes(spec, v, parent, key));
      return;
    case 'bool':
      if (typeof v !== 'boolean') bad(join(parent, key), 'a boolean', v);
      w.bool(v);
      return;
    case 'enum': {
      const i = enumIndex(spec, v, parent, key);
      w.head(0, i);
      return;
    }
    case 'array': {
      const items = checkArray(spec, v, parent, key);
      const path = join(parent, key);
      w.head(4, items.length);
      for (let i = 0; i < items.length; i++) writeWith(spec.of, items[i], w, path, i, version);
      return;
    }
    case 'range': {
      const [lo, hi] = checkRange(spec, v, parent, key);
      w.head(4, 2);
      w.int(lo);
      w.int(hi);
      return;
    }
    case 'map': {
      const src = checkObject(v, parent, key);
      const path = join(parent, key);
      const fields = spec.fields;
      // Keys are 0..23 and unique, so a map has at most 24 entries; up to 23 its head is one
      // byte, reserved here and filled in once we know how many fields are present.
      if (fields.length > 23) throw protocolError('internal', { reason: `schema map ${path || '(body)'} has ${fields.length} fields; the writer handles at most 23` });
      if (spec.lessThan) checkLessThan(spec.lessThan, src, path);
      w.room(1);
      const headAt = w.pos++;
      let count = 0;
      // fields are declared in increasing key order (checked in catalogue.ts): deterministic order.
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i]!;
        const fv = sentValue(f, src, path, version);
        if (fv === undefined) continue;
        w.head(0, f.key);
        writeWith(f.type, fv, w, path, f.name, version);
        count++;
      }
      w.buf[headAt] = 0xa0 | count;
      return;
    }
    case 'tensor': {
      const { name, info, shape, data } = checkTensorOut(v, join(parent, key), true);
      w.room(1);
      w.buf[w.pos++] = 0xa3;
      w.head(0, 0);
      w.text(name);
      w.head(0, 1);
      w.head(4, shape.length);
      for (const d of shape) w.int(d);
      w.head(0, 2);
      w.head(6, info.tag);
      w.bytes(data);
      return;
    }
  }
}
