// Which swept axis goes where in report.html's charts. The x axis is a load-shaped number (concurrency first);
// one line per window setting (the question the h2 sweep asks); every other swept axis makes a panel of its own,
// so a line never mixes, say, a 10 ms link with a 50 ms one.
import type { CellResult } from '../results/model.js';
import { fmtBytes } from './format-number.js';

/** Axes that make sense as an x axis, in order of preference. */
const X_CANDIDATES = ['concurrency', 'connections', 'endpoints', 'rttMs', 'bandwidthMbps', 'responseBytes', 'requestBytes', 'streamMessages', 'jitterMs'];
/** The proxy's window settings: one line each. */
export const WINDOW_AXES = ['streamWindow', 'connWindow', 'adaptive'];

export interface AxisRoles {
  /** All axes with two values or more among the cells, in the matrix's order. */
  swept: string[];
  x?: string;
  series: string[];
  panels: string[];
}

export function axisRoles(cells: readonly CellResult[]): AxisRoles {
  const names = [...new Set(cells.flatMap((c) => Object.keys(c.axes)))];
  const swept = names.filter((a) => new Set(cells.map((c) => String(c.axes[a]))).size > 1);
  const x = X_CANDIDATES.find((a) => swept.includes(a) && cells.every((c) => typeof c.axes[a] === 'number'));
  const rest = swept.filter((a) => a !== x);
  const windows = rest.filter((a) => WINDOW_AXES.includes(a));
  // Without a window axis, the other axes are the lines and there is one panel.
  const series = windows.length > 0 ? windows : rest;
  return { swept, x, series, panels: rest.filter((a) => !series.includes(a)) };
}

/** An axis value as a reader wants it: windows and byte counts in KiB/MiB. */
export function fmtAxisValue(axis: string, v: string | number | boolean | undefined): string {
  if (v === undefined) return '-';
  if (typeof v === 'number' && /Window$|Bytes$/.test(axis) && v >= 1024) return fmtBytes(v).replace(' ', '');
  return String(v);
}

/** `streamWindow=64KiB, connWindow=1MiB`: the cell's values of the given axes; the cell id when there are none. */
export function labelOf(c: CellResult, axes: readonly string[]): string {
  return axes.length === 0 ? c.id : valuesOf(c, axes);
}

function valuesOf(c: CellResult, axes: readonly string[]): string {
  return axes.map((a) => `${a}=${fmtAxisValue(a, c.axes[a])}`).join(', ');
}

/** Cells grouped by their values of `axes`, groups in first-seen order (the matrix's order). */
export function groupBy(cells: readonly CellResult[], axes: readonly string[]): { key: string; cells: CellResult[] }[] {
  const groups = new Map<string, CellResult[]>();
  for (const c of cells) {
    const key = valuesOf(c, axes);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups].map(([key, cells]) => ({ key, cells }));
}

/** Distinct values of a numeric axis, ascending. */
export function numericValues(cells: readonly CellResult[], axis: string): number[] {
  return [...new Set(cells.map((c) => c.axes[axis]).filter((v): v is number => typeof v === 'number'))].sort((a, b) => a - b);
}

/** Distinct values of an axis, numbers ascending, others in first-seen order. */
export function axisValues(cells: readonly CellResult[], axis: string): (string | number | boolean)[] {
  const values = [...new Set(cells.map((c) => c.axes[axis]).filter((v) => v !== undefined))];
  return values.every((v) => typeof v === 'number') ? (values as number[]).sort((a, b) => a - b) : values;
}
