// The order of repetitions: interleaved by default (every cell's first, then every cell's second), or a cell's
// back to back; a resumed run owes only what is missing; visits of a cell merge into one result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMatrix } from '../matrix/load.js';
import { expandCells } from '../matrix/cells.js';
import { scheduleVisits } from '../orchestrator/schedule.js';
import { estimateRunMs, pendingVisits } from '../orchestrator/orchestrator.js';
import { mergeVisit } from '../orchestrator/merge-visit.js';
import type { CellResult } from '../results/model.js';
import { initHistograms, LatencyHistogram } from '../load/statistic/histogram.js';
import { sampleRep, sampleResults } from './helpers/sample-results.js';

const cells = expandCells(parseMatrix('name: s\nduration: 1s\naxes: {concurrency: [1, 2]}\n', 's.yaml')).cells;
const fresh = cells.map((cell) => ({ cell, done: 0 }));
const names = (visits: ReturnType<typeof scheduleVisits>) => visits.map((v) => `c${v.cell.params.concurrency}r${v.firstRep + 1}x${v.reps}`);

test('2 cells x 2 reps interleaved: c1r1, c2r1, c1r2, c2r2, one repetition a visit', () => {
  assert.deepEqual(names(scheduleVisits(fresh, 2, 'interleave')), ['c1r1x1', 'c2r1x1', 'c1r2x1', 'c2r2x1']);
});

test('order cell: one visit a cell with all its repetitions, as before', () => {
  assert.deepEqual(names(scheduleVisits(fresh, 2, 'cell')), ['c1r1x2', 'c2r1x2']);
});

test('a resumed run owes only the missing repetitions, in the same order', () => {
  const partial = [{ cell: cells[0]!, done: 2 }, { cell: cells[1]!, done: 1 }];
  assert.deepEqual(names(scheduleVisits(partial, 3, 'interleave')), ['c2r2x1', 'c1r3x1', 'c2r3x1']);
  assert.deepEqual(names(scheduleVisits(partial, 3, 'cell')), ['c1r3x1', 'c2r2x2']);
  assert.deepEqual(scheduleVisits([{ cell: cells[0]!, done: 3 }], 3, 'interleave'), []);
});

test('pendingVisits: ok cells keep their repetitions, a failed cell starts over', () => {
  const results = sampleResults(); // cell 1 ok with 1 rep
  const expansion = expandCells(results.run.matrix.spec);
  assert.deepEqual(names(pendingVisits(results, expansion, 2)), ['c2r1x1', 'c1r2x1', 'c2r2x1']);
  results.cells[0]!.status = 'failed';
  assert.deepEqual(names(pendingVisits(results, expansion, 2)), ['c1r1x1', 'c2r1x1', 'c1r2x1', 'c2r2x1']);
});

test('the estimate counts a start per visit: interleaving costs starts, not load', () => {
  const plan = { durationMs: 1000, warmupMs: 500, reps: 2, timeoutMs: 5000 };
  const overhead = 2000;
  assert.equal(estimateRunMs(scheduleVisits(fresh, 2, 'cell'), plan, overhead), 2 * (2000 + 500 + 2 * 1000));
  assert.equal(estimateRunMs(scheduleVisits(fresh, 2, 'interleave'), plan, overhead), 4 * (2000 + 500 + 1000));
});

/** A repetition with a real histogram (the summary merges them). */
async function measuredRep(rps: number) {
  await initHistograms();
  const h = LatencyHistogram.create();
  try {
    h.recordMicros(1000);
    return { ...sampleRep(rps), histogram: h.encode(), successHistogram: h.encode() };
  } finally {
    h.destroy();
  }
}

test('visits of a cell merge: repetitions in order, the summary over all, the overhead a mean per visit', async () => {
  const first: CellResult = { ...sampleResults().cells[0]!, reps: [await measuredRep(100)], overheadMs: { start: 400, stop: 100 }, connect: { ms: 2, connections: 1, ready: 1 } };
  const second: CellResult = { ...first, reps: [await measuredRep(300)], overheadMs: { start: 600, stop: 300 }, finishedAt: new Date(5000).toISOString(), connect: { ms: 9, connections: 1, ready: 1 } };
  const merged = await mergeVisit(first, second, 5000);
  assert.deepEqual(merged.reps.map((r) => r.rps), [100, 300]);
  assert.equal(merged.visits, 2);
  assert.deepEqual(merged.overheadMs, { start: 500, stop: 200 });
  assert.equal(merged.startedAt, first.startedAt);
  assert.equal(merged.finishedAt, second.finishedAt);
  assert.equal(merged.connect?.ms, 2, "the first visit's connect");
  assert.equal(merged.summary?.rps.mean, 200);
  assert.equal(merged.summary?.rps.n, 2);
  const failed = await mergeVisit(merged, { ...second, status: 'failed', error: 'proxy exited with code 3', reps: [] }, 5000);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error, 'proxy exited with code 3');
  assert.equal(failed.reps.length, 2, 'the repetitions measured before stay');
});
