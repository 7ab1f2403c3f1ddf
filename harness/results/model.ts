// results.json, schema sluice.results/v1 (DESIGN.md "Results"). compare, gate and the reports read this.
// These interfaces carry the documentation; schema/ holds the same model as zod (the source of
// results.schema.json), and schema/agreement.ts makes tsc fail when the two differ.
import type { LatencySummaryMs, PercentileName, RepResult } from '../load/types.js';
import type { H2loadSummary } from '../load/external/h2load-output.js';
import type { ProxyMetricsDelta } from '../orchestrator/proxy-metrics.js';
import type { ProxyConfig } from '../proxies/driver.js';
import type { Headline, ObservedEvent, ScenarioOutcome } from '../../workloads/scenarios/types.js';
import type { CellParams } from '../matrix/axes.js';
import type { Pinning } from '../orchestrator/pinning.js';
import type { MatrixSpec } from '../matrix/schema.js';

import { RESULTS_SCHEMA } from './schema/run.js';
export { RESULTS_SCHEMA };

export interface HostInfo {
  /** The machine's host name (absent in runs written before it was recorded): the `instance` of pushed summaries. */
  name?: string;
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  kernel: string;
  node: string;
}

/** What the orchestrator reads of the proxy around one repetition. */
export interface ProxyRepRecord {
  /** CPU seconds the proxy used during the measured window (not the drain, not between repetitions). */
  cpuS: number;
  /** Largest and last resident set size sampled during the window (not the process's lifetime peak). */
  peakRssBytes: number;
  endRssBytes?: number;
  /** Our proxy's /metrics over the repetition: counters as deltas, gauges at the end; absent if a scrape went unanswered. */
  metrics?: ProxyMetricsDelta;
  /**
   * Another proxy's own metrics over the repetition, where it exposes Prometheus metrics (its driver's
   * metricsUrl): by metric name, labels summed, a counter's increase (a zero left out) or a gauge at the end.
   */
  native?: Record<string, number>;
}

/** The proxy a cell ran through: its driver's name (the `proxy` axis), its version and its config for the cell. */
export interface CellProxy {
  name: string;
  /** As the proxy reports it (ours: sluice's package version). */
  version: string;
  /** The command and config files its driver generated (of the cell's last visit: ports differ per visit). */
  config: ProxyConfig;
}

/** What the orchestrator reads of an emulated link around one repetition. */
export interface LinkRepRecord {
  role: 'upstream' | 'downstream' | 'direct';
  /** CPU seconds the link process used during the measured window. */
  cpuS: number;
  /** The link could not keep its settings (its deliveries ran late, or it could not carry the bandwidth): the numbers then measure it. */
  saturated: boolean;
  reason?: string;
  /** Its /stats as it gave them (totals since it started). */
  stats?: Record<string, unknown>;
}

/** One repetition as results.json stores it: the generator's record, the proxy's (absent for direct cells) and the links'. */
export interface MeasuredRep extends RepResult {
  proxy?: ProxyRepRecord;
  links?: LinkRepRecord[];
  /** The scenario's outcome for this repetition (workloads/scenarios/): its headline, its own fields and the timeline's events as they happened. */
  scenario?: ScenarioOutcome & { events: ObservedEvent[] };
  /** The attacker's record, for scenarios with one beside the well-behaved client (whose record this is). */
  attacker?: RepResult;
  /** h2load's records only: where the record differs from one of the sluice generator, and h2load's own summary. */
  generatorNotes?: string[];
  h2load?: H2loadSummary & { version: string; args: string[] };
}

export interface Estimate {
  median: number;
  /** 95% confidence interval of the mean over repetitions (Student's t); [v, v] with one repetition; never below 0. */
  ci95: [number, number];
  mean: number;
  n: number;
}

