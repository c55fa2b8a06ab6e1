/**
 * fast-check arbitraries built from the message catalogue itself, so every field of every message
 * type is exercised and a new field is covered the moment it is added to the schema.
 */
import fc from 'fast-check';
import { SCHEMAS } from '../../src/protocol/messages/catalogue.js';
import type { TypeSpec } from '../../src/protocol/messages/schema.js';
import { DTYPES, type Tensor } from '../../src/protocol/tensor.js';
import type { Message } from '../../src/protocol/index.js';

const utf8Len = (s: string) => Buffer.byteLength(s, 'utf8');

function text(spec: { minBytes?: number; maxBytes?: number; pattern?: RegExp }): fc.Arbitrary<string> {
  if (spec.pattern) {
    return fc.stringMatching(spec.pattern).filter((s) => utf8Len(s) >= (spec.minBytes ?? 0) && utf8Len(s) <= (spec.maxBytes ?? Infinity));
  }
  const max = spec.maxBytes ?? 40;
  return fc
    .string({ unit: fc.oneof(fc.constantFrom('a', 'Z', '0', '-', ' '), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: Math.min(max, 40) })
    .filter((s) => utf8Len(s) >= (spec.minBytes ?? 0) && utf8Len(s) <= max);
}

const tensorArb: fc.Arbitrary<Tensor> = fc
  .record({
    name: fc.string({ maxLength: 8 }),
    d: fc.constantFrom(...DTYPES),
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
  })
  .chain(({ name, d, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return fc.uint8Array({ minLength: n * d.bytes, maxLength: n * d.bytes }).map((data) => ({ name, dtype: d.dtype, shape, data }));
  });

export function arbFor(spec: TypeSpec): fc.Arbitrary<unknown> {
  switch (spec.t) {
    case 'uint':
      return fc.oneof(
        fc.integer({ min: spec.min ?? 0, max: Math.min(spec.max ?? Number.MAX_SAFE_INTEGER, 2 ** 31) }),
        fc.constantFrom(spec.min ?? 0, spec.max ?? Number.MAX_SAFE_INTEGER, Math.min(spec.max ?? 2 ** 40, 2 ** 40)),
      );
    case 'int':
      return fc.oneof(fc.integer(), fc.constantFrom(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, -24, -25, -256, -257));
    case 'tstr':
      return text(spec);
    case 'bstr':
      return spec.size !== undefined
        ? fc.uint8Array({ minLength: spec.size, maxLength: spec.size })
        : fc.uint8Array({ maxLength: Math.min(spec.maxBytes ?? 300, 300) });
    case 'bool':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...spec.values);
    case 'array':
      return fc.array(arbFor(spec.of), { minLength: spec.min ?? 0, maxLength: Math.min(spec.max ?? 3, 3) });
    case 'range':
      return fc
        .tuple(fc.integer({ min: spec.of.min ?? 0, max: spec.of.max ?? 255 }), fc.integer({ min: spec.of.min ?? 0, max: spec.of.max ?? 255 }))
        .map(([a, b]) => (a <= b ? [a, b] : [b, a]));
    case 'map': {
      const rec: Record<string, fc.Arbitrary<unknown>> = {};
      const required: string[] = [];
      for (const f of spec.fields) {
        rec[f.name] = arbFor(f.type);
        if (f.required) required.push(f.name);
      }
      const record = fc.record(rec, { requiredKeys: required });
      const lt = spec.lessThan;
      if (!lt) return record;
      // a cross-field rule (PLACEMENT pipeline index < count): swap the pair into order
      return record.map((r) => {
        const o = r as Record<string, unknown>;
        const [a, b] = [o[lt[0]], o[lt[1]]];
        if (typeof a !== 'number' || typeof b !== 'number' || a < b) return r;
        return { ...o, [lt[0]]: Math.min(a, b - 1 < 0 ? 0 : b - 1), [lt[1]]: Math.max(b, a + 1) };
      });
    }
    case 'tensor':
      return tensorArb;
  }
}

export const messageArb: fc.Arbitrary<Message> = fc.oneof(
  ...[...SCHEMAS.values()].map((s) => arbFor(s.body).map((fields) => ({ type: s.name, ...(fields as object) }) as Message)),
);

export function messageArbOf(name: string): fc.Arbitrary<Message> {
  const s = [...SCHEMAS.values()].find((x) => x.name === name)!;
  return arbFor(s.body).map((fields) => ({ type: s.name, ...(fields as object) }) as Message);
}
