// results.csv: one row per cell and repetition, flat columns, for spreadsheets and pandas. A pure function of
// results.json. Numbers are plain (no thousands separators, no units in the cell: units are in the column
// names); an empty field is a number that does not exist (a failed cell, no proxy, no scenario).
import type { CellResult, MeasuredRep, RunResults } from '../results/model.js';

/** The columns after the cell, the repetition and the swept axes, in order. */
export const CSV_METRIC_COLUMNS = [
  'rps',
  'completedRps',
  'errorRate',
  'p50Ms',
  'p90Ms',
  'p99Ms',
  'p999Ms',
  'rstRate',
  'proxyCpuUsPerRequest',
  'headlineName',
  'headlineValue',
  'headlineUnit',
  'status',
] as const;

type Field = string | number | boolean | undefined;

export function formatCsv(r: RunResults): string {
  const axes = sweptAxes(r.cells);
  const header = ['cell', 'rep', ...axes, ...CSV_METRIC_COLUMNS];
  const rows: Field[][] = [];
  for (const c of r.cells) {
    const axisValues = axes.map((a) => c.axes[a]);
    // A cell that failed before measuring still gets a row, so the file lists every cell the run attempted.
    if (c.reps.length === 0) rows.push([c.id, undefined, ...axisValues, ...CSV_METRIC_COLUMNS.map((k) => (k === 'status' ? c.status : undefined))]);
    c.reps.forEach((rep, i) => rows.push([c.id, i + 1, ...axisValues, ...metrics(c, rep)]));
  }
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

function metrics(c: CellResult, rep: MeasuredRep): Field[] {
  const h = rep.scenario?.headline;
  const cpu = rep.proxy && rep.requests > 0 ? (rep.proxy.cpuS / rep.requests) * 1e6 : undefined;
  const byColumn: Record<(typeof CSV_METRIC_COLUMNS)[number], Field> = {
    rps: round(rep.rps, 3),
    completedRps: round(rep.completedRps, 3),
    errorRate: significant(rep.errorRate),
    p50Ms: round(rep.latencyMs.p50, 3),
    p90Ms: round(rep.latencyMs.p90, 3),
    p99Ms: round(rep.latencyMs.p99, 3),
    p999Ms: round(rep.latencyMs.p999, 3),
    rstRate: significant(rep.rstRate),
    proxyCpuUsPerRequest: cpu === undefined ? undefined : round(cpu, 2),
    headlineName: h?.name,
    headlineValue: h ? significant(h.value) : undefined,
    headlineUnit: h?.unit,
    status: c.status,
  };
  return CSV_METRIC_COLUMNS.map((k) => byColumn[k]);
}

/** Axes swept in any cell, in the order the cells list them (the matrix file's order). */
function sweptAxes(cells: readonly CellResult[]): string[] {
  return [...new Set(cells.flatMap((c) => Object.keys(c.axes)))];
}

/** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled. */
export function csvField(v: Field): string {
  if (v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rounded to `digits` decimals without trailing zeros: latencies keep their µs, rates their thousandths. */
function round(n: number | undefined, digits: number): number | undefined {
  return n === undefined || !Number.isFinite(n) ? undefined : Number(n.toFixed(digits));
}

/** Six significant digits: small shares (1e-5) keep their precision, float noise goes. */
function significant(n: number | undefined): number | undefined {
  return n === undefined || !Number.isFinite(n) ? undefined : Number(n.toPrecision(6));
}
