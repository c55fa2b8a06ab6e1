import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CRC32C_CHECK,
  CRC32C_RESIDUE,
  NATIVE_CRC_MIN_BYTES,
  crc32c,
  crc32cBitwise,
  crc32cJs,
  loadNativeCrc32c,
  nativeCrc32c,
} from '../../src/protocol/crc32c.js';

const check = new Uint8Array(Buffer.from('123456789', 'ascii'));

describe('native CRC-32C (@node-rs/crc32) and the JS tables', () => {
  it('the native binding loads on this platform (CI runs on linux-x64, where the package exists)', () => {
    expect(nativeCrc32c).toBeTypeOf('function');
  });

  it('both give the SPEC §2.1 check value', () => {
    expect(crc32cJs(check)).toBe(CRC32C_CHECK);
    expect(nativeCrc32c!(check) >>> 0).toBe(CRC32C_CHECK);
  });

  it('agree on random inputs, offsets, lengths either side of the dispatch threshold and seeds', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 3 * NATIVE_CRC_MIN_BYTES }), fc.nat(16), fc.nat(16), fc.nat(), (bytes, a, b, seed) => {
        const start = Math.min(a, bytes.length);
        const end = Math.max(start, bytes.length - b);
        const js = crc32cJs(bytes, seed, start, end);
        expect(nativeCrc32c!(bytes.subarray(start, end), seed) >>> 0).toBe(js);
        expect(crc32c(bytes, seed, start, end)).toBe(js);
      }),
      { numRuns: 500 },
    );
  });

  it('the dispatching crc32c agrees with the bit-at-a-time reference on a 64 KiB input', () => {
    const big = new Uint8Array(65535);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    expect(crc32c(big)).toBe(crc32cBitwise(big));
  });

  it('a message followed by its CRC (LSB first) gives the residue, and any change does not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), (m, flip) => {
        const c = crc32c(m);
        const framed = new Uint8Array(m.length + 4);
        framed.set(m);
        framed[m.length] = c & 0xff;
        framed[m.length + 1] = (c >>> 8) & 0xff;
        framed[m.length + 2] = (c >>> 16) & 0xff;
        framed[m.length + 3] = c >>> 24;
        expect(crc32c(framed)).toBe(CRC32C_RESIDUE);
        expect(crc32cJs(framed)).toBe(CRC32C_RESIDUE);
        const bit = flip % (framed.length * 8);
        framed[bit >> 3]! ^= 1 << (bit & 7);
        expect(crc32c(framed)).not.toBe(CRC32C_RESIDUE);
      }),
      { numRuns: 300 },
    );
  });

  it('falls back to JS when the binding cannot be loaded, lacks crc32c, or computes something else', () => {
    expect(
      loadNativeCrc32c(() => {
        throw new Error('Cannot find module @node-rs/crc32-linux-x64-gnu');
      }),
    ).toBeUndefined();
    expect(loadNativeCrc32c(() => ({}))).toBeUndefined();
    expect(loadNativeCrc32c(() => null)).toBeUndefined();
    expect(loadNativeCrc32c(() => ({ crc32c: () => 0 }))).toBeUndefined();
    // a plain CRC-32 (wrong polynomial) must be refused
    expect(loadNativeCrc32c(() => ({ crc32c: (b: Uint8Array, s?: number) => crc32Ieee(b, s) }))).toBeUndefined();
    // ignoring the seed breaks chaining: refused too
    expect(loadNativeCrc32c(() => ({ crc32c: (b: Uint8Array) => crc32cJs(b) }))).toBeUndefined();
    const ok = loadNativeCrc32c(() => ({ crc32c: (b: Uint8Array, s?: number) => crc32cJs(b, s ?? 0) }));
    expect(ok).toBeTypeOf('function');
  });
});

function crc32Ieee(b: Uint8Array, seed = 0): number {
  let c = ~seed >>> 0;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
