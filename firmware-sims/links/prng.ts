/**
 * mulberry32: a tiny seeded PRNG. Link emulators use it so that every fault pattern
 * (which byte is lost, which bit flips) is reproducible from a seed. Not for keys.
 */
export interface Prng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
}

export function mulberry32(seed: number): Prng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    // p = 0 must never consume entropy differently from p > 0, so fault patterns stay
    // comparable when one knob changes: always draw.
    chance: (p) => next() < p,
  };
}
