/** Message bodies: TypeScript message <-> deterministic CBOR bytes, validated both ways. */
import { copyBytes } from '../bytes.js';
import { protocolError } from '../error-codes.js';
import { decodeCbor, encodeCborXView } from '../cbor-subset.js';
import { SCHEMAS } from './catalogue.js';
import { decodeWith, encodeWith } from './schema.js';
import { MessageType, type Message } from './types.js';

function schemaFor(msg: Message) {
  const type = (MessageType as Record<string, number>)[(msg as { type?: unknown })?.type as string];
  const schema = type === undefined ? undefined : SCHEMAS.get(type);
  if (!schema) {
    throw protocolError('msg.unknown_type', {
      reason: `cannot encode message of type ${JSON.stringify((msg as { type?: unknown })?.type)}`,
      hint: `type must be one of ${Object.keys(MessageType).join(', ')}`,
      field: 'type',
    });
  }
  return schema;
}

/**
 * The body as a view into cbor-x's scratch buffer: valid until the next encode. `encodeFrame`
 * copies it straight into the frame, saving one copy per frame.
 */
export function encodeMessageView(msg: Message): Uint8Array {
  const schema = schemaFor(msg);
  return encodeCborXView(encodeWith(schema.body, msg, ''));
}

/** Deterministic CBOR body of `msg`. Throws ProtocolError msg.schema (with `field`) on bad input. */
export function encodeMessage(msg: Message): Uint8Array {
  return copyBytes(encodeMessageView(msg));
}

/**
 * Decode and validate a body of message type `type`. Byte strings in the result are views into
 * `body` (no copy); keep `body` alive and unmodified while you use them.
 */
export function decodeMessage(type: number, body: Uint8Array, start = 0, end = body.length): Message {
  const schema = SCHEMAS.get(type);
  if (!schema) {
    throw protocolError('msg.unknown_type', {
      reason: `message type 0x${type.toString(16).padStart(2, '0')} is not defined in protocol v1`,
      details: { type },
    });
  }
  if (!(body instanceof Uint8Array)) throw protocolError('msg.cbor', { reason: 'decodeMessage needs the body as a Uint8Array' });
  const value = decodeCbor(body, start, end);
  return decodeWith(schema.body, value, '', '', { type: schema.name }) as Message;
}
