// `npm run history -- export RESULTS...`: past runs as OpenMetrics for promtool to backfill into Prometheus,
// under the names `--push` gives the pushgateway (telemetry/README.md "Pushed summaries").
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { readResultsFile } from '../results/read-results.js';
import type { RunResults } from '../results/model.js';
import { writeAtomic } from '../results/writer.js';
import { formatOpenMetrics } from '../telemetry/openmetrics.js';
import { CliError, runMain } from './cli-error.js';

const HELP = `Usage: npm run history -- export RESULTS... [--out FILE] [--host NAME]

Writes the per-cell summaries of past runs as OpenMetrics: the metrics and labels --push sends to a pushgateway
(sluice_cell_rps, sluice_cell_latency_seconds, ...) plus job="sluice" and instance=<host>, each sample stamped
with its run's start. RESULTS are run folders (results/<run-id>) or results.json files. Cells that failed are
left out; gate lines are the matrix's absolute ones (relative ones need a baseline, which --push has).

Options:
  --out FILE    write there instead of to stdout
  --host NAME   the instance label of every run (default: each run's recorded host name, as its --push
                used; for runs too old to record one, this machine's, ${hostname()})
  -h, --help    this text

Backfill (promtool and Prometheus from Debian's prometheus package):
  npm run -s history -- export results/* --out sluice.om
  promtool tsdb create-blocks-from openmetrics sluice.om ./blocks
  then move the folders in ./blocks into Prometheus's data directory (Debian: /var/lib/prometheus/metrics2/);
  it loads them within about a minute, or at its next start.

Retention: Prometheus deletes blocks older than --storage.tsdb.retention.time (default 15d; counted back from
its newest block, so about now on a server that scrapes), backfilled ones included, as soon as it loads them.
History older than that needs a longer retention, e.g. --storage.tsdb.retention.time=400d (Debian: ARGS in
/etc/default/prometheus).
Samples older than the TSDB head (about the last 2 hours) must be backfilled like this, not pushed: the
pushgateway refuses timestamps and Prometheus stamps every pushed value with the time of its scrape.

Exit codes: 0 written, 2 bad usage or a RESULTS that is not a readable sluice results file (named).`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      out: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const [command, ...inputs] = positionals;
  if (command !== 'export') throw new CliError(command === undefined ? 'expected a command: export (see --help)' : `unknown command ${command}: expected export (see --help)`);
  if (inputs.length === 0) throw new CliError('export: expected one or more run folders or results.json files (see --help)');
  if (values.host !== undefined && values.host.trim() === '') throw new CliError('--host: expected a name');
  const runs = readAll(inputs);
  const out = formatOpenMetrics(runs, { ...(values.host !== undefined ? { host: values.host } : {}), defaultHost: hostname() });
  const what = `${plural(out.runs, 'run')}, ${plural(out.cells, 'cell')}, ${plural(out.samples, 'sample')}`;
  if (values.out === undefined) {
    process.stdout.write(out.text);
    process.stderr.write(`sluice history: exported ${what}\n`);
  } else {
    writeAtomic(values.out, out.text);
    process.stdout.write(`sluice history: wrote ${values.out} (${what}); backfill it with promtool tsdb create-blocks-from openmetrics ${values.out} DIR\n`);
  }
  return 0;
}

/** Every input read before any is exported, so one run names all the bad ones at once. */
function readAll(inputs: readonly string[]): RunResults[] {
  const runs: RunResults[] = [];
  const bad: string[] = [];
  for (const input of inputs) {
    try {
      runs.push(readResultsFile(input).results);
    } catch (err) {
      if ((err as Error).name !== 'ResultsError') throw err;
      bad.push((err as Error).message);
    }
  }
  if (bad.length > 0) throw new CliError(bad.join('; '));
  return runs;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

runMain('history', main);
