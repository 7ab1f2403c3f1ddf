// A percentile bootstrap confidence interval of the ratio of two means (candidate / baseline): resample each
// side's repetitions with replacement, take the ratio of the resampled means, read the interval off the sorted
// ratios. It assumes nothing about the shape of the repetitions' distribution, which on a shared machine is
// anything but normal. Written here for the same reason as mann-whitney.ts: nothing small and maintained on npm
// does this with a seedable generator, and it is twenty lines.
import type { Random } from './prng.js';

export interface RatioInterval {
  /** mean(b) / mean(a) of the samples themselves. */
  ratio: number;
  lo: number;
  hi: number;
}

/** b / a where a mean of 0 would divide by zero: 0 / 0 is no change (1), x / 0 is unbounded (Infinity). */
export function ratioOf(a: number, b: number): number {
  if (a === 0) return b === 0 ? 1 : Infinity;
  return b / a;
}

export function mean(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/** The q-quantile of sorted values, interpolating linearly between order statistics (R's type 7, numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const below = Math.floor(pos);
  const lower = sorted[below]!;
  const upper = sorted[Math.min(below + 1, sorted.length - 1)]!;
  // Infinity - Infinity would give NaN where both neighbours are unbounded.
  return lower === upper ? lower : lower + (upper - lower) * (pos - below);
}

export function bootstrapRatioOfMeans(
  a: readonly number[],
  b: readonly number[],
  opts: { confidence: number; resamples: number; random: Random },
): RatioInterval {
  if (a.length === 0 || b.length === 0) throw new RangeError('bootstrapRatioOfMeans: both samples need at least one value');
  const ratios = new Float64Array(opts.resamples);
  for (let i = 0; i < opts.resamples; i++) ratios[i] = ratioOf(resampledMean(a, opts.random), resampledMean(b, opts.random));
  ratios.sort();
  const sorted = Array.from(ratios);
  const tail = (1 - opts.confidence) / 2;
  return { ratio: ratioOf(mean(a), mean(b)), lo: quantile(sorted, tail), hi: quantile(sorted, 1 - tail) };
}

function resampledMean(values: readonly number[], random: Random): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[Math.floor(random() * values.length)]!;
  return sum / values.length;
}
