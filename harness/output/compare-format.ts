// Small formats shared by the compare and gate reports: a ratio, its interval, a change in percent, a p-value.
import { metricDef, type MetricName } from '../compare/metrics.js';
import { fmtMicros, fmtMs, fmtRate, fmtRps } from './format-number.js';

export function fmtRatio(r: number): string {
  if (r === Infinity) return 'inf';
  return Number.isFinite(r) ? r.toFixed(3) : '-';
}

/** A ratio as a signed change: 0.87 -> -13.0%. */
export function fmtChange(r: number): string {
  if (r === Infinity) return '+inf';
  if (!Number.isFinite(r)) return '-';
  const pct = (r - 1) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

export function fmtP(p: number): string {
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

/** A metric's value in its unit. */
export function fmtMetric(metric: MetricName | 'rstRate', v: number): string {
  if (metric === 'rstRate') return fmtRate(v);
  switch (metricDef(metric).unit) {
    case 'rps':
      return `${fmtRps(v)} rps`;
    case 'ms':
      return `${fmtMs(v)} ms`;
    case 'us':
      return `${fmtMicros(v)} µs`;
    case 'rate':
      return fmtRate(v);
  }
}
