// What report.html draws, as plain data: the page embeds these as JSON and its small drawing script turns each
// into a uPlot chart. Built in Node from results.json (report-charts.ts), so the browser only draws.

/** Series colours, in order: saturated enough to tell apart from the grey axes and grid (the browser test looks for them). */
export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#393b79'] as const;

/**
 * x scales: `linear`; `log2` (concurrency 1, 8, 64, 256); `log10`; `percentile`: x is 1/(1-p) on a log10 scale
 * and its ticks read as percentiles (90%, 99%, 99.9%), the axis of HdrHistogram's percentile plots.
 */
export type XScale = 'linear' | 'log2' | 'log10' | 'percentile';

export interface LineChart {
  kind: 'line';
  id: string;
  title: string;
  x: { label: string; scale: XScale; values: number[] };
  y: { label: string };
  /** One value per x; null where the series has no point (gaps are spanned: a curve joins its own points). */
  series: { label: string; values: (number | null)[] }[];
}

/** Horizontal bars, one per category (a cell); `stacked`: each bar is cut into the series' segments. */
export interface BarChart {
  kind: 'bar';
  id: string;
  title: string;
  categories: string[];
  valueLabel: string;
  stacked: boolean;
  series: { label: string; values: number[] }[];
}

export type ChartSpec = LineChart | BarChart;
