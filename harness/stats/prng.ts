// Seeded randomness for the statistics: the same input gives the same interval, run after run, so a compare
// or a gate can be repeated and a test can pin its output. Math.random cannot be seeded.

export { mulberry32, type Random } from '../../common/seeded-random.js';

/** FNV-1a, 32 bits: turns a name (a cell and a metric) into a seed, so each comparison draws its own stream. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
