// `npm run gate -- [--baseline FILE] CANDIDATE`: fails a run that moved the wrong way beyond its matrix's gates.
// `npm run gate -- --update-baseline RUN`: writes results/baselines/<matrix>.json from a run, to commit.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateGate } from '../compare/gate.js';
import { DEFAULT_CONFIDENCE, gatesSchema } from '../matrix/gates.js';
import { formatGateReport } from '../output/gate-report.js';
import { baselinePath, BASELINES_DIR, slimForBaseline } from '../results/baseline.js';
import { readResultsFile } from '../results/read-results.js';
import { minimumReps } from '../stats/mann-whitney.js';
import { CliError, runMain } from './cli-error.js';
import { jsonNumbers, resamplesFlag, seedFlag } from './compare-flags.js';

const HELP = `Usage: npm run gate -- [--baseline FILE] CANDIDATE [--json]
       npm run gate -- --update-baseline RUN

Gates CANDIDATE (a run folder or results.json) against a baseline of the same matrix, under the thresholds of
the matrix's gates: section (as the candidate was run). A relative threshold (rps maxDrop, p50/p99/p999/
cpuPerRequest maxRise) fails a cell only with statistical support: the whole bootstrap interval of the ratio past
the threshold and a significant Mann-Whitney test, which needs at least ${minimumReps(DEFAULT_CONFIDENCE)} repetitions per side at confidence
${DEFAULT_CONFIDENCE}. An absolute one (rstRate, errorRate max) fails when the candidate's rate over all its requests is
above it. A cell that failed in the candidate fails the gate.

Options:
  --baseline FILE       the baseline (default: results/baselines/<the candidate's matrix>.json)
  --update-baseline RUN write RUN's results (slimmed: no histograms) as results/baselines/<matrix>.json, to commit
  --baselines DIR       where baselines live (default: ${BASELINES_DIR})
  --json                print the outcome as JSON instead of Markdown
  --resamples N         bootstrap resamples (default 10000)
  --seed N              seed of the resampling (default 12)
  -h, --help            this text

Exit codes: 0 pass, 1 a gate failed, 2 unusable input (a file missing or unreadable, another schema or matrix,
changed axes, no matched cell, no gates), 3 too few repetitions to decide (and nothing failed).`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      baseline: { type: 'string' },
      'update-baseline': { type: 'string' },
      baselines: { type: 'string', default: BASELINES_DIR },
      json: { type: 'boolean', default: false },
      resamples: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (values['update-baseline'] !== undefined) {
    if (positionals.length > 0 || values.baseline) throw new CliError('--update-baseline RUN takes no candidate and no --baseline');
    return updateBaseline(values['update-baseline'], values.baselines);
  }
  if (positionals.length !== 1) throw new CliError(`expected one candidate run (a folder or results.json), got ${positionals.length}; see --help`);
  const candidate = readResultsFile(positionals[0]!);
  const baselineFile = values.baseline ?? baselinePath(candidate.results.run.matrix.name, values.baselines);
  if (!values.baseline && !existsSync(baselineFile)) {
    throw new CliError(
      `no baseline for matrix ${candidate.results.run.matrix.name}: ${baselineFile} does not exist; ` +
        `create it from a good run with npm run gate -- --update-baseline RUN, or pass --baseline FILE`,
    );
  }
  const result = evaluateGate(readResultsFile(baselineFile), candidate, {
    ...(values.resamples ? { resamples: resamplesFlag(values.resamples)! } : {}),
    ...(values.seed ? { seed: seedFlag(values.seed)! } : {}),
  });
  process.stdout.write(values.json ? JSON.stringify(result, jsonNumbers, 2) + '\n' : formatGateReport(result));
  return result.exitCode;
}

function updateBaseline(run: string, dir: string): number {
  const { file, results } = readResultsFile(run);
  if (results.run.status !== 'complete') {
    throw new CliError(`--update-baseline ${run}: run ${results.run.id} is ${results.run.status}; finish it first (npm run bench -- --resume ${dirname(file)})`);
  }
  const target = baselinePath(results.run.matrix.name, dir);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, JSON.stringify(slimForBaseline(results), null, 2) + '\n');
  const failed = results.cells.filter((c) => c.status !== 'ok').map((c) => c.id);
  if (failed.length > 0) process.stderr.write(`sluice gate: warning: ${failed.length} cells failed in this run and will not be gated: ${failed.join('; ')}\n`);
  const gates = gatesSchema.safeParse(results.run.matrix.spec.gates ?? {});
  const need = minimumReps((gates.success ? gates.data.confidence : undefined) ?? DEFAULT_CONFIDENCE);
  const fewest = Math.min(...results.cells.filter((c) => c.status === 'ok').map((c) => c.reps.length));
  if (fewest < need) {
    process.stderr.write(`sluice gate: warning: cells with ${fewest} repetitions; the gate needs ${need} per side, so their relative checks will end "not enough repetitions" (exit 3)\n`);
  }
  const shown = relative(process.cwd(), target).startsWith('..') ? target : relative(process.cwd(), target);
  process.stdout.write(`sluice gate: wrote ${shown} (matrix ${results.run.matrix.name}, run ${results.run.id}, ${results.cells.length} cells); commit it\n`);
  return 0;
}

runMain('gate', main, ['ResultsError', 'GateInputError']);
