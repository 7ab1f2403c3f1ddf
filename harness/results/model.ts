// results.json, schema sluice.results/v1 (DESIGN.md "Results"). compare, gate and the reports read this.
import type { RepResult } from '../load/types.js';
import type { CellParams } from '../matrix/cells.js';
import type { MatrixSpec } from '../matrix/schema.js';

export const RESULTS_SCHEMA = 'sluice.results/v1';

export interface HostInfo {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  kernel: string;
  node: string;
}

export interface Estimate {
  median: number;
  /** 95% confidence interval of the mean over repetitions (Student's t); [v, v] with one repetition. */
  ci95: [number, number];
  mean: number;
  n: number;
}

export interface CellSummary {
  rps: Estimate;
  p50Ms: Estimate;
  p99Ms: Estimate;
  p999Ms: Estimate;
  rstRate: Estimate;
  /** Errors summed over repetitions, by class. */
  errors: Record<string, number>;
  /** Repetitions in which the generator itself was saturated: their numbers bound the generator, not the proxy. */
  generatorSaturatedReps: number;
}

export interface CellResult {
  id: string;
  params: CellParams;
  /** Swept axes only, with their values for this cell. */
  axes: Record<string, string | number | boolean>;
  status: 'ok' | 'failed';
  error?: string;
  /** Tail of the proxy's (or backends') stderr when the cell failed. */
  stderrTail?: string;
  startedAt: string;
  finishedAt: string;
  /** Time to start backends + proxy until ready, and to stop them: the per-cell cost outside measurement. */
  overheadMs: { start: number; stop: number };
  reps: RepResult[];
  summary?: CellSummary;
  scenario?: Record<string, unknown>;
}

export interface RunInfo {
  id: string;
  startedAt: string;
  finishedAt?: string;
  /** running while cells are being measured; interrupted after Ctrl-C; complete when every cell ran. */
  status: 'running' | 'complete' | 'interrupted';
  git: { commit: string; dirty: boolean } | null;
  host: HostInfo;
  matrix: { name: string; file: string; sha256: string; spec: MatrixSpec };
  /** The command-line restrictions this run was made with (`--only`, overrides). */
  options: { only: string[]; durationMs: number; warmupMs: number; reps: number };
  /** Mean per-cell overhead over the cells run so far. */
  overheadMs?: { start: number; stop: number };
}

export interface RunResults {
  schema: typeof RESULTS_SCHEMA;
  run: RunInfo;
  cells: CellResult[];
  excluded: { id: string; reason: string }[];
}
