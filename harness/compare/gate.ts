// The gate: a candidate run against its baseline under the matrix's `gates:`. Pure; the CLI (cli/gate.ts) reads
// the files and turns the outcome into an exit code. A relative threshold fails only with statistical support:
// the ratio's whole interval past the threshold and the Mann-Whitney test significant. An absolute threshold
// (rstRate, errorRate) fails when the candidate's rate over all its requests is above it.
import { DEFAULT_CONFIDENCE, gatesSchema, type Gates } from '../matrix/gates.js';
import { minimumPValue, minimumReps } from '../stats/mann-whitney.js';
import { compareRuns, DEFAULT_COMPARE_OPTIONS, paramsKey, type CompareOptions, type LoadedRun, type MetricComparison, type RunComparison } from './compare-runs.js';
import { metricDef, pooledRate, type MetricName } from './metrics.js';

/** The baseline and the candidate cannot be gated against each other: exit 2, with this message. */
export class GateInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GateInputError';
  }
}

export type CheckOutcome = 'pass' | 'fail' | 'not enough repetitions';

export interface GateCheck {
  cell: string;
  /** A metric, or `status` for a cell that failed in the candidate. */
  metric: MetricName | 'rstRate' | 'status';
  kind: 'relative' | 'absolute' | 'status';
  outcome: CheckOutcome;
  /** The limit as read: a drop or rise as a fraction, or the absolute maximum. */
  limit?: { maxDrop?: number; maxRise?: number; max?: number };
  comparison?: MetricComparison;
  /** Absolute checks: the candidate's and the baseline's rate over all their requests. */
  candidate?: number;
  baseline?: number;
  error?: string;
}

export interface GateResult {
  outcome: CheckOutcome;
  /** 0 pass, 1 a metric moved the wrong way beyond its threshold, 3 too few repetitions to tell (and nothing failed). */
  exitCode: 0 | 1 | 3;
  gates: Gates;
  confidence: number;
  minReps: number;
  checks: GateCheck[];
  /** Cells not gated, and why (only on one side, failed in the baseline). */
  notGated: string[];
  comparison: RunComparison;
}

export function evaluateGate(baseline: LoadedRun, candidate: LoadedRun, options: Partial<CompareOptions> = {}): GateResult {
  checkComparable(baseline, candidate);
  const gates = readGates(candidate);
  const confidence = gates.confidence ?? DEFAULT_CONFIDENCE;
  const comparison = compareRuns(baseline, candidate, { ...DEFAULT_COMPARE_OPTIONS, ...options, confidence });
  if (comparison.cells.length === 0) {
    throw new GateInputError(`no cell of ${candidate.file} matches one of the baseline ${baseline.file}: nothing to gate`);
  }
  const byKey = new Map(candidate.results.cells.map((c) => [paramsKey(c.params), c]));
  const baseByKey = new Map(baseline.results.cells.map((c) => [paramsKey(c.params), c]));
  const checks: GateCheck[] = [];
  const notGated: string[] = [
    ...comparison.onlyInA.map((id) => `${id}: only in the baseline (not measured by the candidate)`),
    ...comparison.onlyInB.map((id) => `${id}: only in the candidate (no baseline)`),
  ];
  for (const cell of comparison.cells) {
    if (cell.status === 'failed in B') {
      checks.push({ cell: cell.id, metric: 'status', kind: 'status', outcome: 'fail', ...(cell.error ? { error: cell.error } : {}) });
      continue;
    }
    if (cell.status !== 'compared') {
      notGated.push(`${cell.id}: ${cell.status === 'failed in A' ? 'failed in the baseline' : 'failed in both'}`);
      continue;
    }
    for (const m of cell.metrics) {
      const limit = relativeLimit(gates, m.metric);
      if (limit) checks.push({ cell: cell.id, metric: m.metric, kind: 'relative', limit, comparison: m, outcome: relativeOutcome(m, limit, confidence) });
    }
    const reps = byKey.get(paramsKey(cell.params))!.reps;
    const baseReps = baseByKey.get(paramsKey(cell.params))!.reps;
    for (const name of ['errorRate', 'rstRate'] as const) {
      const max = gates[name]?.max;
      const rate = pooledRate(reps, (r) => r[name]);
      if (max === undefined || rate === undefined) continue;
      const base = pooledRate(baseReps, (r) => r[name]);
      checks.push({ cell: cell.id, metric: name, kind: 'absolute', limit: { max }, candidate: rate, ...(base !== undefined ? { baseline: base } : {}), outcome: rate > max ? 'fail' : 'pass' });
    }
  }
  const outcome: CheckOutcome = checks.some((c) => c.outcome === 'fail') ? 'fail' : checks.some((c) => c.outcome === 'not enough repetitions') ? 'not enough repetitions' : 'pass';
  return { outcome, exitCode: outcome === 'fail' ? 1 : outcome === 'pass' ? 0 : 3, gates, confidence, minReps: minimumReps(confidence), checks, notGated, comparison };
}

