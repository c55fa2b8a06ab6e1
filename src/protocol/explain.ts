/**
 * Human-readable dissection of wire bytes, for logs, the CLI and anyone debugging a link with a
 * logic analyser: each frame's COBS piece, header fields, the body in CBOR diagnostic notation
 * (RFC 8949 §8) annotated with field names, the CRC, and the decoded message or the exact error.
 * Pure and total: it never throws, whatever the input.
 */
import { ProtocolError } from '../errors.js';
import { CborMap, CborTagged, decodeCbor, type CborValue } from './cbor-subset.js';
import { cobsDecode } from './cobs.js';
import { CRC_SIZE, DEFAULT_MAX_FRAME, FLAG_RSP, FLAG_RTX, HEADER_SIZE, maxWirePiece } from './constants.js';
import { crc32c } from './crc32c.js';
import { parseFrame } from './frame.js';
import { SCHEMAS } from './messages/catalogue.js';
import type { TypeSpec } from './messages/schema.js';
import { messageTypeName } from './messages/types.js';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
const h2 = (n: number, w = 2) => '0x' + n.toString(16).padStart(w, '0');

/** RFC 8949 diagnostic notation; with `spec`, map keys are followed by the field name as a comment. */
export function cborDiagnostic(v: CborValue, spec?: TypeSpec): string {
  if (v instanceof CborMap) {
    const fields = spec?.t === 'map' ? spec.fields : undefined;
    const parts = v.keys().map((k) => {
      const f = fields?.find((x) => x.key === k);
      const name = f ? ` /${f.name}/` : spec?.t === 'tensor' ? ` /${['name', 'shape', 'data'][k] ?? '?'}/` : '';
      return `${k}${name}: ${cborDiagnostic(v.get(k)!, f?.type)}`;
    });
    return `{${parts.join(', ')}}`;
  }
  if (Array.isArray(v)) {
    const of = spec?.t === 'array' ? spec.of : undefined;
    return `[${v.map((x) => cborDiagnostic(x, of)).join(', ')}]`;
  }
  if (v instanceof CborTagged) return `${v.tag}(h'${hex(v.value).replace(/ /g, '')}')`;
  if (v instanceof Uint8Array) return `h'${hex(v).replace(/ /g, '')}'`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' && spec?.t === 'enum') return `${v} /${spec.values[v] ?? '?'}/`;
  return String(v);
}

function explainFrame(frame: Uint8Array, maxFrame: number, lines: string[]): void {
  lines.push(`  frame (${frame.length} bytes): ${hex(frame)}`);
  if (frame.length < HEADER_SIZE + CRC_SIZE) return;
  const [ver, type, flags] = [frame[0]!, frame[1]!, frame[2]!];
  const seq = (frame[3]! << 8) | frame[4]!;
  const corr = (frame[5]! << 8) | frame[6]!;
  const len = (frame[7]! << 8) | frame[8]!;
  const flagNames = [flags & FLAG_RSP ? 'RSP' : '', flags & FLAG_RTX ? 'RTX' : '', flags & 0xfc ? `reserved ${h2(flags & 0xfc)}` : ''].filter(Boolean);
  lines.push(`  header: ver ${ver}, type ${h2(type)} ${messageTypeName(type) ?? '(unknown)'}, flags ${h2(flags)}${flagNames.length ? ` (${flagNames.join(', ')})` : ''}, seq ${seq}, corr ${corr}, len ${len}`);
  const crcAt = frame.length - CRC_SIZE;
  const got = (frame[crcAt]! | (frame[crcAt + 1]! << 8) | (frame[crcAt + 2]! << 16) | (frame[crcAt + 3]! << 24)) >>> 0;
  const want = crc32c(frame, 0, 0, crcAt);
  lines.push(`  crc: ${h2(got, 8)} (${got === want ? 'ok' : `expected ${h2(want, 8)}`})`);
  const body = frame.subarray(HEADER_SIZE, crcAt);
  lines.push(`  body (${body.length} bytes): ${hex(body)}`);
  try {
    const schema = SCHEMAS.get(type);
    lines.push(`  cbor: ${cborDiagnostic(decodeCbor(body), schema?.body)}`);
  } catch (e) {
    if (e instanceof ProtocolError) lines.push(`  cbor: ${e.code}: ${e.reason}`);
  }
  try {
    const f = parseFrame(frame, maxFrame);
    lines.push(`  => ${f.message.type} ok`);
  } catch (e) {
    const pe = e as ProtocolError;
    lines.push(`  => ${pe.code} [${pe.wire ?? '-'}]${pe.field ? ` field ${pe.field}` : ''}: ${pe.reason}`);
  }
}

/** Explain every piece in `wire` (bytes as received, 0x00-delimited). */
export function explainWire(wire: Uint8Array, opts?: { maxFrame?: number }): string {
  const maxFrame = opts?.maxFrame ?? DEFAULT_MAX_FRAME;
  const lines: string[] = [];
  let start = 0;
  let n = 0;
  for (let i = 0; i <= wire.length; i++) {
    if (i < wire.length && wire[i] !== 0) continue;
    const piece = wire.subarray(start, i);
    const delimited = i < wire.length;
    start = i + 1;
    if (piece.length === 0) continue;
    n++;
    lines.push(`piece ${n} (${piece.length} bytes${delimited ? '' : ', no delimiter yet'}): ${hex(piece)}`);
    if (piece.length > maxWirePiece(maxFrame)) {
      lines.push(`  => frame.oversize: longer than ${maxWirePiece(maxFrame)} bytes for maxFrame ${maxFrame}`);
      continue;
    }
    try {
      explainFrame(cobsDecode(piece), maxFrame, lines);
    } catch (e) {
      const pe = e as ProtocolError;
      lines.push(`  => ${pe.code}: ${pe.reason}`);
    }
  }
  if (!n) lines.push('no frames (only delimiters or nothing)');
  return lines.join('\n');
}
