// The metrics compare and gate read from each repetition of a cell, and which way is better for each.
import type { MeasuredRep } from '../results/model.js';

export type MetricName = 'rps' | 'p50' | 'p99' | 'p999' | 'errorRate' | 'cpuPerRequest';

export interface MetricDef {
  name: MetricName;
  label: string;
  /** Which way an improvement goes: up for goodput, down for latency, errors and CPU. */
  better: 'higher' | 'lower';
  /** The repetition's value, or undefined when it has none (no proxy in a `target: direct` cell, no request sent). */
  value: (rep: MeasuredRep) => number | undefined;
  /** How a value prints: rps, ms, a rate, µs. */
  unit: 'rps' | 'ms' | 'rate' | 'us';
}

export const METRICS: readonly MetricDef[] = [
  { name: 'rps', label: 'RPS', better: 'higher', unit: 'rps', value: (r) => r.rps },
  { name: 'p50', label: 'P50', better: 'lower', unit: 'ms', value: (r) => r.latencyMs.p50 },
  { name: 'p99', label: 'P99', better: 'lower', unit: 'ms', value: (r) => r.latencyMs.p99 },
  { name: 'p999', label: 'P99.9', better: 'lower', unit: 'ms', value: (r) => r.latencyMs.p999 },
  { name: 'errorRate', label: 'error rate', better: 'lower', unit: 'rate', value: (r) => r.errorRate },
  {
    name: 'cpuPerRequest',
    label: 'proxy CPU/req',
    better: 'lower',
    unit: 'us',
    value: (r) => (r.proxy && r.requests > 0 ? (r.proxy.cpuS / r.requests) * 1e6 : undefined),
  },
];

export function metricDef(name: MetricName): MetricDef {
  return METRICS.find((m) => m.name === name)!;
}

/** The values of a metric over a cell's repetitions, those without one left out. */
export function metricValues(reps: readonly MeasuredRep[], metric: MetricDef): number[] {
  return reps.map(metric.value).filter((v): v is number => v !== undefined && Number.isFinite(v));
}

/** A rate pooled over repetitions: the sum of rate x requests over the sum of requests (a repetition weighs by its requests). */
export function pooledRate(reps: readonly MeasuredRep[], rate: (r: MeasuredRep) => number): number | undefined {
  const requests = reps.reduce((s, r) => s + r.requests, 0);
  return requests > 0 ? reps.reduce((s, r) => s + rate(r) * r.requests, 0) / requests : undefined;
}
