// `npm run gate:trial`: is the gate any good? Runs a small matrix (h1 and h2, concurrency 8, 1 KiB responses) as
// pairs of runs and gates each pair's B against its A:
//   A/A             the same settings twice: every failure is a false alarm;
//   A/B latency     the backend's latency raised from 1 ms to 3 ms: the P99 gate should catch it;
//   A/B throughput  a goodput loss of about --loss (10%) made real in the closed loop: the backend's mean latency
//                   raised by the share of the mean request time the loss needs (Little's law: at a fixed
//                   concurrency RPS = concurrency / mean latency), as a bimodal 1 ms / (1 + k) ms mix calibrated
//                   on the first A run; the table shows the loss actually measured.
// The pair kinds interleave round by round and A and B alternate their order, so a drift of the shared machine
// spreads over every kind. Prints a line per pair on stderr and the table on stdout (and, with --out, in trial.md).
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { parseDuration } from '../common/duration.js';
import { evaluateGate, type GateResult } from '../harness/compare/gate.js';
import type { LatencySpec } from '../harness/matrix/schema.js';
import { readResultsFile } from '../harness/results/read-results.js';
import type { RunResults } from '../harness/results/model.js';
import { parseLatency } from '../workloads/backends/latency.js';
import { formatTrialTable, type PairOutcome, type TrialKind } from './gate-trial-table.js';

const BENCH = 'dist/harness/cli/bench.js';
const HELP = `Usage: npm run gate:trial -- [--pairs 20] [--reps 5] [--duration 1s] [--warmup 1s] [--loss 0.10]
                             [--throughput-latency SPEC] [--kinds aa,latency,throughput] [--order cell|interleave]
                             [--out DIR]

Counts the gate's false alarms (A/A pairs) and detections (A/B pairs: backend latency 1 -> 3 ms; a ~10% goodput
loss) over --pairs pairs of each kind, on a 2-cell matrix (h1 and h2, concurrency 8, 1 KiB), with the gates
rps maxDrop 5%, p99 maxRise 10%, confidence 0.95. Each run takes about 2 x (warm-up + reps x duration + 2 s).
The throughput pairs' backend latency is calibrated on a first A run for --loss, unless --throughput-latency
gives it in the backends' --latency form (e.g. bimodal:1ms:3ms:0.3). The run folders go to --out (default: a
temporary folder, removed at the end). --order is the bench's (default cell: a cell's repetitions back to back
on one set of processes; A and B are separate runs, and swap their order every round).`;

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '20' },
    reps: { type: 'string', default: '5' },
    duration: { type: 'string', default: '1s' },
    warmup: { type: 'string', default: '1s' },
    loss: { type: 'string', default: '0.10' },
    'throughput-latency': { type: 'string' },
    kinds: { type: 'string', default: 'aa,latency,throughput' },
    order: { type: 'string', default: 'cell' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (values.help) {
  process.stdout.write(HELP + '\n');
  process.exit(0);
}

function usage(message: string): never {
  process.stderr.write(`gate:trial: ${message}\n`);
  process.exit(2);
}
const int = (raw: string, flag: string, min: number) => (/^\d+$/.test(raw) && Number(raw) >= min ? Number(raw) : usage(`${flag} ${raw}: expected a whole number of at least ${min}`));
const pairsPerKind = int(values.pairs, '--pairs', 1);
const reps = int(values.reps, '--reps', 1);
for (const [flag, raw] of [['--duration', values.duration], ['--warmup', values.warmup]] as const) {
  try {
    parseDuration(raw, flag);
  } catch (err) {
    usage((err as Error).message);
  }
}
const loss = Number(values.loss);
if (!(loss > 0 && loss < 0.5)) usage(`--loss ${values.loss}: expected a share between 0 and 0.5, such as 0.10`);
let pinnedLatency: LatencySpec | undefined;
try {
  if (values['throughput-latency']) pinnedLatency = parseLatency(values['throughput-latency'], '--throughput-latency');
} catch (err) {
  usage((err as Error).message);
}
const KINDS: Record<string, TrialKind> = {
  aa: { kind: 'A/A', change: 'nothing (backend 1 ms both)' },
  latency: { kind: 'A/B latency', change: 'backend latency 1 ms -> 3 ms', expected: 'p99' },
  throughput: { kind: 'A/B throughput', change: `about -${Math.round(loss * 100)}% goodput (backend mean latency raised)`, expected: 'rps' },
};
const chosen = values.kinds.split(',').map((k) => KINDS[k] ?? usage(`--kinds ${values.kinds}: "${k}" is not one of ${Object.keys(KINDS).join(', ')}`));

const keep = values.out !== undefined;
const out = keep ? resolve(values.out!) : mkdtempSync(join(tmpdir(), 'sluice-gate-trial-'));
mkdirSync(out, { recursive: true });

const FIXED_1MS: LatencySpec = { dist: 'fixed', ms: 1 };
function matrixFile(tag: string, latency: LatencySpec): string {
  // Every variant has the same name and axes, as a baseline and a candidate of one matrix must.
  const file = join(out, `${tag}.yaml`);
  writeFileSync(
    file,
    [
      'name: gate-trial',
      'protocol: h2',
      `duration: ${values.duration}`,
      `warmup: ${values.warmup}`,
      `reps: ${reps}`,
      'backend:',
      `  latency: ${JSON.stringify(latency)}`,
      '  responseBytes: 1024',
      'axes:',
      '  protocol: [h1, h2]',
      '  concurrency: [8]',
      'gates:',
      '  rps: {maxDrop: 5%}',
      '  p99: {maxRise: 10%}',
      '  confidence: 0.95',
      '',
    ].join('\n'),
  );
  return file;
}

let benchRuns = 0;
async function bench(matrix: string, label: string): Promise<{ file: string; results: RunResults }> {
  benchRuns += 1;
  const child = execa(process.execPath, [BENCH, '--matrix', matrix, '--order', values.order, '--out', join(out, 'runs')], { reject: false, stdout: 'ignore', stderr: 'pipe' });
  // The bench prints one line per cell when not on a terminal: pass them on, marked with the pair.
  child.stderr?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (/^\[\d+\/\d+\]/.test(line)) process.stderr.write(`  ${label} ${line}\n`);
  });
  const r = await child;
  const done = /results in (.*)\/results\.json/.exec(r.stderr ?? '');
  if (!done || (r.exitCode !== 0 && r.exitCode !== 1)) throw new Error(`bench ${matrix} exited ${r.exitCode}: ${String(r.stderr).split('\n').slice(-4).join(' | ')}`);
  return readResultsFile(done[1]!);
}

