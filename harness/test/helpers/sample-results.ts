// A small valid results.json in memory (one cell, one repetition), for tests of reading and validating.
import { parseMatrix } from '../../matrix/load.js';
import { expandCells } from '../../matrix/cells.js';
import { newRunResults } from '../../orchestrator/orchestrator.js';
import type { CellResult, MeasuredRep, RunResults } from '../../results/model.js';

export function sampleRep(rps = 100): MeasuredRep {
  const latency = { p50: 1, p90: 2, p99: 3, p999: 4, max: 5, mean: 1.5 };
  return {
    rps,
    completedRps: rps,
    requests: rps,
    successes: rps,
    errorRate: 0,
    durationS: 1,
    latencyMs: latency,
    latencyLowerBounds: [],
    successLatencyMs: latency,
    errors: {},
    rst: { received: {}, sent: {} },
    rstRate: 0,
    generatorSaturated: false,
    generatorCpu: 0.2,
    histogram: 'HISTFAkAAAAA',
    successHistogram: 'HISTFAkAAAAA',
    proxy: { cpuS: 0.1, peakRssBytes: 50e6 },
  };
}

export function sampleResults(): RunResults {
  const spec = parseMatrix('name: sample\nduration: 1s\naxes: {concurrency: [1, 2]}\n', 'sample.yaml');
  const expansion = expandCells(spec);
  const plan = { durationMs: 1000, warmupMs: 0, reps: 1, timeoutMs: 5000 };
  const host = { cpuModel: 'test', cores: 2, memoryBytes: 1e9, kernel: '6.0', node: process.version };
  const results = newRunResults({ id: 'r', spec, file: 'sample.yaml', sha256: '0', only: [], plan, git: null, host, excluded: [] });
  const cell = expansion.cells[0]!;
  const result: CellResult = {
    id: cell.id,
    params: cell.params,
    axes: cell.axes as CellResult['axes'],
    status: 'ok',
    startedAt: new Date(0).toISOString(),
    finishedAt: new Date(1000).toISOString(),
    overheadMs: { start: 500, stop: 100 },
    visits: 1,
    reps: [sampleRep()],
  };
  results.cells.push(result);
  results.run.status = 'complete';
  return results;
}
