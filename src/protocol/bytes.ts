/**
 * Byte-buffer helpers for the hot path. `new Uint8Array(n)` for n of a few hundred bytes and up
 * costs microseconds (a zero-filled off-heap backing store each time); Node's Buffer pool hands
 * out slices of a shared 8 KiB slab instead. We return plain Uint8Array views of those slices so
 * callers never see a Buffer (whose tag and equality behave differently); like every pooled
 * Buffer, `.buffer` is the shared slab, so always honour `byteOffset` / `byteLength`.
 */
export function allocBytes(n: number): Uint8Array {
  // V8 keeps typed arrays of up to 64 bytes on the JS heap, where allocation is cheapest.
  if (n <= 64) return new Uint8Array(n);
  const b = Buffer.allocUnsafe(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

/** A copy of `src[start, end)` in a pooled buffer. */
export function copyBytes(src: Uint8Array, start = 0, end = src.length): Uint8Array {
  const out = allocBytes(end - start);
  out.set(src.subarray(start, end));
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
