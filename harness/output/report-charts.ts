// report.html's charts as data (chart-spec.ts), built from the cells: goodput and P99 against the swept load,
// RST_STREAM rate by code, scenario headlines and HdrHistogram percentile plots. Pure functions.
import type { CellResult } from '../results/model.js';
import type { BarChart, ChartSpec, LineChart, XScale } from './chart-spec.js';
import { percentileCurve } from './percentile-curve.js';
import { axisRoles, groupBy, labelOf, numericValues, type AxisRoles } from './report-plan.js';

/** Lines per percentile plot: more are unreadable, so a group is split over several plots. */
const MAX_LINES = 8;

export interface SweepCharts {
  /** What the charts are drawn against, for the section's heading. */
  against: string;
  charts: ChartSpec[];
}

/** Measured cells: ok and summarized. */
export function measured(cells: readonly CellResult[]): CellResult[] {
  return cells.filter((c) => c.status === 'ok' && c.summary !== undefined);
}

/** Goodput and P99 against the x axis, one line per window setting, a pair of charts per panel; bars per cell when no load axis is swept. */
export function sweepCharts(cells: readonly CellResult[], roles: AxisRoles = axisRoles(cells)): SweepCharts {
  const ok = measured(cells);
  const x = roles.x;
  if (!x) {
    const labels = ok.map((c) => labelOf(c, roles.swept));
    const bar = (id: string, title: string, valueLabel: string, values: number[]): BarChart => ({
      kind: 'bar',
      id,
      title,
      categories: labels,
      valueLabel,
      stacked: false,
      series: [{ label: valueLabel, values }],
    });
    return {
      against: 'each cell (the matrix sweeps no load axis)',
      charts: [
        bar('sweep-rps', 'Goodput per cell', 'goodput (rps)', ok.map((c) => c.summary!.rps.mean)),
        bar('sweep-p99', 'P99 latency per cell', 'P99 (ms)', ok.map((c) => c.summary!.latencyMs.p99)),
      ],
    };
  }
  const xs = numericValues(ok, x);
  const charts: ChartSpec[] = [];
  groupBy(ok, roles.panels).forEach((panel, i) => {
    const lines = groupBy(panel.cells, roles.series);
    const line = (label: string, y: { label: string; of: (c: CellResult) => number }, id: string): LineChart => ({
      kind: 'line',
      id: `sweep-${id}-${i}`,
      title: `${label} against ${x}` + (panel.key ? ` (${panel.key})` : ''),
      x: { label: x, scale: xScaleOf(xs), values: xs },
      y: { label: y.label },
      series: lines.map((l) => ({
        label: l.key || 'all cells',
        values: xs.map((v) => {
          const c = l.cells.find((c) => c.axes[x] === v);
          return c ? y.of(c) : null;
        }),
      })),
    });
    charts.push(line('Goodput', { label: 'goodput (rps)', of: (c) => c.summary!.rps.mean }, 'rps'));
    charts.push(line('P99 latency', { label: 'P99 (ms)', of: (c) => c.summary!.latencyMs.p99 }, 'p99'));
  });
  return { against: x, charts };
}

/** A log scale where the values span a wide range of positive numbers (1..256 concurrency); base 2 reads well for powers of two. */
function xScaleOf(xs: readonly number[]): XScale {
  const lo = xs[0] ?? 0;
  const hi = xs[xs.length - 1] ?? 0;
  if (lo <= 0 || hi / lo < 8) return 'linear';
  return xs.every((v) => Number.isInteger(Math.log2(v))) ? 'log2' : 'log10';
}

export interface RstChart {
  chart?: BarChart;
  /** Cells measured that received no RST_STREAM: left out of the chart. */
  without: number;
}

