/**
 * Byte-buffer helpers for the hot path. `new Uint8Array(n)` for n of a few hundred bytes and up
 * costs microseconds (a zero-filled off-heap backing store each time), and a `Buffer.allocUnsafe`
 * pool slice re-wrapped as a plain Uint8Array still costs ~200 ns (a Buffer subclass object plus
 * the view). So arrays are carved from shared 16 KiB slabs instead, one `subarray` each (~40 ns).
 * A region is handed out once and never reused: the array belongs to its caller, and a kept one
 * keeps at most its slab alive (as a pooled Buffer keeps Node's pool). We return plain Uint8Array
 * views so callers never see a Buffer (whose tag and equality behave differently); `.buffer` is
 * the shared slab, so always honour `byteOffset` / `byteLength`.
 */
const SLAB_SIZE = 16 * 1024;
let slab = new Uint8Array(0);
let slabUsed = 0;

export function allocBytes(n: number): Uint8Array {
  // V8 keeps typed arrays of up to 64 bytes on the JS heap, where allocation is cheapest.
  return n <= 64 ? new Uint8Array(n) : carveBytes(n);
}

/**
 * Like allocBytes, but never on the JS heap: for arrays that will be viewed (`subarray`,
 * `.buffer`), because V8 moves an on-heap array's contents to a new off-heap buffer the first time
 * its buffer is needed, which made a 20-byte heartbeat's decode ~0.4 µs slower.
 */
export function carveBytes(n: number): Uint8Array {
  if (n > SLAB_SIZE / 4) {
    // a large array gets its own memory, so it does not strand most of a slab
    const b = Buffer.allocUnsafeSlow(n);
    return new Uint8Array(b.buffer, b.byteOffset, n);
  }
  if (slabUsed + n > slab.length) {
    const b = Buffer.allocUnsafeSlow(SLAB_SIZE);
    slab = new Uint8Array(b.buffer, b.byteOffset, SLAB_SIZE);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + n);
  slabUsed += n;
  return out;
}

/** A copy of `src[start, end)` in memory of its own (see allocBytes; `viewed`: see carveBytes). */
export function copyBytes(src: Uint8Array, start = 0, end = src.length, viewed = false): Uint8Array {
  const n = end - start;
  const out = viewed ? carveBytes(n) : allocBytes(n);
  // a short copy by hand is cheaper than the view set() needs
  if (n > 32) out.set(start === 0 && end === src.length ? src : src.subarray(start, end));
  else for (let k = 0; k < n; k++) out[k] = src[start + k]!;
  return out;
}

/** First 0x00 in `b[from, to)`, or -1. Long ranges use Buffer#indexOf (memchr). */
export function indexOfZero(b: Uint8Array, from: number, to: number): number {
  if (to - from < 256) {
    for (let i = from; i < to; i++) if (b[i] === 0) return i;
    return -1;
  }
  const z = Buffer.from(b.buffer, b.byteOffset + from, to - from).indexOf(0);
  return z < 0 ? -1 : from + z;
}
