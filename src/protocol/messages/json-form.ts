/**
 * The JSON form of a message used by protocol/vectors and CLI output: the TypeScript message with
 * every byte string (and tensor data) written as lowercase hex. Schema-driven, so a text field
 * that happens to look like hex stays text.
 */
import { protocolError } from '../error-codes.js';
import { SCHEMAS } from './catalogue.js';
import type { TypeSpec } from './schema.js';
import { MessageType, type Message } from './types.js';

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function fromHex(s: string, field = 'hex'): Uint8Array {
  if (typeof s !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(s)) {
    throw protocolError('msg.schema', { reason: `${field} must be an even-length hex string`, field });
  }
  return new Uint8Array(Buffer.from(s, 'hex'));
}

function walk(spec: TypeSpec, v: unknown, bytes: (b: unknown, path: string) => unknown, path: string): unknown {
  if (v === undefined || v === null) return v;
  switch (spec.t) {
    case 'bstr':
      return bytes(v, path);
    case 'array':
      return Array.isArray(v) ? v.map((x, i) => walk(spec.of, x, bytes, `${path}[${i}]`)) : v;
    case 'map': {
      if (typeof v !== 'object') return v;
      const src = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const f of spec.fields) {
        if (src[f.name] !== undefined) out[f.name] = walk(f.type, src[f.name], bytes, path ? `${path}.${f.name}` : f.name);
      }
      return out;
    }
    case 'tensor': {
      if (typeof v !== 'object') return v;
      const t = v as Record<string, unknown>;
      return { name: t.name, dtype: t.dtype, shape: t.shape, data: bytes(t.data, `${path}.data`) };
    }
    default:
      return v;
  }
}

function schemaOf(type: unknown) {
  const n = (MessageType as Record<string, number>)[type as string];
  const s = n === undefined ? undefined : SCHEMAS.get(n);
  if (!s) throw protocolError('msg.unknown_type', { reason: `unknown message type ${JSON.stringify(type)}`, field: 'type' });
  return s;
}

/** Message -> JSON-safe object (byte strings as hex). */
export function messageToJson(msg: Message): Record<string, unknown> {
  const s = schemaOf(msg.type);
  return { type: msg.type, ...(walk(s.body, msg, (b) => (b instanceof Uint8Array ? toHex(b) : b), '') as object) };
}

/** JSON form -> Message (hex back to bytes). Does not validate ranges: encodeMessage does. */
export function messageFromJson(json: Record<string, unknown>): Message {
  const s = schemaOf(json.type);
  return { type: s.name, ...(walk(s.body, json, (h, p) => fromHex(h as string, p), '') as object) } as Message;
}
