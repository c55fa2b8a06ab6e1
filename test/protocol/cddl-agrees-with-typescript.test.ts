/**
 * protocol/epara.cddl is written by hand; src/protocol's catalogue is code. These tests keep them
 * honest with each other: the same keys, names and presence for every map, the same enumeration
 * names, and the same verdict on real bodies (vectors, generated messages, and mutations of them).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { SCHEMAS } from '../../src/protocol/messages/catalogue.js';
import type { FieldSpec, TypeSpec } from '../../src/protocol/messages/schema.js';
import { CborMap, decodeCbor, encodeCbor } from '../../src/protocol/cbor-subset.js';
import { cobsDecode } from '../../src/protocol/cobs.js';
import { MessageType, ProtocolError, decodeMessage, encodeMessage } from '../../src/protocol/index.js';
import { CddlValidator, parseCddl, type CType, type Member } from './cddl-subset.js';
import { messageArb } from './arbitraries.js';

const src = readFileSync(new URL('../../protocol/epara.cddl', import.meta.url), 'utf8');
const rules = parseCddl(src);
const cddl = new CddlValidator(rules);
const ruleName = (msgName: string) => msgName.toLowerCase().replace(/_/g, '-');
const vectors = (f: string) => JSON.parse(readFileSync(new URL(`../../protocol/vectors/${f}`, import.meta.url), 'utf8')).vectors;

function resolve(t: CType): CType {
  while (t.k === 'ref' && rules.has(t.name)) t = rules.get(t.name)!;
  return t;
}

/** Compare one schema map against one CDDL map: keys, names, presence, nested maps and enums. */
function compareMap(path: string, fields: readonly FieldSpec[], members: Member[], problems: string[]): void {
  const keyed = members.filter((m) => m.key !== undefined);
  if (!members.some((m) => m.keyType)) problems.push(`${path}: no '* uint => any' (unknown keys must be allowed)`);
  const byKey = new Map(keyed.map((m) => [m.key!, m]));
  for (const f of fields) {
    const m = byKey.get(f.key);
    if (!m) {
      problems.push(`${path}: key ${f.key} (${f.name}) missing in CDDL`);
      continue;
    }
    if (m.comment !== f.name) problems.push(`${path}: key ${f.key} is ${f.name} in TS, '${m.comment}' in CDDL`);
    if (f.required !== (m.occur === '')) problems.push(`${path}.${f.name}: required=${f.required} in TS, occurrence '${m.occur}' in CDDL`);
    compareType(`${path}.${f.name}`, f.type, m.type, problems);
  }
  for (const m of keyed) if (!fields.some((f) => f.key === m.key)) problems.push(`${path}: CDDL key ${m.key} (${m.comment}) not in TS`);
}

function compareType(path: string, spec: TypeSpec, t: CType, problems: string[]): void {
  const r = resolve(t);
  switch (spec.t) {
    case 'map':
      if (r.k !== 'map') problems.push(`${path}: map in TS, ${r.k} in CDDL`);
      else compareMap(path, spec.fields, r.members, problems);
      break;
    case 'array':
      if (r.k !== 'array' || r.members.length !== 1) problems.push(`${path}: array in TS, ${r.k} in CDDL`);
      else {
        const occur = r.members[0]!.occur;
        if ((spec.min ?? 0) >= 1 ? occur !== '+' : occur !== '*') problems.push(`${path}: array min ${spec.min ?? 0} vs occurrence ${occur}`);
        if ((spec.max ?? Infinity) !== (r.members[0]!.max ?? Infinity)) problems.push(`${path}: array max ${spec.max} in TS, ${r.members[0]!.max} in CDDL`);
        compareType(`${path}[]`, spec.of, r.members[0]!.type, problems);
      }
      break;
    case 'enum':
      if (r.k !== 'enum') problems.push(`${path}: enum in TS, ${r.k} in CDDL`);
      else {
        const cddlNames = r.values.map((v, i) => [v, r.names[i]] as const).sort((a, b) => a[0] - b[0]).map(([, n]) => n);
        if (JSON.stringify(cddlNames) !== JSON.stringify(spec.values)) problems.push(`${path}: enum ${spec.values} vs ${cddlNames}`);
      }
      break;
    case 'tensor':
      if (!(t.k === 'ref' && t.name === 'tensor')) problems.push(`${path}: tensor in TS, not the tensor rule in CDDL`);
      break;
    default:
      break; // scalar types are checked by validating real values below
  }
}

