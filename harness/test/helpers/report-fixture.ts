// A run's results made in the test, without running anything: windows x concurrency cells with real encoded
// HdrHistograms (seeded, so the same every time) and summaries made by the bench's own summarize(), plus
// the things every report must show: RST_STREAM by code, scenario headlines, a failed cell, a saturated
// generator, a saturated link and a window that was not a steady state.
import { parseMatrix } from '../../matrix/load.js';
import { expandCells, type Cell } from '../../matrix/cells.js';
import { newRunResults } from '../../orchestrator/orchestrator.js';
import { initHistograms, LatencyHistogram } from '../../load/statistic/histogram.js';
import { summarize } from '../../results/summary.js';
import type { CellResult, MeasuredRep, RunResults } from '../../results/model.js';

export const FIXTURE_MATRIX = `
name: fixture
description: report fixture, "quoted", with a comma
duration: 1s
warmup: 0ms
reps: 2
axes:
  concurrency: [1, 8, 64]
  streamWindow: [65535, 1048576]
  connWindow: [1048576, 4194304]
`;

/** A fixed-seed PRNG (mulberry32): the fixture's histograms are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function rep(cell: Cell, index: number, seed: number): MeasuredRep {
  const random = prng(seed);
  const { concurrency, streamWindow, connWindow } = cell.params;
  // Larger windows and less concurrency are faster: enough of a shape for every chart to have one.
  const baseMs = 2 + concurrency * 0.5 * (65535 / streamWindow) ** 0.3 * (1048576 / connWindow) ** 0.2;
  const all = LatencyHistogram.create();
  const n = 2000;
  for (let i = 0; i < n; i++) {
    const u = Math.max(1e-9, random());
    // Log-normal body with a rare slow tail.
    const ms = baseMs * Math.exp(0.35 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random())) * (random() < 0.005 ? 8 : 1);
    all.recordMs(ms);
  }
  const latencyMs = all.summaryMs();
  const histogram = all.encode();
  all.destroy();
  const resets: Record<string, number> = concurrency === 64 && streamWindow === 65535 ? { REFUSED_STREAM: 12 + index, CANCEL: 3 } : {};
  const failed = Object.values(resets).reduce((a, b) => a + b, 0);
  const rps = (n - failed) / 1;
  return {
    rps,
    completedRps: n,
    requests: n,
    successes: n - failed,
    errorRate: failed / n,
    durationS: 1,
    latencyMs,
    latencyLowerBounds: [],
    successLatencyMs: latencyMs,
    errors: Object.fromEntries(Object.entries(resets).map(([code, k]) => [`rst:${code}`, k])),
    rst: { received: resets, sent: {} },
    rstRate: failed / n,
    generatorSaturated: concurrency === 64 && streamWindow === 1048576 && connWindow === 4194304,
    generatorCpu: 0.5,
    histogram,
    successHistogram: histogram,
    littlesLaw: { concurrency, estimate: concurrency * (concurrency === 1 && connWindow === 4194304 ? 0.6 : 1), ratio: concurrency === 1 && connWindow === 4194304 ? 0.6 : 1 },
    proxy: { cpuS: 0.15, peakRssBytes: 80e6 },
    links: [{ role: 'upstream', cpuS: 0.1, saturated: concurrency === 8 && streamWindow === 65535 && connWindow === 1048576, reason: 'delivery lateness p90 2 ms > 1 ms' }],
  };
}

/** The fixture run: 12 cells (one failed), two of them scenario cells with a headline. */
export async function reportFixture(): Promise<RunResults> {
  await initHistograms();
  const spec = parseMatrix(FIXTURE_MATRIX, 'fixture.yaml');
  const { cells } = expandCells(spec);
  const results = newRunResults({
    id: 'fixture-run',
    spec,
    file: 'fixture.yaml',
    sha256: '0'.repeat(64),
    only: [],
    plan: { durationMs: 1000, warmupMs: 0, reps: 2, timeoutMs: 5000 },
    git: { commit: 'f'.repeat(40), dirty: false },
    host: { cpuModel: 'test CPU', cores: 2, memoryBytes: 2 ** 34, kernel: '6.0', node: process.version },
    excluded: [{ id: 'concurrency=999', reason: 'an example exclusion' }],
  });
  let seed = 1;
  for (const cell of cells) {
    const base: Omit<CellResult, 'status' | 'reps'> = {
      id: cell.id,
      params: cell.params,
      axes: cell.axes,
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:02.000Z',
      overheadMs: { start: 900, stop: 100 },
      visits: 2,
    };
    if (cell.params.concurrency === 64 && cell.params.streamWindow === 1048576 && cell.params.connWindow === 1048576) {
      // An error that would end an inline <script> if the page did not escape it.
      results.cells.push({ ...base, status: 'failed', error: 'proxy exited with code 3 before /ready: </script><script>window.pwned = 1</script>', stderrTail: 'panic', reps: [] });
      continue;
    }
    const reps = [rep(cell, 0, seed++), rep(cell, 1, seed++)];
    // Two cells play a scenario, with its headline on each repetition.
    if (cell.params.concurrency === 8 && cell.params.connWindow === 4194304) {
      cell.params.scenario = 'rapid-reset';
      reps.forEach((r, i) => (r.scenario = { headline: { name: 'victim goodput, "well-behaved"', value: 900 + 50 * i + cell.params.streamWindow / 65535, unit: 'req/s', better: 'higher' }, events: [] }));
    }
    results.cells.push({ ...base, status: 'ok', reps, summary: await summarize(reps, 5000) });
  }
  results.run.status = 'complete';
  results.run.finishedAt = '2026-01-01T00:01:00.000Z';
  return results;
}
