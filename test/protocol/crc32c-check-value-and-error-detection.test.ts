import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { crc32c, crc32cBitwise } from '../../src/protocol/crc32c.js';
import { MAX_MAX_FRAME } from '../../src/protocol/index.js';

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'ascii'));
const NORMAL_POLY = 0x1edc6f41;

/**
 * Smallest d in 1..limit with x^d ≡ 1 (mod g), or undefined. A 2-bit error x^i + x^j goes
 * undetected exactly when g divides x^i(x^d + 1), d = j - i, i.e. when x^d ≡ 1 (mod g) (g has a
 * non-zero constant term, so it shares no factor with x^i). Init and xorout do not matter: the
 * CRC of a codeword plus an error pattern differs by the CRC-without-init of the pattern.
 */
function firstPeriodUpTo(poly: number, limit: number): number | undefined {
  // state = x^d mod g as a 32-bit vector (bit k = coefficient of x^k)
  let s = 1;
  for (let d = 1; d <= limit; d++) {
    const carry = s & 0x80000000;
    s = (s << 1) >>> 0;
    if (carry) s = (s ^ poly) >>> 0;
    if (s === 1) return d;
  }
  return undefined;
}

describe('CRC-32C', () => {
  it('has the SPEC §2.1 check value 0xE3069283 for "123456789"', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32cBitwise(ascii('123456789'))).toBe(0xe3069283);
  });

  it('gives 0 for empty input (init and xorout cancel)', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('slicing-by-8 agrees with the bit-at-a-time reference at every length and offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(7), (bytes, off) => {
        const start = Math.min(off, bytes.length);
        expect(crc32c(bytes, 0, start)).toBe(crc32cBitwise(bytes.subarray(start)));
      }),
      { numRuns: 300 },
    );
  });

  it('chains with a seed: crc(b, crc(a)) = crc(a ‖ b)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 50 }), fc.uint8Array({ maxLength: 50 }), (a, b) => {
        expect(crc32c(b, crc32c(a))).toBe(crc32c(new Uint8Array([...a, ...b])));
      }),
    );
  });

  it('matches every committed crc vector', () => {
    const v = JSON.parse(readFileSync(new URL('../../protocol/vectors/crc.json', import.meta.url), 'utf8'));
    expect(v.vectors.length).toBeGreaterThan(5);
    for (const c of v.vectors) expect(crc32c(new Uint8Array(Buffer.from(c.data_hex, 'hex'))), c.name).toBe(c.crc32c);
  });

  it('has (x+1) as a factor, so every odd-weight error (all 1- and 3-bit errors) is detected', () => {
    // g(1) = parity of the number of terms; x^32 is the implicit 33rd term.
    let terms = 1;
    for (let b = 0; b < 32; b++) if (NORMAL_POLY & (1 << b)) terms++;
    expect(terms % 2).toBe(0);
  });

  it('detects every 2-bit error in the largest frame SPEC §2.2 allows (65,535 bytes)', () => {
    const bits = MAX_MAX_FRAME * 8;
    // The error distance d ranges over 1..bits-1.
    expect(firstPeriodUpTo(NORMAL_POLY, bits - 1)).toBeUndefined();
  });

  it('the period search does find short periods (so the previous test can fail)', () => {
    // x^32 + 1 has period 32: two flipped bits 32 apart cancel.
    expect(firstPeriodUpTo(0x00000001, 1000)).toBe(32);
    // CRC-8-style x^32 + x^8 + 1 = (x^4 + x + 1)^8 over GF(2): period 15*8 = 120.
    expect(firstPeriodUpTo(0x00000101, 100000)).toBeLessThan(1000);
  });

  it('a random 2-bit flip in a max-size frame always changes the CRC', () => {
    const frame = new Uint8Array(MAX_MAX_FRAME - 4);
    for (let i = 0; i < frame.length; i++) frame[i] = (i * 31 + 7) & 0xff;
    const good = crc32c(frame);
    fc.assert(
      fc.property(fc.nat(frame.length * 8 - 1), fc.nat(frame.length * 8 - 1), (a, b) => {
        fc.pre(a !== b);
        const f = frame.slice();
        f[a >> 3]! ^= 1 << (a & 7);
        f[b >> 3]! ^= 1 << (b & 7);
        expect(crc32c(f)).not.toBe(good);
      }),
      { numRuns: 50 },
    );
  });
});
