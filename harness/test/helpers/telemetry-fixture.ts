// Runs for the telemetry tests: the report fixture (11 ok cells with real summaries, 2 with a scenario headline,
// 1 failed) with a chosen id, start time and goodput scale, and gates on its matrix.
import type { Gates } from '../../matrix/gates.js';
import type { RunResults } from '../../results/model.js';
import { estimate } from '../../results/summary.js';
import { reportFixture } from './report-fixture.js';

export const FIXTURE_GATES: Gates = {
  rps: { maxDrop: 0.05 },
  p99: { maxRise: 0.1 },
  cpuPerRequest: { maxRise: 0.2 },
  rstRate: { max: 0.001 },
  errorRate: { max: 0.01 },
};

/** `rpsScale` multiplies every repetition's goodput (and so the summary's), so two runs' values tell apart. */
export async function telemetryRun(id: string, startedAt: string, rpsScale = 1): Promise<RunResults> {
  const r = await reportFixture();
  r.run.id = id;
  r.run.startedAt = startedAt;
  r.run.matrix.spec.gates = { ...FIXTURE_GATES };
  for (const cell of r.cells) {
    if (!cell.summary) continue;
    for (const rep of cell.reps) rep.rps *= rpsScale;
    cell.summary.rps = estimate(cell.reps.map((rep) => rep.rps));
  }
  return r;
}
