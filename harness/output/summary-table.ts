// The run at a glance: one row per cell (cell, goodput, P50, P99, errors, scenario headline). The bench's last
// screen prints it as text; report.html shows the same rows as a table.
import type { CellResult } from '../results/model.js';
import { fmtErrors, fmtHeadline, fmtMs, fmtRps } from './format-number.js';

export const SUMMARY_COLUMNS = ['cell', 'goodput rps', 'P50 ms', 'P99 ms', 'errors', 'headline'] as const;

/** A cell's row; a failed cell says so in place of its numbers. */
export function summaryRow(c: CellResult): string[] {
  const s = c.summary;
  if (c.status !== 'ok' || !s) return [c.id, 'FAILED', '-', '-', '-', c.error ?? ''];
  const lower = new Set<string>(s.latencyLowerBounds);
  const ms = (key: 'p50' | 'p99'): string => (lower.has(key) ? '>=' : '') + fmtMs(s.latencyMs[key]);
  const headline = s.headline && c.params.scenario !== 'unary' ? fmtHeadline(s.headline) : '';
  return [c.id, fmtRps(s.rps.mean) + (s.generatorSaturatedReps > 0 ? ' (gen. saturated)' : ''), ms('p50'), ms('p99'), fmtErrors(s.errors, 2), headline];
}

/** The rows as a padded text table: text left-aligned, numbers right-aligned. */
export function formatSummaryTable(cells: readonly CellResult[]): string {
  if (cells.length === 0) return 'no cells measured\n';
  const rows = [[...SUMMARY_COLUMNS], ...cells.map(summaryRow)];
  const width = SUMMARY_COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const numeric = new Set([1, 2, 3]);
  const line = (r: string[]) =>
    r
      .map((v, i) => (numeric.has(i) ? v.padStart(width[i]!) : v.padEnd(width[i]!)))
      .join('  ')
      .trimEnd();
  return rows.map(line).join('\n') + '\n';
}
