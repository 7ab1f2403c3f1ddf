// Compares two runs cell by cell: for every cell present in both (the same params, i.e. the same value of every
// axis) and every metric, the ratio B/A of the means over repetitions, its bootstrap interval, a Mann-Whitney
// p-value and a verdict. Pure: the same two files and options give the same comparison (the resampling is seeded).
import type { CellParams } from '../matrix/cells.js';
import type { CellResult, RunResults } from '../results/model.js';
import { bootstrapRatioOfMeans, mean } from '../stats/bootstrap.js';
import { mannWhitney, minimumPValue, minimumReps } from '../stats/mann-whitney.js';
import { fnv1a, mulberry32 } from '../stats/prng.js';
import { METRICS, metricValues, type MetricDef, type MetricName } from './metrics.js';

export type Verdict = 'better' | 'worse' | 'no change' | 'not enough repetitions';

export interface CompareOptions {
  /** Level of the interval; the test is significant below 1 - confidence. */
  confidence: number;
  resamples: number;
  seed: number;
}

export const DEFAULT_COMPARE_OPTIONS: CompareOptions = { confidence: 0.95, resamples: 10_000, seed: 12 };

export interface MetricComparison {
  metric: MetricName;
  a: { mean: number; n: number };
  b: { mean: number; n: number };
  /** mean(B) / mean(A); Infinity when A's mean is 0 and B's is not. */
  ratio: number;
  /** The bootstrap percentile interval of the ratio at the options' confidence. */
  ci: [number, number];
  /** Mann-Whitney U, two-sided, over the repetitions. */
  p: number;
  verdict: Verdict;
}

export interface CellComparison {
  /** The cell's id in B (its id in A is the same when the swept axes are). */
  id: string;
  params: CellParams;
  status: 'compared' | 'failed in A' | 'failed in B' | 'failed in both';
  /** B's error (or A's) when a side failed. */
  error?: string;
  /** One per metric both sides have values for (no proxy CPU for `target: direct` cells). */
  metrics: MetricComparison[];
}

export interface RunRef {
  file: string;
  runId: string;
  matrix: string;
  status: string;
  reps: number;
  durationMs: number;
  commit: string | null;
}

export interface RunComparison {
  a: RunRef;
  b: RunRef;
  options: CompareOptions;
  /** Repetitions per side the test needs at this confidence (equal sides). */
  minReps: number;
  /** Top-level matrix settings that differ between A and B (backend, duration, ...): what the comparison measures. */
  differences: string[];
  cells: CellComparison[];
  onlyInA: string[];
  onlyInB: string[];
}

export interface LoadedRun {
  file: string;
  results: RunResults;
}

/** A cell's key: every axis value, sorted by axis name, so cells match whatever order their files list them in. */
export function paramsKey(params: CellParams): string {
  const p = params as unknown as Record<string, unknown>;
  return JSON.stringify(Object.keys(p).sort().map((k) => [k, p[k]]));
}

export function compareRuns(a: LoadedRun, b: LoadedRun, options: CompareOptions = DEFAULT_COMPARE_OPTIONS): RunComparison {
  const inA = new Map(a.results.cells.map((c) => [paramsKey(c.params), c]));
  const inB = new Map(b.results.cells.map((c) => [paramsKey(c.params), c]));
  const cells: CellComparison[] = [];
  for (const [key, cb] of inB) {
    const ca = inA.get(key);
    if (ca) cells.push(compareCell(key, ca, cb, options));
  }
  return {
    a: runRef(a),
    b: runRef(b),
    options,
    minReps: minimumReps(options.confidence),
    differences: specDifferences(a.results, b.results),
    cells,
    onlyInA: a.results.cells.filter((c) => !inB.has(paramsKey(c.params))).map((c) => c.id),
    onlyInB: b.results.cells.filter((c) => !inA.has(paramsKey(c.params))).map((c) => c.id),
  };
}

function compareCell(key: string, ca: CellResult, cb: CellResult, options: CompareOptions): CellComparison {
  const base = { id: cb.id, params: cb.params };
  if (ca.status !== 'ok' || cb.status !== 'ok') {
    const status = ca.status !== 'ok' && cb.status !== 'ok' ? 'failed in both' : ca.status !== 'ok' ? 'failed in A' : 'failed in B';
    const error = cb.status !== 'ok' ? cb.error : ca.error;
    return { ...base, status, ...(error ? { error } : {}), metrics: [] };
  }
  const metrics: MetricComparison[] = [];
  for (const def of METRICS) {
    const m = compareMetric(def, metricValues(ca.reps, def), metricValues(cb.reps, def), options, `${key}/${def.name}`);
    if (m) metrics.push(m);
  }
  return { ...base, status: 'compared', metrics };
}

/** One metric of one cell; undefined when a side has no value for it. */
export function compareMetric(def: MetricDef, a: number[], b: number[], options: CompareOptions, seedName: string): MetricComparison | undefined {
  if (a.length === 0 || b.length === 0) return undefined;
  const random = mulberry32((options.seed ^ fnv1a(seedName)) >>> 0);
  const interval = bootstrapRatioOfMeans(a, b, { confidence: options.confidence, resamples: options.resamples, random });
  const { p } = mannWhitney(a, b);
  const alpha = 1 - options.confidence;
  let verdict: Verdict = 'no change';
  if (minimumPValue(a.length, b.length) >= alpha) verdict = 'not enough repetitions';
  else if (p < alpha && (interval.lo > 1 || interval.hi < 1)) {
    const up = interval.lo > 1;
    verdict = up === (def.better === 'higher') ? 'better' : 'worse';
  }
  return {
    metric: def.name,
    a: { mean: mean(a), n: a.length },
    b: { mean: mean(b), n: b.length },
    ratio: interval.ratio,
    ci: [interval.lo, interval.hi],
    p,
    verdict,
  };
}

function runRef({ file, results }: LoadedRun): RunRef {
  const r = results.run;
  return {
    file,
    runId: r.id,
    matrix: r.matrix.name,
    status: r.status,
    reps: r.options?.reps ?? Math.max(0, ...results.cells.map((c) => c.reps.length)),
    durationMs: r.options?.durationMs ?? 0,
    commit: r.git?.commit ?? null,
  };
}

/** The top-level matrix keys whose values differ (the axes are compared cell by cell instead). */
function specDifferences(a: RunResults, b: RunResults): string[] {
  const sa = a.run.matrix.spec as unknown as Record<string, unknown>;
  const sb = b.run.matrix.spec as unknown as Record<string, unknown>;
  // duration, warmup and reps as run (the command line may override the file's) are compared from run.options.
  const skip = new Set(['name', 'description', 'axes', 'exclude', 'gates', 'duration', 'warmup', 'reps']);
  const keys = [...new Set([...Object.keys(sa), ...Object.keys(sb)])].filter((k) => !skip.has(k));
  const out = keys.filter((k) => JSON.stringify(sa[k]) !== JSON.stringify(sb[k])).map((k) => `${k}: ${JSON.stringify(sa[k]) ?? '-'} -> ${JSON.stringify(sb[k]) ?? '-'}`);
  const oa = a.run.options;
  const ob = b.run.options;
  if (oa && ob && (oa.reps !== ob.reps || oa.durationMs !== ob.durationMs || oa.warmupMs !== ob.warmupMs)) {
    const plan = (o: typeof oa) => `${o.warmupMs} ms warm-up + ${o.reps} x ${o.durationMs} ms`;
    out.push(`measurement: ${plan(oa)} -> ${plan(ob)}`);
  }
  return out;
}