/** RST_STREAM frames received by the generator per request sent, by code, one stacked bar per cell that received any. */
export function rstChart(cells: readonly CellResult[], roles: AxisRoles = axisRoles(cells)): RstChart {
  const ok = measured(cells);
  const rates = ok.map((c) => {
    const requests = c.reps.reduce((a, r) => a + r.requests, 0);
    const byCode = new Map<string, number>();
    for (const r of c.reps) for (const [code, n] of Object.entries(r.rst.received)) byCode.set(code, (byCode.get(code) ?? 0) + n);
    return { cell: c, rate: new Map([...byCode].map(([code, n]) => [code, requests > 0 ? n / requests : 0])) };
  });
  const withRst = rates.filter((r) => [...r.rate.values()].some((v) => v > 0));
  const codes = [...new Set(withRst.flatMap((r) => [...r.rate.keys()]))].sort();
  if (withRst.length === 0) return { without: ok.length };
  return {
    without: ok.length - withRst.length,
    chart: {
      kind: 'bar',
      id: 'rst',
      title: 'RST_STREAM received per request, by code',
      categories: withRst.map((r) => labelOf(r.cell, roles.swept)),
      valueLabel: 'RST_STREAM / request',
      stacked: true,
      series: codes.map((code) => ({ label: code, values: withRst.map((r) => r.rate.get(code) ?? 0) })),
    },
  };
}

/** One bar chart per scenario headline (its name and unit), one bar per cell that measured it. */
export function headlineCharts(cells: readonly CellResult[], roles: AxisRoles = axisRoles(cells)): BarChart[] {
  const scenarioCells = measured(cells).filter((c) => c.params.scenario !== 'unary' && c.summary!.headline);
  const groups = new Map<string, CellResult[]>();
  for (const c of scenarioCells) {
    const h = c.summary!.headline!;
    const key = `${h.name} (${h.unit}, ${h.better} is better)`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  // The scenario names the chart; the bars are told apart by the other swept axes.
  const axes = roles.swept.filter((a) => a !== 'scenario');
  return [...groups].map(([key, group], i) => ({
    kind: 'bar',
    id: `headline-${i}`,
    title: `${group[0]!.params.scenario}: ${key}`,
    categories: group.map((c) => labelOf(c, axes)),
    valueLabel: `${group[0]!.summary!.headline!.name} (${group[0]!.summary!.headline!.unit})`,
    stacked: false,
    series: [{ label: group[0]!.summary!.headline!.name, values: group.map((c) => c.summary!.headline!.value) }],
  }));
}

/**
 * Percentile plots of the cells' merged histograms (every outcome of every repetition): one plot per panel and
 * x value, one curve per window setting; with no load axis, curves per cell, a few per plot.
 */
export function distributionCharts(cells: readonly CellResult[], roles: AxisRoles = axisRoles(cells)): LineChart[] {
  const ok = measured(cells);
  const plotAxes = roles.x ? [...roles.panels, roles.x] : roles.panels;
  const charts: LineChart[] = [];
  for (const group of groupBy(ok, plotAxes)) {
    const curves = group.cells.map((c) => ({ label: labelOf(c, roles.x ? roles.series : roles.swept), points: percentileCurve(c.summary!.histogram) }));
    const drawn = curves.filter((c) => c.points.length > 0);
    for (let start = 0; start < drawn.length; start += MAX_LINES) {
      const part = drawn.slice(start, start + MAX_LINES);
      // Curves have their own percentile steps: the x values are their union, each curve null where it has no point.
      const xs = [...new Set(part.flatMap((c) => c.points.map((p) => p.x)))].sort((a, b) => a - b);
      const index = new Map(xs.map((x, i) => [x, i]));
      const more = drawn.length > MAX_LINES ? ` [${start / MAX_LINES + 1}/${Math.ceil(drawn.length / MAX_LINES)}]` : '';
      charts.push({
        kind: 'line',
        id: `dist-${charts.length}`,
        title: `Latency by percentile` + (group.key ? ` (${group.key})` : '') + more,
        x: { label: 'percentile', scale: 'percentile', values: xs },
        y: { label: 'latency (ms)' },
        series: part.map((c) => {
          const values: (number | null)[] = xs.map(() => null);
          for (const p of c.points) values[index.get(p.x)!] = p.latencyMs;
          return { label: c.label || 'all cells', values };
        }),
      });
    }
  }
  return charts;
}
