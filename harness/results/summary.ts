// Per-cell summaries over repetitions. The cell's latency percentiles come from the exact merge of its
// repetitions' histograms (the percentiles of all its requests together); beside them, per statistic, the
// values of each repetition give the median, the mean and the 95% CI of the mean by Student's t (repetitions
// are few, so the normal 1.96 would claim too much certainty).
import { mergeEncodedSummary } from '../load/statistic/histogram.js';
import { lowerBoundPercentiles } from '../load/statistic/outcome-histograms.js';
import type { CellSummary, Estimate, MeasuredRep } from './model.js';

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

/**
 * Median, mean and the 95% CI of the mean of per-repetition values. `nonNegative`: the quantity cannot be
 * below zero (a rate, a latency), so neither can the interval's low end.
 */
export function estimate(values: number[], nonNegative = true): Estimate {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { median: median(values), ci95: [mean, mean], mean, n };
  const variance = values.reduce((acc, v) => acc + (v - mean) ** 2, 0) / (n - 1);
  const t = T975[n - 2] ?? 1.96;
  const half = (t * Math.sqrt(variance)) / Math.sqrt(n);
  const lo = mean - half;
  return { median: median(values), ci95: [nonNegative ? Math.max(0, lo) : lo, mean + half], mean, n };
}

/** The scenario headline over repetitions: the median of theirs (signed: a headline may be a difference). */
export function headlineOf(reps: readonly MeasuredRep[]): Pick<CellSummary, 'headline'> {
  const headlines = reps.flatMap((r) => (r.scenario ? [r.scenario.headline] : []));
  const first = headlines[0];
  if (!first) return {};
  const e = estimate(headlines.map((h) => h.value), false);
  // The median is a bound if the repetition it comes from (or, for an even count, either middle one) was.
  const sorted = [...headlines].sort((a, b) => a.value - b.value);
  const mid = sorted.length / 2;
  const middle = sorted.length % 2 === 1 ? [sorted[Math.floor(mid)]!] : [sorted[mid - 1]!, sorted[mid]!];
  const { censored: _firstCensored, ...rest } = first;
  return { headline: { ...rest, value: e.median, estimate: e, ...(middle.some((h) => h.censored) && { censored: true }) } };
}

/** The cell's summary; `timeoutMs` tells which merged percentiles timeouts reached (lower bounds). */
export async function summarize(reps: MeasuredRep[], timeoutMs: number): Promise<CellSummary> {
  const errors: Record<string, number> = {};
  for (const rep of reps) for (const [k, v] of Object.entries(rep.errors)) errors[k] = (errors[k] ?? 0) + v;
  const requests = reps.reduce((a, r) => a + r.requests, 0);
  const successes = reps.reduce((a, r) => a + r.successes, 0);
  const all = await mergeEncodedSummary(reps.map((r) => r.histogram));
  const success = await mergeEncodedSummary(reps.map((r) => r.successHistogram));
  return {
    rps: estimate(reps.map((r) => r.rps)),
    completedRps: estimate(reps.map((r) => r.completedRps)),
    errorRate: estimate(reps.map((r) => r.errorRate)),
    ...(reps.every((r) => r.bodyBytesPerS !== undefined) ? { bodyBytesPerS: estimate(reps.map((r) => r.bodyBytesPerS!)) } : {}),
    p50Ms: estimate(reps.map((r) => r.latencyMs.p50)),
    p99Ms: estimate(reps.map((r) => r.latencyMs.p99)),
    p999Ms: estimate(reps.map((r) => r.latencyMs.p999)),
    rstRate: estimate(reps.map((r) => r.rstRate)),
    latencyMs: all.latencyMs,
    latencyLowerBounds: lowerBoundPercentiles(all.latencyMs, errors['timeout'] ?? 0, timeoutMs),
    successLatencyMs: success.latencyMs,
    histogram: all.histogram,
    requests,
    successes,
    errors,
    generatorSaturatedReps: reps.filter((r) => r.generatorSaturated).length,
    ...headlineOf(reps),
  };
}
