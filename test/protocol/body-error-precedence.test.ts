/**
 * SPEC §4's precedence rule, checked against a second, independent implementation of it: a
 * recursive general CBOR decoder written here from RFC 8949 (stage 1, well-formedness), then the
 * subset's rules applied one by one to the decoded tree (stage 2). The codec's single pass plus its
 * well-formedness scan must give the same code on every mutated body: the disagreement issue 23
 * measured between two careful decoders (1,597 of 22,000) must be zero.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeCbor } from '../../src/protocol/cbor-subset.js';
import { ProtocolError, encodeMessage } from '../../src/protocol/index.js';
import { messageArb } from './arbitraries.js';

type Verdict = 'ok' | 'msg.cbor' | 'msg.non_deterministic';

class Malformed extends Error {}

interface Node {
  major: number;
  /** the head's argument and how many bytes it took after the initial byte (-1: indefinite) */
  arg: number;
  argBytes: number;
  items?: Node[];
  bytes?: Uint8Array;
  float?: boolean;
}

const TAG_WIDTH = new Map([
  [64, 1],
  [72, 1],
  [69, 2],
  [77, 2],
  [70, 4],
  [78, 4],
  [79, 8],
  [85, 4],
  [86, 8],
]);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** RFC 8949 Appendix C, written out recursively (bodies here are small). */
function parse(b: Uint8Array, p: { i: number }): Node {
  if (p.i >= b.length) throw new Malformed('eof');
  const ib = b[p.i++]!;
  const major = ib >> 5;
  const ai = ib & 31;
  if (ai >= 28 && ai <= 30) throw new Malformed('reserved ai');
  if (ai === 31) {
    if (major === 0 || major === 1 || major === 6) throw new Malformed('ai 31');
    if (major === 7) throw new Malformed('stray break');
    const items: Node[] = [];
    for (;;) {
      if (p.i >= b.length) throw new Malformed('eof in indefinite');
      if (b[p.i] === 0xff) {
        p.i++;
        break;
      }
      const item = parse(b, p);
      if ((major === 2 || major === 3) && (item.major !== major || item.argBytes < 0)) throw new Malformed('bad chunk');
      items.push(item);
    }
    if (major === 5 && items.length % 2 !== 0) throw new Malformed('odd indefinite map');
    return { major, arg: items.length, argBytes: -1, items };
  }
  let arg = ai;
  let argBytes = 0;
  if (ai >= 24) {
    argBytes = 2 ** (ai - 24);
    if (p.i + argBytes > b.length) throw new Malformed('eof in head');
    arg = 0;
    for (let k = 0; k < argBytes; k++) arg = arg * 256 + b[p.i++]!;
  }
  switch (major) {
    case 2:
    case 3: {
      if (arg > b.length - p.i) throw new Malformed('string past end');
      const bytes = b.subarray(p.i, p.i + arg);
      p.i += arg;
      if (major === 3) {
        try {
          utf8.decode(bytes);
        } catch {
          throw new Malformed('utf8');
        }
      }
      return { major, arg, argBytes, bytes };
    }
    case 4:
    case 5: {
      const n = major === 5 ? arg * 2 : arg;
      if (n > b.length - p.i) throw new Malformed('container past end');
      const items: Node[] = [];
      for (let k = 0; k < n; k++) items.push(parse(b, p));
      return { major, arg, argBytes, items };
    }
    case 6:
      return { major, arg, argBytes, items: [parse(b, p)] };
    case 7:
      if (ai === 24 && arg < 32) throw new Malformed('two-byte simple < 32');
      return { major, arg, argBytes, float: ai >= 25 };
    default:
      return { major, arg, argBytes };
  }
}

const shortest = (n: number) => (n < 24 ? 0 : n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x100000000 ? 4 : 8);

