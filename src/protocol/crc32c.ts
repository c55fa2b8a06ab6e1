/**
 * CRC-32C (Castagnoli): poly 0x1EDC6F41 (reflected 0x82F63B78), init 0xFFFFFFFF, refin/refout,
 * xorout 0xFFFFFFFF, check("123456789") = 0xE3069283. SPEC §2.1.
 *
 * Slicing-by-8: eight 256-entry tables let the loop consume 8 bytes per iteration, which is what
 * keeps framing cheap next to CBOR encoding for 1 KiB deployment chunks. The tables are Int32Array
 * so every intermediate stays a small integer in V8 (Uint32Array entries above 2^31 become heap
 * numbers); bench measured it 10-30 % faster.
 *
 * Long inputs go to the native `@node-rs/crc32` binding (SSE4.2 / ARMv8 CRC instructions) when it
 * loads: it is ~4x faster per byte, but every call into it costs about as much as the JS loop
 * spends on ~200 bytes, so short and mid-sized frames (heartbeats, acks, STATE) stay in JS. The binding is optional: if
 * it is missing for this platform, or fails its check value, everything runs on the JS tables.
 */
import { createRequire } from 'node:module';

export const CRC32C_POLY_REFLECTED = 0x82f63b78;
/** check("123456789"), SPEC §2.1. */
export const CRC32C_CHECK = 0xe3069283;
/**
 * CRC-32C of any message followed by its own CRC (least-significant byte first). A received frame
 * is intact iff its CRC over all of its bytes, trailing CRC included, equals this: for a fixed
 * message the map from the 4 appended bytes to the result is one-to-one, so this is exactly the
 * "recompute and compare" check, on the frame as it is (no view of the frame minus its CRC).
 */
export const CRC32C_RESIDUE = 0x48674bc7;

const TABLES: Int32Array[] = (() => {
  const t: Int32Array[] = [];
  for (let k = 0; k < 8; k++) t.push(new Int32Array(256));
  const t0 = t[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let b = 0; b < 8; b++) c = c & 1 ? (c >>> 1) ^ CRC32C_POLY_REFLECTED : c >>> 1;
    t0[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t0[n]!;
    for (let k = 1; k < 8; k++) {
      c = t0[c & 0xff]! ^ (c >>> 8);
      t[k]![n] = c;
    }
  }
  return t;
})();

const [T0, T1, T2, T3, T4, T5, T6, T7] = TABLES as [
  Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array,
];

type NativeCrc32c = (input: Uint8Array, initialState?: number) => number;

const CHECK_INPUT = new Uint8Array([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39]);

/**
 * The native CRC-32C from `load()` (a module exporting `crc32c(bytes, seed)`), or undefined when
 * loading throws or the function does not reproduce the check value and chaining. Exported so the
 * fallback is testable without uninstalling the package.
 */
export function loadNativeCrc32c(load: () => unknown): NativeCrc32c | undefined {
  try {
    const fn = (load() as { crc32c?: unknown } | null)?.crc32c;
    if (typeof fn !== 'function') return undefined;
    const f = fn as NativeCrc32c;
    if (f(CHECK_INPUT) !== CRC32C_CHECK || f(CHECK_INPUT.subarray(4), f(CHECK_INPUT.subarray(0, 4))) !== CRC32C_CHECK) return undefined;
    return f;
  } catch {
    return undefined;
  }
}

/** The native CRC-32C in use, or undefined when this process runs on the JS tables only. */
export const nativeCrc32c: NativeCrc32c | undefined = loadNativeCrc32c(() => createRequire(import.meta.url)('@node-rs/crc32'));

/**
 * Inputs at least this long go to the native binding. Measured with bench-style loops on x86-64
 * (Node 20.20): the JS loop costs ~0.85 ns/byte, the native call ~170 ns plus ~0.2 ns/byte, and
 * ~60 ns more when it needs a view of a sub-range (the encoder's case). The two meet at ~250 bytes
 * for a whole array and ~330 for a range; at 128 a 150-byte STATE frame paid ~120 ns extra.
 */
export const NATIVE_CRC_MIN_BYTES = 256;

/**
 * CRC-32C of `bytes[start, end)`. `seed` is the result of a previous call, so
 * `crc32c(b, crc32c(a)) === crc32c(a ‖ b)`; omit it (or pass 0) to start fresh.
 */
export function crc32c(bytes: Uint8Array, seed = 0, start = 0, end = bytes.length): number {
  if (nativeCrc32c !== undefined && end - start >= NATIVE_CRC_MIN_BYTES) {
    return nativeCrc32c(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), seed) >>> 0;
  }
  return crc32cJs(bytes, seed, start, end);
}

/** The slicing-by-8 implementation (always available; the reference the native one is tested against). */
export function crc32cJs(bytes: Uint8Array, seed = 0, start = 0, end = bytes.length): number {
  let crc = ~seed | 0;
  let i = start;
  const stop8 = end - ((end - start) & 7);
  while (i < stop8) {
    const a = crc ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    crc =
      T7[a & 0xff]! ^
      T6[(a >>> 8) & 0xff]! ^
      T5[(a >>> 16) & 0xff]! ^
      T4[a >>> 24]! ^
      T3[bytes[i + 4]!]! ^
      T2[bytes[i + 5]!]! ^
      T1[bytes[i + 6]!]! ^
      T0[bytes[i + 7]!]!;
    i += 8;
  }
  while (i < end) crc = T0[(crc ^ bytes[i++]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** Bit-at-a-time reference implementation; tests compare the fast one against it. */
export function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let b = 0; b < 8; b++) crc = crc & 1 ? (crc >>> 1) ^ CRC32C_POLY_REFLECTED : crc >>> 1;
  }
  return ~crc >>> 0;
}