describe('protocol/epara.cddl', () => {
  it('parses, and has a rule for every message type plus message-body listing them all', () => {
    const body = rules.get('message-body')!;
    expect(body.k).toBe('choice');
    const listed = (body as { of: CType[] }).of.map((t) => (t as { name: string }).name);
    expect(new Set(listed)).toEqual(new Set(Object.keys(MessageType).map(ruleName)));
    for (const n of listed) expect(rules.has(n), n).toBe(true);
  });

  it('has the same keys, names, presence, nesting and enumerations as the TypeScript schemas', () => {
    const problems: string[] = [];
    for (const s of SCHEMAS.values()) {
      const r = resolve({ k: 'ref', name: ruleName(s.name) });
      if (r.k !== 'map') problems.push(`${s.name}: not a map`);
      else compareMap(s.name, s.body.fields, r.members, problems);
    }
    const tensor = resolve({ k: 'ref', name: 'tensor' });
    expect(tensor.k === 'map' && tensor.members.filter((m) => m.key !== undefined).map((m) => `${m.key}:${m.comment}`)).toEqual(['0:name', '1:shape', '2:data']);
    expect(problems).toEqual([]);
  });

  it('accepts every valid vector body', () => {
    for (const v of vectors('valid.json')) {
      const body = decodeCbor(new Uint8Array(Buffer.from(v.body_hex, 'hex')));
      expect(cddl.check(ruleName(v.type), body), v.name).toBeUndefined();
    }
  });

  it('rejects the bodies of the msg.schema invalid vectors', () => {
    let n = 0;
    for (const v of vectors('invalid.json').filter((x: { expect: string }) => x.expect === 'msg.schema')) {
      const wire = Buffer.from(v.wire_hex, 'hex');
      const frame = cobsDecode(new Uint8Array(wire.subarray(0, wire.length - 1)));
      const type = frame[1]!;
      const body = decodeCbor(frame, 9, frame.length - 4);
      const name = ruleName([...SCHEMAS.values()].find((s) => s.type === type)!.name);
      // Tensor data length vs shape is a cross-field rule CDDL cannot express.
      if (v.name === 'schema-tensor-length') continue;
      expect(cddl.check(name, body), v.name).toBeDefined();
      n++;
    }
    expect(n).toBeGreaterThan(8);
  });

  it('gives the same verdict as the codec on generated messages and on mutations of them', () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(messageArb, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (msg, mutAt, extraKey, byte, mutate) => {
        const type = MessageType[msg.type];
        const rule = ruleName(msg.type);
        let bytes = encodeMessage(msg);
        // every generated message validates against the CDDL
        expect(cddl.check(rule, decodeCbor(bytes))).toBeUndefined();
        if (mutate) {
          bytes = bytes.slice();
          bytes[mutAt % bytes.length] = byte;
        } else {
          // swap one value for another of a different kind, or add an unknown key
          const m = decodeCbor(bytes) as CborMap;
          const keys = m.keys();
          const k = keys[extraKey % keys.length]!;
          const replacement = [0, -1, 'x', new Uint8Array(3), true, [], new CborMap(), 1001, 70000][byte % 9]!;
          if (extraKey % 5 === 0) m.set(23, replacement);
          else m.set(k, replacement);
          bytes = encodeCbor(m);
        }
        let value;
        try {
          value = decodeCbor(bytes);
        } catch {
          return; // not CBOR in the subset: neither schema applies
        }
        let tsOk = true;
        let tsErr: ProtocolError | undefined;
        try {
          decodeMessage(type, bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
          tsOk = false;
          tsErr = e as ProtocolError;
        }
        const cddlErr = cddl.check(rule, value);
        // Cross-field rules only TS can check: proto min <= max, tensor length = product(shape),
        // a pipeline stage's index < count (protocol 2; the CDDL says so in a comment).
        const crossField = tsErr && (/min <= max/.test(tsErr.reason) || /product\(shape\)/.test(tsErr.reason) || /must be less than count/.test(tsErr.reason));
        if (!crossField) expect(cddlErr === undefined, `TS ${tsOk ? 'accepted' : `rejected (${tsErr?.field}: ${tsErr?.reason})`}, CDDL ${cddlErr ?? 'accepted'}`).toBe(tsOk);
        if (tsOk) accepted++;
        else rejected++;
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });
});