/** The bimodal backend latency that costs `loss` of the goodput measured in `a` (see the comment at the top). */
function throughputLatency(a: RunResults): { latency: LatencySpec; note: string } {
  const cells = a.cells.filter((c) => c.status === 'ok' && c.reps.length > 0);
  const meanMs = cells.reduce((s, c) => s + (c.params.concurrency / (c.reps.reduce((t, r) => t + r.rps, 0) / c.reps.length)) * 1000, 0) / cells.length;
  const addMs = meanMs * (1 / (1 - loss) - 1);
  const k = Math.max(2, Math.ceil(addMs * 2));
  const share = Math.round((addMs / k) * 1000) / 1000;
  return {
    latency: { dist: 'bimodal', ms: 1, slowMs: 1 + k, slowShare: share },
    note: `mean request time ${meanMs.toFixed(2)} ms in A; +${addMs.toFixed(2)} ms for -${Math.round(loss * 100)}%: backend 1 ms, ${(share * 100).toFixed(1)}% at ${1 + k} ms`,
  };
}

function outcome(kind: string, g: GateResult): PairOutcome {
  const rel = (metric: string) => {
    const ratios = g.comparison.cells.flatMap((c) => c.metrics.filter((m) => m.metric === metric).map((m) => m.ratio));
    return ratios.reduce((s, r) => s + r, 0) / Math.max(1, ratios.length);
  };
  return {
    kind,
    exitCode: g.exitCode,
    failedMetrics: [...new Set(g.checks.filter((c) => c.outcome === 'fail').map((c) => c.metric))],
    rpsRatio: rel('rps'),
    p99Ratio: rel('p99'),
  };
}

const started = Date.now();
const aFile = matrixFile('a', FIXED_1MS);
const latencyFile = matrixFile('b-latency', { dist: 'fixed', ms: 3 });
let throughputFile: string | undefined;
let calibration = '';
const pairs: PairOutcome[] = [];
process.stderr.write(`gate:trial: ${pairsPerKind} pairs of ${chosen.map((k) => k.kind).join(', ')}; ${reps} x ${values.duration} per cell; run folders in ${out}\n`);
for (let round = 0; round < pairsPerKind; round++) {
  for (const k of chosen) {
    const label = `[pair ${round + 1}/${pairsPerKind} ${k.kind}]`;
    if (k.kind === 'A/B throughput' && !throughputFile && pinnedLatency) {
      throughputFile = matrixFile('b-throughput', pinnedLatency);
      calibration = `backend latency ${values['throughput-latency']} (given)`;
    }
    if (k.kind === 'A/B throughput' && !throughputFile) {
      const calibrationRun = await bench(aFile, `${label} calibration`);
      const t = throughputLatency(calibrationRun.results);
      throughputFile = matrixFile('b-throughput', t.latency);
      calibration = t.note;
      process.stderr.write(`gate:trial: throughput loss: ${calibration}\n`);
    }
    const bFile = k.kind === 'A/A' ? aFile : k.kind === 'A/B latency' ? latencyFile : throughputFile!;
    // A and B swap their order every round, so a machine slowing down over the trial is no one side's bias.
    const [first, second] = round % 2 === 0 ? ([['A', aFile], ['B', bFile]] as const) : ([['B', bFile], ['A', aFile]] as const);
    const runs = new Map<string, { file: string; results: RunResults }>();
    runs.set(first[0], await bench(first[1], `${label} ${first[0]}`));
    runs.set(second[0], await bench(second[1], `${label} ${second[0]}`));
    const g = evaluateGate(runs.get('A')!, runs.get('B')!);
    const o = outcome(k.kind, g);
    pairs.push(o);
    const what = o.exitCode === 1 ? `FAIL (${o.failedMetrics.join(', ')})` : o.exitCode === 3 ? 'not enough repetitions' : 'pass';
    process.stderr.write(`${label} gate: ${what}; RPS B/A ${o.rpsRatio.toFixed(3)}, P99 B/A ${o.p99Ratio.toFixed(3)}\n`);
  }
}

const table = [
  `# Gate trial: ${pairsPerKind} pairs per kind, ${reps} x ${values.duration} per cell (warm-up ${values.warmup}), ${benchRuns} bench runs in ${Math.round((Date.now() - started) / 60000)} min`,
  '',
  'Matrix: h1 and h2 at concurrency 8, 1 KiB responses; gates rps maxDrop 5%, p99 maxRise 10%, confidence 0.95.',
  ...(calibration ? [`Throughput loss: ${calibration}.`] : []),
  '',
  formatTrialTable(chosen, pairs),
].join('\n');
process.stdout.write(table);
if (keep) writeFileSync(join(out, 'trial.md'), table);
else rmSync(out, { recursive: true, force: true });
