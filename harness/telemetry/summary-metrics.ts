// A run's per-cell summaries as the samples README "Pushed summaries" names: what `--push` sends to the
// pushgateway and what `npm run history -- export` writes as OpenMetrics. Pure: results in, samples out.
import { paramsKey } from '../compare/compare-runs.js';
import { metricDef, metricValues, pooledRate, type MetricName } from '../compare/metrics.js';
import { gatesSchema, type Gates } from '../matrix/gates.js';
import type { CellResult, RunResults } from '../results/model.js';
import { mean } from '../stats/bootstrap.js';
import { cellLabels, gitRevisionLabel } from './cell-labels.js';

/** The families, in the order the contract lists them (the OpenMetrics export writes them in this order). */
export const SUMMARY_METRICS = {
  sluice_cell_rps: 'Goodput: successful responses per second, mean over repetitions.',
  sluice_cell_latency_seconds: 'Latency percentiles of all requests of all repetitions (merged histogram).',
  sluice_cell_rst_ratio: 'RST_STREAM frames received / requests, mean over repetitions.',
  sluice_cell_error_ratio: 'Failed requests / requests, mean over repetitions.',
  sluice_cell_proxy_cpu_seconds_per_request: 'Proxy CPU seconds over the measured windows / requests sent in them.',
  sluice_cell_headline: "The scenario's headline value, median over repetitions.",
  sluice_cell_gate_limit: "The gate's line: a relative threshold applied to the baseline, or an absolute one.",
  sluice_cell_measured_timestamp_seconds: 'When the run started (the pushgateway re-stamps every value at each scrape).',
  sluice_nightly_run_info: 'The run that pushed the cell (always 1).',
} as const;

export type SummaryMetric = keyof typeof SUMMARY_METRICS;

export interface SummarySample {
  name: SummaryMetric;
  /** The cell's labels and the family's own (quantile, metric and bound, ...); never job or instance. */
  labels: Record<string, string>;
  value: number;
  help: string;
}

/** The pushgateway's grouping key: a cell's group is replaced by its newest run, never by another host's, matrix's or cell's. */
export interface GroupingKey {
  job: 'sluice';
  instance: string;
  matrix: string;
  cell: string;
}

export interface CellSamples {
  grouping: GroupingKey;
  samples: SummarySample[];
}

export interface SummaryOptions {
  /** The machine that ran the run (results.json does not record its name). */
  host: string;
  /** The matrix's baseline: relative gate lines are drawn for the cells it also has. */
  baseline?: RunResults;
}

/** One group per cell that ran (`ok` with a summary); failed cells push nothing, so their last good values stay. */
export function cellSummarySamples(results: RunResults, opts: SummaryOptions): CellSamples[] {
  const run = results.run;
  const gates = readGates(results);
  // Relative lines only against a baseline of the same matrix, as the gate refuses any other.
  const baseline = opts.baseline && opts.baseline.run.matrix.name === run.matrix.name ? opts.baseline : undefined;
  const baseCells = new Map((baseline?.cells ?? []).filter((c) => c.status === 'ok').map((c) => [paramsKey(c.params), c]));
  const out: CellSamples[] = [];
  for (const cell of results.cells) {
    const s = cell.summary;
    if (cell.status !== 'ok' || !s) continue;
    const labels = cellLabels(run.matrix.name, cell);
    const samples: SummarySample[] = [];
    const add = (name: SummaryMetric, value: number | undefined, extra: Record<string, string> = {}) => {
      // A value the text formats cannot carry as a number (no request sent) is left out rather than written NaN.
      if (value !== undefined && Number.isFinite(value)) samples.push({ name, labels: { ...labels, ...extra }, value, help: SUMMARY_METRICS[name] });
    };
    add('sluice_cell_rps', s.rps.mean);
    for (const [quantile, ms] of [['0.5', s.latencyMs.p50], ['0.99', s.latencyMs.p99], ['0.999', s.latencyMs.p999]] as const) {
      add('sluice_cell_latency_seconds', ms / 1000, { quantile });
    }
    add('sluice_cell_rst_ratio', s.rstRate.mean);
    add('sluice_cell_error_ratio', s.errorRate.mean);
    add('sluice_cell_proxy_cpu_seconds_per_request', proxyCpuPerRequestS(cell));
    if (s.headline) {
      const h = s.headline;
      add('sluice_cell_headline', h.value, { scenario: cell.params.scenario, name: h.name, unit: h.unit, better: h.better });
    }
    for (const line of gateLines(gates, baseCells.get(paramsKey(cell.params)))) add('sluice_cell_gate_limit', line.value, { metric: line.metric, bound: line.bound });
    add('sluice_cell_measured_timestamp_seconds', Date.parse(run.startedAt) / 1000);
    add('sluice_nightly_run_info', 1, { run_id: run.id, git_revision: gitRevisionLabel(run.git) });
    out.push({ grouping: { job: 'sluice', instance: opts.host, matrix: run.matrix.name, cell: cell.id }, samples });
  }
  return out;
}

