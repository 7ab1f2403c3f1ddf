// A seeded source of uniform numbers: the same seed gives the same stream, so a statistic, a latency sample or
// a test can be repeated exactly. Math.random cannot be seeded.

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/** mulberry32: a 32-bit state generator, small and fast, good enough for sampling (not for cryptography). */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
