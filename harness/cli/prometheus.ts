// `npm run prometheus -- [RUN]`: opens the Prometheus data a `bench --prometheus` run left (results/<run>/prometheus/data)
// in Debian's prometheus on 127.0.0.1, scraping nothing (no new sample lands in the run's data), with a retention
// long enough that an old run's blocks are not deleted at start; prints the run's time range for Grafana. Runs
// until Ctrl-C.
import { parseArgs } from 'node:util';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { readResults } from '../results/read.js';
import { RETENTION, requireBinary } from '../telemetry/prometheus-stack.js';
import { CliError, runMain } from './cli-error.js';

const HELP = `Usage: npm run prometheus -- [RUN] [--port N]

Opens the Prometheus data folder a \`npm run bench -- --prometheus\` run left (RUN/prometheus/data; RUN defaults
to results/latest) in Debian's prometheus on http://127.0.0.1:PORT (default 9090, the address
grafana/provisioning's data source names), scraping nothing, retention ${RETENTION}. Then open Grafana with
grafana/provisioning (grafana/README.md) and the time range printed here. Ctrl-C stops it.

Options:
  --port N     listen port (default 9090)
  -h, --help   this text`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { port: { type: 'string', default: '9090' }, help: { type: 'boolean', short: 'h', default: false } },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (positionals.length > 1) throw new CliError(`expected at most one run folder, got ${positionals.length}`);
  const run = resolve(positionals[0] ?? 'results/latest');
  const data = join(run, 'prometheus', 'data');
  if (!existsSync(data)) throw new CliError(`${positionals[0] ?? 'results/latest'}: no prometheus/data in it (was it run with --prometheus?)`);
  if (!/^\d+$/.test(values.port) || Number(values.port) < 1 || Number(values.port) > 65535) throw new CliError(`--port ${values.port}: expected a port number 1-65535`);
  try {
    requireBinary('prometheus', 'prometheus');
  } catch (err) {
    throw new CliError(`npm run prometheus: ${(err as Error).message}`);
  }
  let range = '';
  try {
    const results = readResults(run);
    const from = Date.parse(results.run.startedAt) - 10_000;
    const to = Date.parse(results.run.finishedAt ?? results.run.startedAt) + 60_000;
    range = `run ${results.run.id}: ${new Date(from).toISOString()} .. ${new Date(to).toISOString()} (Grafana: ?from=${from}&to=${to})`;
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  // An empty scrape config: the folder keeps what the run recorded, nothing more.
  const tmp = mkdtempSync(join(tmpdir(), 'sluice-prometheus-'));
  const config = join(tmp, 'prometheus.yml');
  writeFileSync(config, 'global: {}\n');
  process.stderr.write(`sluice: Prometheus on http://127.0.0.1:${values.port} over ${data}\nsluice: ${range}\n`);
  const child = execa('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${data}`, `--storage.tsdb.retention.time=${RETENTION}`, `--web.listen-address=127.0.0.1:${values.port}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
    reject: false,
    cleanup: true,
  });
  const stop = (): void => void child.kill('SIGTERM');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', stop); // a closed terminal: prometheus leads its own process group
  const result = await child;
  rmSync(tmp, { recursive: true, force: true });
  return result.signal === 'SIGTERM' ? 0 : (result.exitCode ?? 1);
}

runMain('prometheus', main);