/**
 * The proxy's CPU per request in seconds, as report.md's "proxy CPU µs/req": compare's per-repetition value
 * pooled by requests (= CPU over all windows / requests in them). Undefined for direct cells.
 */
function proxyCpuPerRequestS(cell: CellResult): number | undefined {
  const def = metricDef('cpuPerRequest');
  const withProxy = cell.reps.filter((r) => def.value(r) !== undefined);
  const us = pooledRate(withProxy, (r) => def.value(r)!);
  return us === undefined ? undefined : us / 1e6;
}

interface GateLine {
  metric: 'rps' | 'p50_seconds' | 'p99_seconds' | 'p999_seconds' | 'rst_ratio' | 'error_ratio' | 'proxy_cpu_seconds_per_request';
  bound: 'floor' | 'ceiling';
  value: number | undefined;
}

/** The relative gates, the label each line gets and the factor from the metric's unit (compare's) to the sample's. */
const RELATIVE: readonly { gate: Exclude<MetricName, 'errorRate'>; metric: GateLine['metric']; toSample: number }[] = [
  { gate: 'rps', metric: 'rps', toSample: 1 },
  { gate: 'p50', metric: 'p50_seconds', toSample: 1e-3 },
  { gate: 'p99', metric: 'p99_seconds', toSample: 1e-3 },
  { gate: 'p999', metric: 'p999_seconds', toSample: 1e-3 },
  { gate: 'cpuPerRequest', metric: 'proxy_cpu_seconds_per_request', toSample: 1e-6 },
];

/**
 * Absolute gates always; a relative one where the baseline has the cell. The relative line is the baseline's
 * mean of per-repetition values moved by the threshold: the gate compares means of per-repetition values, which for
 * the latencies differ a little from the merged percentiles plotted beside the line.
 */
function gateLines(gates: Gates, baseCell: CellResult | undefined): GateLine[] {
  const lines: GateLine[] = [];
  if (gates.rstRate) lines.push({ metric: 'rst_ratio', bound: 'ceiling', value: gates.rstRate.max });
  if (gates.errorRate) lines.push({ metric: 'error_ratio', bound: 'ceiling', value: gates.errorRate.max });
  if (!baseCell) return lines;
  for (const { gate, metric, toSample } of RELATIVE) {
    const g = gates[gate];
    const values = metricValues(baseCell.reps, metricDef(gate));
    if (!g || values.length === 0) continue;
    const factor = 'maxDrop' in g ? 1 - g.maxDrop : 1 + g.maxRise;
    lines.push({ metric, bound: 'maxDrop' in g ? 'floor' : 'ceiling', value: mean(values) * toSample * factor });
  }
  return lines;
}

/** The run's gates as it was run, re-read so older files' `5%` strings work; unreadable gates draw no lines (the push must not fail on them). */
function readGates(results: RunResults): Gates {
  const parsed = gatesSchema.safeParse(results.run.matrix.spec.gates ?? {});
  return parsed.success ? parsed.data : {};
}
