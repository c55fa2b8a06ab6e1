/**
 * Validating decode baselines for bench/codec (issue 22): bare cbor-x does no validation, so the
 * codec's decode is also compared with
 *  - cbor-x + an obvious schema check: decode to a Map, then walk the catalogue's TypeSpec over
 *    it, checking kinds, ranges and sizes and building the TypeScript object (the way one would
 *    write it by hand: a recursive switch, no compilation);
 *  - cbor-x + a compiled validator: decode to plain objects, then an ajv validator compiled once
 *    from a JSON Schema generated from the same catalogue entry (byte strings through a custom
 *    keyword, since JSON Schema has no bytes type).
 * Neither checks determinism, the CBOR subset, COBS or a CRC: they are floors, not equivalents.
 */
import { Ajv } from 'ajv';
import { Decoder } from 'cbor-x';
import type { TypeSpec } from '../src/protocol/messages/schema.js';

const toMaps = new Decoder({ useRecords: false, mapsAsObjects: false } as ConstructorParameters<typeof Decoder>[0]);
const toObjects = new Decoder({ useRecords: false, mapsAsObjects: true } as ConstructorParameters<typeof Decoder>[0]);

class Invalid extends Error {}
const fail = (what: string): never => {
  throw new Invalid(what);
};

function check(spec: TypeSpec, v: unknown): unknown {
  switch (spec.t) {
    case 'uint':
    case 'int':
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < (spec.min ?? (spec.t === 'uint' ? 0 : -Infinity)) || v > (spec.max ?? Infinity)) fail('int');
      return v;
    case 'tstr':
      if (typeof v !== 'string' || Buffer.byteLength(v) > (spec.maxBytes ?? Infinity) || Buffer.byteLength(v) < (spec.minBytes ?? 0) || (spec.pattern && !spec.pattern.test(v))) fail('tstr');
      return v;
    case 'bstr':
      if (!(v instanceof Uint8Array) || (spec.size !== undefined && v.length !== spec.size) || v.length > (spec.maxBytes ?? Infinity)) fail('bstr');
      return v;
    case 'bool':
      if (typeof v !== 'boolean') fail('bool');
      return v;
    case 'enum':
      if (typeof v !== 'number' || !(v in spec.values)) fail('enum');
      return spec.values[v as number];
    case 'array':
      if (!Array.isArray(v) || v.length < (spec.min ?? 0) || v.length > (spec.max ?? Infinity)) fail('array');
      return (v as unknown[]).map((x) => check(spec.of, x));
    case 'range':
      if (!Array.isArray(v) || v.length !== 2) fail('range');
      return (v as unknown[]).map((x) => check(spec.of, x));
    case 'map': {
      if (!(v instanceof Map)) return fail('map');
      const out: Record<string, unknown> = {};
      for (const f of spec.fields) {
        const x = v.get(f.key);
        if (x === undefined) {
          if (f.required) fail(`${f.name} missing`);
          continue;
        }
        out[f.name] = check(f.type, x);
      }
      return out;
    }
    case 'tensor':
      if (!(v instanceof Map)) fail('tensor');
      return v;
  }
}

/** cbor-x to Maps, then the obvious recursive schema check building the message. */
export function obviousDecoder(body: TypeSpec & { t: 'map' }): (bytes: Uint8Array) => unknown {
  return (bytes) => check(body, toMaps.decode(bytes));
}

function jsonSchema(spec: TypeSpec): Record<string, unknown> {
  switch (spec.t) {
    case 'uint':
    case 'int':
      return { type: 'integer', ...(spec.min !== undefined || spec.t === 'uint' ? { minimum: spec.min ?? 0 } : {}), ...(spec.max !== undefined ? { maximum: spec.max } : {}) };
    case 'tstr':
      return { type: 'string', ...(spec.maxBytes !== undefined ? { maxLength: spec.maxBytes } : {}), ...(spec.minBytes ? { minLength: spec.minBytes } : {}), ...(spec.pattern ? { pattern: spec.pattern.source } : {}) };
    case 'bstr':
      return { bytes: { size: spec.size, maxBytes: spec.maxBytes } };
    case 'bool':
      return { type: 'boolean' };
    case 'enum':
      return { type: 'integer', minimum: 0, maximum: spec.values.length - 1 };
    case 'array':
      return { type: 'array', items: jsonSchema(spec.of), ...(spec.min !== undefined ? { minItems: spec.min } : {}), ...(spec.max !== undefined ? { maxItems: spec.max } : {}) };
    case 'range':
      return { type: 'array', items: jsonSchema(spec.of), minItems: 2, maxItems: 2 };
    case 'map':
      return {
        type: 'object',
        properties: Object.fromEntries(spec.fields.map((f) => [String(f.key), jsonSchema(f.type)])),
        required: spec.fields.filter((f) => f.required).map((f) => String(f.key)),
      };
    case 'tensor':
      return { type: 'object' };
  }
}

/** cbor-x to plain objects, then an ajv validator compiled from the catalogue entry. */
export function ajvDecoder(body: TypeSpec & { t: 'map' }): (bytes: Uint8Array) => unknown {
  const ajv = new Ajv({ allErrors: false, strict: false });
  ajv.addKeyword({
    keyword: 'bytes',
    validate: (s: { size?: number; maxBytes?: number }, v: unknown) => v instanceof Uint8Array && (s.size === undefined || v.length === s.size) && v.length <= (s.maxBytes ?? Infinity),
  });
  const validate = ajv.compile(jsonSchema(body));
  return (bytes) => {
    const v = toObjects.decode(bytes);
    if (!validate(v)) fail('ajv');
    return v;
  };
}
