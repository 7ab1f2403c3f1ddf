// P99 over stream window x connection window: one small table per combination of the other swept axes, each
// cell coloured by its P99 on a log scale of that table's own range (a 50 ms link and a 0 ms one would otherwise
// share one colour each), with the value written in it. Plain HTML: exact numbers, nothing for the browser to run.
import type { CellResult } from '../results/model.js';
import { fmtMs } from './format-number.js';
import { escapeHtml } from './html-escape.js';
import { measured } from './report-charts.js';
import { axisRoles, axisValues, fmtAxisValue, groupBy, type AxisRoles } from './report-plan.js';

export const HEAT_ROWS = 'streamWindow';
export const HEAT_COLUMNS = 'connWindow';

export interface HeatMap {
  title: string;
  rows: string[];
  columns: string[];
  /** P99 ms by row then column; undefined where no cell was measured (excluded or failed). */
  p99: (number | undefined)[][];
  lowerBound: boolean[][];
}

/** The heat maps, or why there are none. */
export function heatMaps(cells: readonly CellResult[], roles: AxisRoles = axisRoles(cells)): HeatMap[] | { missing: string } {
  const unswept = [HEAT_ROWS, HEAT_COLUMNS].filter((a) => !roles.swept.includes(a));
  if (unswept.length > 0) return { missing: `This matrix does not sweep ${unswept.join(' and ')}: a heat map of P99 over stream window x connection window needs both.` };
  const ok = measured(cells);
  const rows = axisValues(cells, HEAT_ROWS);
  const columns = axisValues(cells, HEAT_COLUMNS);
  const others = roles.swept.filter((a) => a !== HEAT_ROWS && a !== HEAT_COLUMNS);
  return groupBy(ok, others).map((g) => {
    const at = (r: unknown, c: unknown) => g.cells.find((cell) => cell.axes[HEAT_ROWS] === r && cell.axes[HEAT_COLUMNS] === c);
    return {
      title: g.key || 'all cells',
      rows: rows.map((v) => fmtAxisValue(HEAT_ROWS, v)),
      columns: columns.map((v) => fmtAxisValue(HEAT_COLUMNS, v)),
      p99: rows.map((r) => columns.map((c) => at(r, c)?.summary?.latencyMs.p99)),
      lowerBound: rows.map((r) => columns.map((c) => at(r, c)?.summary?.latencyLowerBounds.includes('p99') ?? false)),
    };
  });
}

/** Light yellow (low P99, better) to dark red (high): a sequential scale readable in print and by most colour-blind readers. */
const STOPS: [number, number, number][] = [
  [255, 255, 204],
  [254, 217, 118],
  [253, 141, 60],
  [227, 26, 28],
  [128, 0, 38],
];

export function heatColour(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [STOPS[i]!, STOPS[i + 1]!];
  const c = a.map((v, k) => Math.round(v + (b[k]! - v) * f));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

export function renderHeatMap(m: HeatMap): string {
  const values = m.p99.flat().filter((v): v is number => v !== undefined && v > 0);
  const lo = values.length > 0 ? Math.log(Math.min(...values)) : 0;
  const hi = values.length > 0 ? Math.log(Math.max(...values)) : 0;
  const t = (v: number) => (hi > lo ? (Math.log(v) - lo) / (hi - lo) : 0.5);
  const head = `<tr><th>stream \\ conn</th>${m.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr>`;
  const body = m.rows.map((r, i) => {
    const cells = m.columns.map((_, j) => {
      const v = m.p99[i]![j];
      if (v === undefined) return '<td class="heat-none">-</td>';
      const dark = t(v) > 0.55;
      return `<td class="heat" style="background:${heatColour(t(v))};color:${dark ? '#fff' : '#000'}">${m.lowerBound[i]![j] ? '&gt;=' : ''}${fmtMs(v)}</td>`;
    });
    return `<tr><th>${escapeHtml(r)}</th>${cells.join('')}</tr>`;
  });
  return `<figure class="heatmap"><figcaption>${escapeHtml(m.title)}</figcaption><table>${head}${body.join('')}</table></figure>`;
}
