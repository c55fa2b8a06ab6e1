/**
 * RFC 8949 well-formedness of a whole body (Appendix C), plus valid UTF-8 in every text string and
 * exactly one item with no trailing bytes: stage (a) of SPEC §4's precedence rule. A body with any
 * malformation is `msg.cbor` even when the strict reader (cbor-subset.ts) stopped earlier at a
 * subset violation (`msg.non_deterministic`), so this scan runs only on that path.
 *
 * It covers what the subset reader never accepts (indefinite lengths, floats, simple values, tags
 * of any number, any key type, any depth) and is iterative, so a body of 65,535 nested array heads
 * costs a stack of numbers, not a stack overflow.
 */
import { protocolError } from './error-codes.js';
import type { ProtocolError } from '../errors.js';

/** Stack entry kinds: a definite container counts down `rem`; an indefinite one counts `n` up. */
const DEFINITE = 0;
const INDEF_ARRAY = 1;
const INDEF_MAP = 2;
const INDEF_BYTES = 3;
const INDEF_TEXT = 4;

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function malformed(at: number, what: string): ProtocolError {
  return protocolError('msg.cbor', { reason: `malformed CBOR at body offset ${at}: ${what}`, details: { offset: at } });
}

/** The first malformation of `b[start, end)` as one CBOR data item, or undefined if it is well-formed. */
export function wellFormedError(b: Uint8Array, start = 0, end = b.length): ProtocolError | undefined {
  const kind: number[] = [];
  const count: number[] = [];
  let p = start;
  let done = false;
  while (!done) {
    if (p >= end) return malformed(p, 'truncated: item expected');
    const headAt = p;
    const ib = b[p++]!;
    const major = ib >> 5;
    const ai = ib & 0x1f;
    const top = kind.length - 1;
    const inString = top >= 0 && (kind[top] === INDEF_BYTES || kind[top] === INDEF_TEXT);
    if (inString && ib !== 0xff && major !== (kind[top] === INDEF_BYTES ? 2 : 3)) {
      return malformed(headAt, 'an indefinite-length string chunk must be a string of the same major type');
    }
    let complete = true;
    if (ai === 31) {
      if (major === 7) {
        if (top < 0 || kind[top] === DEFINITE) return malformed(headAt, 'break code outside an indefinite-length item');
        if (kind[top] === INDEF_MAP && count[top]! % 2 !== 0) return malformed(headAt, 'indefinite-length map ends after a key without its value');
        kind.pop();
        count.pop();
      } else if (major >= 2 && major <= 5) {
        if (inString) return malformed(headAt, 'an indefinite-length string chunk must have a definite length');
        kind.push(major === 2 ? INDEF_BYTES : major === 3 ? INDEF_TEXT : major === 4 ? INDEF_ARRAY : INDEF_MAP);
        count.push(0);
        complete = false;
      } else {
        return malformed(headAt, `additional information 31 on major type ${major}`);
      }
    } else if (ai >= 28) {
      return malformed(headAt, `reserved additional information ${ai}`);
    } else {
      let arg = ai;
      if (ai >= 24) {
        const size = 1 << (ai - 24);
        if (p + size > end) return malformed(headAt, major === 7 ? 'truncated simple value or float' : 'truncated head');
        arg = 0;
        for (let i = 0; i < size; i++) arg = arg * 256 + b[p + i]!;
        p += size;
      }
      switch (major) {
        case 2:
        case 3:
          if (arg > end - p) return malformed(headAt, `string of ${arg} bytes runs past the end`);
          if (major === 3) {
            try {
              fatalUtf8.decode(b.subarray(p, p + arg));
            } catch {
              return malformed(headAt, 'text string is not valid UTF-8');
            }
          }
          p += arg;
          break;
        case 4:
        case 5: {
          const items = major === 5 ? arg * 2 : arg;
          // every item takes at least one byte, so a larger count cannot be well-formed
          if (items > end - p) return malformed(headAt, `${major === 5 ? 'map' : 'array'} of ${arg} entries runs past the end`);
          if (items > 0) {
            kind.push(DEFINITE);
            count.push(items);
            complete = false;
          }
          break;
        }
        case 6:
          kind.push(DEFINITE);
          count.push(1);
          complete = false;
          break;
        case 7:
          if (ai === 24 && arg < 32) return malformed(headAt, `two-byte simple value ${arg} < 32`);
          break;
        default:
          break; // majors 0 and 1: the head is the item
      }
    }
    // an item (or a closed indefinite container) completes its enclosing containers
    while (complete) {
      const t = kind.length - 1;
      if (t < 0) {
        done = true;
        break;
      }
      if (kind[t] === DEFINITE) {
        count[t]!--;
        if (count[t] === 0) {
          kind.pop();
          count.pop();
          continue;
        }
      } else {
        count[t]!++;
      }
      complete = false;
    }
  }
  if (p !== end) return malformed(p, `${end - p} trailing bytes after the item`);
  return undefined;
}
