// Baselines: a run's results.json, committed as results/baselines/<matrix>.json for the gate to read. The
// per-repetition histograms and time series are emptied (the gate reads none of them) so the file stays small
// enough to commit and to review in a diff.
import { join, resolve } from 'node:path';
import type { RunResults } from './model.js';

export const BASELINES_DIR = 'results/baselines';

export function baselinePath(matrix: string, dir = BASELINES_DIR): string {
  return join(resolve(dir), `${matrix}.json`);
}

export function slimForBaseline(r: RunResults): RunResults {
  return {
    ...r,
    cells: r.cells.map((c) => ({
      ...c,
      ...(c.summary ? { summary: { ...c.summary, histogram: '' } } : {}),
      reps: c.reps.map(({ timeSeries: _ts, trace: _trace, ...rep }) => ({ ...rep, histogram: '', successHistogram: '' })),
    })),
  };
}