/** SPEC §4's subset, rule by rule, on a well-formed tree. */
function inSubset(n: Node, depth: number): boolean {
  if (n.argBytes < 0) return false; // indefinite length
  if (n.major !== 7 && n.argBytes !== shortest(n.arg)) return false;
  switch (n.major) {
    case 0:
      return n.arg <= Number.MAX_SAFE_INTEGER;
    case 1:
      return n.arg <= Number.MAX_SAFE_INTEGER - 1;
    case 4:
      return depth < 8 && n.items!.every((x) => inSubset(x, depth + 1));
    case 5: {
      if (depth >= 8) return false;
      let last = -1;
      for (let k = 0; k < n.items!.length; k += 2) {
        const key = n.items![k]!;
        if (key.major !== 0 || key.arg > 23 || key.argBytes !== 0 || key.arg <= last) return false;
        last = key.arg;
        if (!inSubset(n.items![k + 1]!, depth + 1)) return false;
      }
      return true;
    }
    case 6: {
      const width = TAG_WIDTH.get(n.arg);
      const inner = n.items![0]!;
      return depth < 8 && width !== undefined && inner.major === 2 && inner.argBytes >= 0 && inner.argBytes === shortest(inner.arg) && inner.bytes!.length % width === 0;
    }
    case 7:
      return !n.float && n.argBytes === 0 && (n.arg === 20 || n.arg === 21);
    default:
      return true; // 2, 3: shortest definite length checked above
  }
}

function oracle(b: Uint8Array): Verdict {
  let tree: Node;
  try {
    const p = { i: 0 };
    tree = parse(b, p);
    if (p.i !== b.length) return 'msg.cbor';
  } catch (e) {
    if (e instanceof Malformed) return 'msg.cbor';
    throw e;
  }
  return inSubset(tree, 0) ? 'ok' : 'msg.non_deterministic';
}

function codec(b: Uint8Array): Verdict {
  try {
    decodeCbor(b);
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return (e as ProtocolError).code as Verdict;
  }
}

const h = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

describe('SPEC §4 precedence: msg.cbor over msg.non_deterministic, each over the whole body', () => {
  it('the oracle itself gives the spec examples their codes', () => {
    expect(oracle(h('a201617800'))).toBe('msg.cbor');
    expect(oracle(h('a20161780000'))).toBe('msg.non_deterministic');
    expect(oracle(h('a1001f'))).toBe('msg.cbor');
    expect(oracle(h('a1005f41aaff'))).toBe('msg.non_deterministic');
    expect(oracle(h('a1001a0001e240'))).toBe('ok');
  });

  it('the codec and the independent three-stage checker agree on mutated message bodies', () => {
    const counts: Record<Verdict, number> = { ok: 0, 'msg.cbor': 0, 'msg.non_deterministic': 0 };
    fc.assert(
      fc.property(
        messageArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 5 })), { minLength: 1, maxLength: 3 }),
        (msg, edits) => {
          let b = Array.from(encodeMessage(msg));
          for (const [at, byte, op] of edits) {
            const i = at % (b.length + 1);
            // mostly replacements (ops 0-3): they keep the length, so more bodies stay well-formed
            if (op <= 3 && i < b.length) b[i] = byte;
            else if (op === 4) b.splice(i, 0, byte);
            else b.splice(i, 1);
          }
          const body = Uint8Array.from(b);
          const want = oracle(body);
          counts[want]++;
          expect(codec(body), Buffer.from(body).toString('hex')).toBe(want);
        },
      ),
      { numRuns: 4000 },
    );
    console.log(`[precedence] ${JSON.stringify(counts)}`);
    // the mutations reach all three outcomes, so the agreement means something
    expect(counts['msg.cbor']).toBeGreaterThan(200);
    expect(counts['msg.non_deterministic']).toBeGreaterThan(100);
    expect(counts.ok).toBeGreaterThan(100);
  });

  it('agrees on short random byte strings too (heads of every kind)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 12 }), (body) => {
        expect(codec(body), Buffer.from(body).toString('hex')).toBe(oracle(body));
      }),
      { numRuns: 4000 },
    );
  });
});