function relativeLimit(gates: Gates, metric: MetricName): GateCheck['limit'] | undefined {
  if (metric === 'rps') return gates.rps ? { maxDrop: gates.rps.maxDrop } : undefined;
  if (metric === 'errorRate') return undefined;
  const g = gates[metric];
  return g ? { maxRise: g.maxRise } : undefined;
}

function relativeOutcome(m: MetricComparison, limit: NonNullable<GateCheck['limit']>, confidence: number): CheckOutcome {
  if (minimumPValue(m.a.n, m.b.n) >= 1 - confidence) return 'not enough repetitions';
  const significant = m.p < 1 - confidence;
  const past = metricDef(m.metric).better === 'higher' ? m.ci[1] < 1 - (limit.maxDrop ?? 0) : m.ci[0] > 1 + (limit.maxRise ?? 0);
  return significant && past ? 'fail' : 'pass';
}

/** The candidate's gates (its matrix as it was run), re-read so that older files' `5%` strings work too. */
function readGates(candidate: LoadedRun): Gates {
  const parsed = gatesSchema.safeParse(candidate.results.run.matrix.spec.gates ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new GateInputError(`${candidate.file}: run.matrix.spec.gates.${issue.path.map(String).join('.')}: ${issue.message}`);
  }
  const gates = parsed.data;
  const named = Object.keys(gates).filter((k) => k !== 'confidence');
  if (named.length === 0) {
    throw new GateInputError(`${candidate.file}: matrix ${candidate.results.run.matrix.name} has no gates: nothing to check (add a gates: section to the matrix file)`);
  }
  return gates;
}

/** Same matrix, same axes: anything else compares different experiments. */
function checkComparable(baseline: LoadedRun, candidate: LoadedRun): void {
  const a = baseline.results.run.matrix;
  const b = candidate.results.run.matrix;
  if (a.name !== b.name) {
    throw new GateInputError(`baseline ${baseline.file} is of matrix ${a.name}, candidate ${candidate.file} of matrix ${b.name}: gate a run against a baseline of its own matrix`);
  }
  const axes = (spec: { axes: Record<string, unknown> }) => new Map(Object.entries(spec.axes).map(([k, v]) => [k, JSON.stringify([...(v as unknown[])].map(String).sort())]));
  const axA = axes(a.spec);
  const axB = axes(b.spec);
  const changed = [...new Set([...axA.keys(), ...axB.keys()])]
    .filter((k) => axA.get(k) !== axB.get(k))
    .map((k) => `${k} ${axA.get(k) ?? '(not swept)'} -> ${axB.get(k) ?? '(not swept)'}`);
  if (changed.length > 0) {
    throw new GateInputError(`the axes changed between the baseline ${baseline.file} and the candidate ${candidate.file}: ${changed.join('; ')} (update the baseline: npm run gate -- --update-baseline RUN)`);
  }
}