export interface CellSummary {
  /** Goodput over the repetitions; the report shows its mean and the CI of that mean. */
  rps: Estimate;
  completedRps: Estimate;
  errorRate: Estimate;
  /** Response body bytes per second of the window (absent where the generator cannot count them). */
  bodyBytesPerS?: Estimate;
  /** Per-repetition percentiles (their spread gives the CI); the cell's own percentiles are latencyMs. */
  p50Ms: Estimate;
  p99Ms: Estimate;
  p999Ms: Estimate;
  rstRate: Estimate;
  /** Percentiles of every request of every repetition: the exact merge of their histograms. */
  latencyMs: LatencySummaryMs;
  /** The merged percentiles that timeouts reached (lower bounds). */
  latencyLowerBounds: PercentileName[];
  successLatencyMs: LatencySummaryMs;
  /** The merged histogram (every outcome), encoded. */
  histogram: string;
  /** Requests and successes summed over repetitions. */
  requests: number;
  successes: number;
  /** Errors summed over repetitions, by class. */
  errors: Record<string, number>;
  /** Repetitions in which the generator itself was saturated: their numbers bound the generator, not the proxy. */
  generatorSaturatedReps: number;
  /** The scenario's headline over the repetitions: its median, with the per-repetition values' estimate. */
  headline?: Headline & { estimate: Estimate };
}

export interface CellResult {
  id: string;
  params: CellParams;
  /** Swept axes only, with their values for this cell. */
  axes: Record<string, string | number | boolean>;
  /** The proxy it ran through; absent for `target: direct` cells (and for a cell that failed before its proxy was configured). */
  proxy?: CellProxy;
  status: 'ok' | 'failed';
  error?: string;
  /** Tail of the proxy's (or backends') stderr when the cell failed. */
  stderrTail?: string;
  startedAt: string;
  finishedAt: string;
  /** Time to start backends + proxy until ready, and to stop them: the cost of a visit outside measurement (the mean over the cell's visits). */
  overheadMs: { start: number; stop: number };
  /** How many times its processes were started: 1 when its repetitions ran back to back, else one per repetition. */
  visits: number;
  /** How the generator's connections were opened before the warm-up (of the first visit); a visit's repetitions reuse them. */
  connect?: RepResult['connect'];
  /** The emulated links the cell ran through (their settings are the cell's rttMs, bandwidthMbps, jitterMs, link). */
  links?: { role: LinkRepRecord['role']; routes: number; warning?: string }[];
  /** What the cell's processes said at start that bears on its numbers (a link that cannot keep up). */
  warnings?: string[];
  reps: MeasuredRep[];
  summary?: CellSummary;
  scenario?: Record<string, unknown>;
}

/** A program that took part in a run: the generator (sluice or h2load), the proxy under test. */
export interface Component {
  name: string;
  version: string;
  /** The git commit it was built from, where known (ours: the checkout's). */
  revision: string | null;
}

// The roles `--pin` can place and the CPUs each was pinned to: defined where pinning is done.
export type { Pinning, PinRole } from '../orchestrator/pinning.js';

/** interleave: every cell's first repetition, then every cell's second, ...; cell: a cell's repetitions back to back. */
export type RepOrder = 'interleave' | 'cell';

export interface RunInfo {
  id: string;
  startedAt: string;
  finishedAt?: string;
  /** running while cells are being measured; interrupted after Ctrl-C; complete when every cell ran. */
  status: 'running' | 'complete' | 'interrupted';
  git: { commit: string; dirty: boolean } | null;
  host: HostInfo;
  matrix: { name: string; file: string; sha256: string; spec: MatrixSpec };
  generator: Component;
  proxy: Component;
  pinning: Pinning;
  /** The command-line restrictions this run was made with (`--only`, overrides) and the order of repetitions. */
  options: { only: string[]; durationMs: number; warmupMs: number; reps: number; order: RepOrder };
  /** The mean over the cells run so far of their overhead per visit. */
  overheadMs?: { start: number; stop: number };
}

export interface RunResults {
  schema: typeof RESULTS_SCHEMA;
  run: RunInfo;
  cells: CellResult[];
  excluded: { id: string; reason: string }[];
}
