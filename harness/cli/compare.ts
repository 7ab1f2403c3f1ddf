// `npm run compare -- A B`: two runs (folders or results.json files) cell by cell, as Markdown or --json.
import { parseArgs } from 'node:util';
import { compareRuns, DEFAULT_COMPARE_OPTIONS } from '../compare/compare-runs.js';
import { formatCompareMarkdown } from '../output/compare-markdown.js';
import { readResultsFile } from '../results/read-results.js';
import { CliError, runMain } from './cli-error.js';
import { confidenceFlag, jsonNumbers, resamplesFlag, seedFlag } from './compare-flags.js';

const HELP = `Usage: npm run compare -- A B [--json] [--confidence 0.95] [--resamples 10000] [--seed 12]

A and B are run folders (results/<run-id>, results/latest) or results.json files. For every cell both have (the
same value of every axis) and every metric (RPS, P50, P99, P99.9, error rate, proxy CPU per request): the ratio
B/A of the means over repetitions, a bootstrap interval of that ratio (seeded: the same files give the same
output), a two-sided Mann-Whitney U p-value over the repetitions, and a verdict: better, worse, no change, or not
enough repetitions. Cells only one side has are listed.

Options:
  --json             print the comparison as JSON instead of Markdown
  --confidence C     level of the interval; a change needs p < 1 - C (default 0.95)
  --resamples N      bootstrap resamples (default 10000)
  --seed N           seed of the resampling (default 12)
  -h, --help         this text

Exit codes: 0 compared, 2 unusable input (a file missing, unreadable, of another schema).`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      confidence: { type: 'string' },
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
  if (positionals.length !== 2) throw new CliError(`expected two runs, A and B (folders or results.json files), got ${positionals.length}; see --help`);
  const options = {
    confidence: confidenceFlag(values.confidence) ?? DEFAULT_COMPARE_OPTIONS.confidence,
    resamples: resamplesFlag(values.resamples) ?? DEFAULT_COMPARE_OPTIONS.resamples,
    seed: seedFlag(values.seed) ?? DEFAULT_COMPARE_OPTIONS.seed,
  };
  const comparison = compareRuns(readResultsFile(positionals[0]!), readResultsFile(positionals[1]!), options);
  process.stdout.write(values.json ? JSON.stringify(comparison, jsonNumbers, 2) + '\n' : formatCompareMarkdown(comparison));
  return 0;
}

runMain('compare', main, ['ResultsError']);
