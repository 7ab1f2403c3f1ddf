// `npm run report -- RUN`: makes report.md, results.csv and report.html again from a run's results.json (a run
// folder or the file itself), beside it. results.json is only read.
import { parseArgs } from 'node:util';
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { REPORT_FORMATS } from '../output/formats.js';
import { ResultsWriter, readResults } from '../results/writer.js';
import { formatSummaryTable } from '../output/summary-table.js';
import { CliError, runMain } from './cli-error.js';

const HELP = `Usage: npm run report -- RUN

Writes ${REPORT_FORMATS.map((f) => f.file).join(', ')} next to a run's results.json, from it alone (nothing is
measured): RUN is a run folder (results/<run-id>, results/latest) or its results.json. Prints the cells at a
glance and the paths written.

report.html is one self-contained file: it opens offline, with its chart library and data inlined.`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { help: { type: 'boolean', short: 'h', default: false } },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new CliError(`expected one run folder or results.json, got ${positionals.length} (see --help)`);
  const dir = runDir(positionals[0]!);
  let results;
  try {
    results = readResults(dir);
  } catch (err) {
    // A file that is not a run's results is bad input, named in the message: exit 2, no stack.
    throw new CliError((err as Error).message);
  }
  const written = new ResultsWriter(dir, REPORT_FORMATS).writeDerived(results);
  process.stdout.write(formatSummaryTable(results.cells) + '\n' + written.map((f) => `wrote ${f}\n`).join(''));
  return 0;
}

function runDir(arg: string): string {
  const path = resolve(arg);
  if (!existsSync(path)) throw new CliError(`${arg}: no such file or folder`);
  if (statSync(path).isDirectory()) {
    if (!existsSync(join(path, 'results.json'))) throw new CliError(`${arg}: no results.json in this folder`);
    return path;
  }
  if (basename(path) !== 'results.json') throw new CliError(`${arg}: expected a run folder or its results.json`);
  return dirname(path);
}

runMain('report', main);
