/** Message bodies: TypeScript message <-> deterministic CBOR bytes, validated both ways. */
import { copyBytes } from '../bytes.js';
import { protocolError } from '../error-codes.js';
import { CborWriter, decodeCbor } from '../cbor-subset.js';
import { SCHEMAS } from './catalogue.js';
import { decodeWith, writeWith } from './schema.js';
import { NOT_ME, compileBodyReader } from './compiled-reader.js';
import { MessageType, type Message } from './types.js';
import { PROTOCOL_MAX } from '../constants.js';

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

// One writer shared by every encode: its buffer only holds the frame being built.
const writer = new CborWriter(1024);
/** Twice the largest frame SPEC §2.2 allows. */
const MAX_KEPT_WRITER_BYTES = 128 * 1024;

/**
 * Validate `msg` and write its body into the shared writer starting at `at` (the bytes before it
 * are left for the caller, e.g. the frame header). The body is `writer.buf[at, writer.pos)`, valid
 * until the next encode.
 */
export function encodeMessageAt(msg: Message, at: number, version = PROTOCOL_MAX): CborWriter {
  const schema = schemaFor(msg);
  // The buffer grows to the largest body encoded; do not keep a huge one after a one-off.
  if (writer.buf.length > MAX_KEPT_WRITER_BYTES) writer.buf = new Uint8Array(1024);
  writer.pos = 0;
  writer.room(at);
  writer.pos = at;
  writeWith(schema.body, msg, writer, '', '', version);
  return writer;
}

/** The body as a view into the shared writer's buffer: valid until the next encode. */
export function encodeMessageView(msg: Message, version = PROTOCOL_MAX): Uint8Array {
  const w = encodeMessageAt(msg, 0, version);
  return w.buf.subarray(0, w.pos);
}

/**
 * Deterministic CBOR body of `msg`. Throws ProtocolError msg.schema (with `field`) on bad input.
 * `version`: the session's protocol version; fields a later version added are left out (SPEC §8).
 */
export function encodeMessage(msg: Message, version = PROTOCOL_MAX): Uint8Array {
  return copyBytes(encodeMessageView(msg, version));
}

/**
 * Decode and validate a body of message type `type`. Byte strings in the result are views into
 * `body` (no copy); keep `body` alive and unmodified while you use them. `version`: the session's
 * protocol version; keys a later version added are unknown keys there, ignored (SPEC §8).
 */
export function decodeMessage(type: number, body: Uint8Array, start = 0, end = body.length, version = PROTOCOL_MAX): Message {
  const schema = SCHEMAS.get(type);
  if (!schema) {
    throw protocolError('msg.unknown_type', {
      reason: `message type 0x${type.toString(16).padStart(2, '0')} is not defined in protocol v1`,
      details: { type },
    });
  }
  if (!(body instanceof Uint8Array)) throw protocolError('msg.cbor', { reason: 'decodeMessage needs the body as a Uint8Array' });
  const fast = READERS[type];
  if (fast !== undefined) {
    try {
      return fast(body, start, end, version, { type: schema.name }) as unknown as Message;
    } catch (e) {
      if (e !== NOT_ME) throw e;
    }
  }
  return decodeReference(type, body, start, end, version);
}

/** One compiled reader per message type (compiled-reader.ts), indexed by type number. */
const READERS: Array<ReturnType<typeof compileBodyReader> | undefined> = [];
for (const [type, schema] of SCHEMAS) READERS[type] = compileBodyReader(schema.body);

/**
 * The reference decode: the strict generic reader, then the schema walk. decodeMessage runs it
 * when the compiled reader declines, so every error (code, field, offset, SPEC §4 precedence)
 * comes from here; tests compare the two on valid and invalid bodies.
 */
export function decodeReference(type: number, body: Uint8Array, start = 0, end = body.length, version = PROTOCOL_MAX): Message {
  const schema = SCHEMAS.get(type)!;
  const value = decodeCbor(body, start, end);
  return decodeWith(schema.body, value, '', '', { type: schema.name }, version) as Message;
}
