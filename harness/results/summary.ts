// Per-cell summaries over repetitions: the median, and the 95% CI of the mean by Student's t
// (repetitions are few, so the normal 1.96 would claim too much certainty).
import type { RepResult } from '../load/types.js';
import type { CellSummary, Estimate } from './model.js';

// Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom.
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function estimate(values: number[]): Estimate {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { median: median(values), ci95: [mean, mean], mean, n };
  const variance = values.reduce((acc, v) => acc + (v - mean) ** 2, 0) / (n - 1);
  const t = T975[n - 2] ?? 1.96;
  const half = (t * Math.sqrt(variance)) / Math.sqrt(n);
  return { median: median(values), ci95: [mean - half, mean + half], mean, n };
}

export function summarize(reps: RepResult[]): CellSummary {
  const errors: Record<string, number> = {};
  for (const rep of reps) for (const [k, v] of Object.entries(rep.errors)) errors[k] = (errors[k] ?? 0) + v;
  return {
    rps: estimate(reps.map((r) => r.rps)),
    p50Ms: estimate(reps.map((r) => r.latencyMs.p50)),
    p99Ms: estimate(reps.map((r) => r.latencyMs.p99)),
    p999Ms: estimate(reps.map((r) => r.latencyMs.p999)),
    rstRate: estimate(reps.map((r) => r.rstRate)),
    errors,
    generatorSaturatedReps: reps.filter((r) => r.generatorSaturated).length,
  };
}
