// What every report must say before its numbers: cells whose figures measure something else than the proxy
// (a saturated generator or link, an empty window, a window that was not a steady state) and failed cells.
// One list, so report.md, report.html and the bench's last screen flag the same cells.
import { LITTLES_LAW_BAND } from '../load/worker/merge.js';
import type { CellResult } from '../results/model.js';

export type WarningKind = 'generator-saturated' | 'link-saturated' | 'empty-window' | 'not-steady' | 'cell-warning' | 'failed';

export interface ReportWarning {
  kind: WarningKind;
  /** A few words, shown in bold. */
  title: string;
  /** The rest of the sentence: how many cells and why it matters. */
  text: string;
  /** Which cells, each with what it is about (its ratios, the link's reason): report.md lists them after the text, report.html folds them. */
  cells?: string[];
}

/** The warning as one line of text: `title text: cell; cell`. */
export function warningText(w: ReportWarning): string {
  return w.cells ? `${w.text}: ${w.cells.join('; ')}` : w.text;
}

export function findWarnings(cells: readonly CellResult[]): ReportWarning[] {
  const out: ReportWarning[] = [];
  const saturated = cells.filter((c) => (c.summary?.generatorSaturatedReps ?? 0) > 0);
  if (saturated.length > 0) {
    out.push({
      kind: 'generator-saturated',
      title: 'generator saturated',
      text: `in ${saturated.length} cells (it used over 90% of a core): their RPS and latency bound the generator, not the proxy`,
      cells: saturated.map((c) => c.id),
    });
  }
  const slowLinks = cells.filter((c) => c.reps.some((r) => r.links?.some((l) => l.saturated)));
  if (slowLinks.length > 0) {
    out.push({
      kind: 'link-saturated',
      title: 'link saturated',
      text: `in ${slowLinks.length} cells (the emulated link could not keep its settings): their numbers bound the link, not the proxy`,
      cells: slowLinks.map((c) => `${c.id} (${[...new Set(c.reps.flatMap((r) => r.links?.filter((l) => l.saturated).map((l) => l.reason ?? l.role) ?? []))].join('; ')})`),
    });
  }
  const empty = cells.filter((c) => c.status === 'ok' && c.reps.some((r) => r.requests === 0));
  if (empty.length > 0) {
    out.push({
      kind: 'empty-window',
      title: 'no request in the window',
      text: `in ${empty.length} cells: no request was sent in some repetition's window (a pipeline slower than warm-up and window together); their figures are empty, not zero`,
      cells: empty.map((c) => c.id),
    });
  }
  const [lo, hi] = LITTLES_LAW_BAND;
  const unsteady = cells.filter((c) => c.reps.some((r) => r.littlesLaw && (r.littlesLaw.ratio < lo || r.littlesLaw.ratio > hi)));
  if (unsteady.length > 0) {
    out.push({
      kind: 'not-steady',
      title: 'not a steady state',
      text: `in ${unsteady.length} cells: throughput x latency differs from the concurrency by more than 25% (Little's law), so their RPS is not the target's steady rate (a window short against the latency, stalled slots, or a generator that did not keep its concurrency)`,
      cells: unsteady.map((c) => `${c.id} (${c.reps.map((r) => r.littlesLaw?.ratio.toFixed(2) ?? '-').join(', ')})`),
    });
  }
  for (const c of cells) for (const w of c.warnings ?? []) out.push({ kind: 'cell-warning', title: 'warning', text: `${c.id}: ${w}` });
  for (const c of cells.filter((c) => c.status === 'failed')) out.push({ kind: 'failed', title: 'failed', text: `${c.id}: ${c.error ?? 'unknown error'}` });
  return out;
}
