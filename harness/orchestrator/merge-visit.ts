// A cell visited more than once (interleaved repetitions) is one result: its repetitions in the order they ran,
// its summary over all of them, and the overhead of a visit as the mean over its visits.
import type { CellResult } from '../results/model.js';
import { summarize } from '../results/summary.js';

/** `prev` (the cell so far, if any) and one more visit of it; a failed visit fails the cell. */
export async function mergeVisit(prev: CellResult | undefined, visit: CellResult, timeoutMs: number): Promise<CellResult> {
  if (!prev) return visit;
  const visits = prev.visits + visit.visits;
  const mean = (a: number, b: number) => Math.round((a * prev.visits + b * visit.visits) / visits);
  const reps = [...prev.reps, ...visit.reps];
  const warnings = [...new Set([...(prev.warnings ?? []), ...(visit.warnings ?? [])])];
  const { error: _e, stderrTail: _s, summary: _summary, warnings: _w, ...kept } = prev;
  return {
    ...kept,
    status: visit.status,
    ...(visit.status === 'failed' ? { error: visit.error, stderrTail: visit.stderrTail } : {}),
    finishedAt: visit.finishedAt,
    overheadMs: { start: mean(prev.overheadMs.start, visit.overheadMs.start), stop: mean(prev.overheadMs.stop, visit.overheadMs.stop) },
    visits,
    ...(prev.connect ?? visit.connect ? { connect: prev.connect ?? visit.connect } : {}),
    ...(visit.links ?? prev.links ? { links: visit.links ?? prev.links } : {}),
    // The last visit's config (each visit has its own ports).
    ...(visit.proxy ?? prev.proxy ? { proxy: visit.proxy ?? prev.proxy } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
    reps,
    ...(reps.length > 0 ? { summary: await summarize(reps, timeoutMs) } : {}),
  };
}
