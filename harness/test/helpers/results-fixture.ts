// Small hand-built results.json runs for compare and gate tests: a real matrix (parsed and expanded as the bench
// does) and per-repetition values chosen by the test; every other field holds a plausible constant.
import { expandCells } from '../../matrix/cells.js';
import { parseMatrix } from '../../matrix/load.js';
import { RESULTS_SCHEMA, type CellResult, type MeasuredRep, type RunResults } from '../../results/model.js';

export interface RepValues {
  rps: number;
  p50?: number;
  p99?: number;
  p999?: number;
  errorRate?: number;
  rstRate?: number;
  requests?: number;
  /** Proxy CPU seconds over the window; absent: no proxy record (a direct cell). */
  cpuS?: number;
}

export const TWO_CELLS = `name: fixture
protocol: h2
duration: 1s
reps: 5
axes:
  protocol: [h1, h2]
  concurrency: [8]
gates:
  rps: {maxDrop: 5%}
  p99: {maxRise: 10%}
  rstRate: {max: 0.001}
`;

export function rep(v: RepValues): MeasuredRep {
  const requests = v.requests ?? Math.round(v.rps);
  const latencyMs = { p50: v.p50 ?? 1, p90: v.p99 ?? 2, p95: v.p99 ?? 2, p99: v.p99 ?? 2, p999: v.p999 ?? 3, max: v.p999 ?? 3, mean: v.p50 ?? 1 };
  const record = {
    rps: v.rps,
    completedRps: v.rps,
    requests,
    successes: requests,
    errorRate: v.errorRate ?? 0,
    durationS: 1,
    latencyMs,
    latencyLowerBounds: [],
    successLatencyMs: latencyMs,
    errors: {},
    rst: { received: {}, sent: {} },
    rstRate: v.rstRate ?? 0,
    generatorSaturated: false,
    generatorCpu: 0.5,
    histogram: 'HISTOGRAM',
    successHistogram: 'HISTOGRAM',
    timeSeries: [{ t: 0, rps: v.rps, p99Ms: 2, errors: 0 }],
    ...(v.cpuS !== undefined ? { proxy: { cpuS: v.cpuS, peakRssBytes: 1 } } : {}),
  };
  return record as unknown as MeasuredRep;
}

/** A complete run of the matrix in `yaml`, each cell's repetitions given by `reps(cellId)` (undefined: the cell failed). */
export function fixtureRun(yaml: string, reps: (id: string) => RepValues[] | undefined, id = 'run-a'): RunResults {
  const spec = parseMatrix(yaml, 'fixture.yaml');
  const { cells, excluded } = expandCells(spec);
  return {
    schema: RESULTS_SCHEMA,
    run: {
      id,
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:01:00.000Z',
      status: 'complete',
      git: { commit: '0123456789abcdef', dirty: false },
      host: { cpuModel: 'test', cores: 2, memoryBytes: 1 << 30, kernel: '6.0', node: 'v20' },
      matrix: { name: spec.name, file: 'fixture.yaml', sha256: '0'.repeat(64), spec },
      generator: { name: 'sluice', version: '0.0.0', revision: null },
      proxy: { name: 'sluice', version: '0.0.0', revision: null },
      pinning: {},
      options: { only: [], durationMs: 1000, warmupMs: 1000, reps: spec.reps, order: 'interleave' },
    },
    cells: cells.map((c): CellResult => {
      const values = reps(c.id);
      return {
        id: c.id,
        params: c.params,
        axes: c.axes as CellResult['axes'],
        status: values ? 'ok' : 'failed',
        ...(values ? {} : { error: 'proxy exited with code 1' }),
        startedAt: '2026-01-01T00:00:00.000Z',
        finishedAt: '2026-01-01T00:00:10.000Z',
        overheadMs: { start: 100, stop: 50 },
        visits: values?.length ?? 1,
        reps: (values ?? []).map(rep),
      };
    }),
    excluded,
  };
}

/** n repetitions around a value: value x (1 + spread x k) for k spread evenly over [-1, 1]. */
export function around(value: number, n: number, spread = 0.01): number[] {
  return Array.from({ length: n }, (_, i) => value * (1 + spread * (n === 1 ? 0 : (2 * i) / (n - 1) - 1)));
}
