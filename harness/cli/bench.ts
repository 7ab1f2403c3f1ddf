// `npm run bench -- [flags]`: runs a matrix of cells through the proxy and writes results/<run-id>/.
import { parseArgs } from 'node:util';
import { existsSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDuration, formatDuration } from '../../common/duration.js';
import { loadMatrix } from '../matrix/load.js';
import { expandCells, restrictAxes, type Expansion } from '../matrix/cells.js';
import type { MatrixSpec } from '../matrix/schema.js';
import { ASSUMED_OVERHEAD_MS, Orchestrator, estimateRunMs, newRunResults } from '../orchestrator/orchestrator.js';
import type { CellPlan } from '../orchestrator/run-cell.js';
import { scheduleVisits } from '../orchestrator/schedule.js';
import { allowedCpus, childCpus, parsePin, pinSelf, requireTaskset, unavailableCpus, type ChildCpus } from '../orchestrator/pinning.js';
import { ResultsWriter } from '../results/writer.js';
import { readResults } from '../results/read.js';
import type { Pinning, RepOrder, RunResults } from '../results/model.js';
import { gitInfo, hostInfo } from '../results/host.js';
import { sluiceComponents, type UsedProxy } from '../results/components.js';
import { PROXY_NAMES, proxyVersion } from '../proxies/registry.js';
import { REPORT_FORMATS } from '../output/formats.js';
import { h2loadVersion } from '../load/external/h2load.js';
import { baselinePath } from '../results/baseline.js';
import { startBenchTelemetry, type TelemetryFlags } from '../telemetry/bench-telemetry.js';
import { requirePrometheusTools } from '../telemetry/prometheus-stack.js';
import { progressPrinter } from './progress.js';
import { CliError, runMain } from './cli-error.js';

const HELP = `Usage: npm run bench -- [options]

Runs every cell of a matrix (the cartesian product of its axes, minus exclusions): for each cell it starts the
synthetic backends and the proxy with the cell's settings, warms up, measures, stops them, and appends the cell
to results/<run-id>/results.json at once (report.md, results.csv and report.html beside it). results/latest points at the newest run.

Options:
  --matrix NAME|PATH   matrix to run: NAME means workloads/matrices/NAME.yaml (default: quick)
  --duration D         measured time per repetition, overrides the matrix (e.g. 500ms, 5s, 2m)
  --warmup D           load before the first repetition of each visit of a cell, not recorded, overrides the matrix
  --reps N             repetitions per cell, overrides the matrix
  --order O            interleave (default): every cell's repetition 1, then every cell's repetition 2, ...,
                       each visit restarting the cell's processes; cell: a cell's repetitions back to back
  --pin ROLE=CPU,...   run the proxy, the load generator (this process) and the backends on these CPUs with
                       taskset, e.g. --pin proxy=0,load=1 (a role may take a range: backends=2-3)
  --timeout D          per-request timeout, overrides the matrix (default 5s)
  --generator G        sluice (default) | h2load: nghttp2's h2load generates the load (h2 cells only),
                       overrides the matrix's generator: key
  --only AXIS=V1,V2    keep only these values of a swept axis; repeatable (e.g. --only concurrency=8,64)
  --out DIR            folder that receives the run folder and the 'latest' link (default: results)
  --resume DIR         continue the run in DIR: cells already ok are kept, failed and missing cells are run
  --metrics-port N     serve live metrics (sluice_*: requests, errors, RST, latency, in flight, the cell's
                       parameters as labels) at http://127.0.0.1:N/metrics while the run lasts (0: any free
                       port); file_sd targets for it and each cell's proxy go to grafana/prometheus/targets/
  --prometheus         start Debian's prometheus and prometheus-pushgateway on 127.0.0.1 for the run (config:
                       grafana/prometheus/prometheus.yml), keep Prometheus's data in <run>/prometheus/data,
                       push the cells' summaries at the end, wait for one scrape, stop both
  --push URL           at the end, push each cell's summary (RPS, P50/P99/P99.9, RST and error ratios, proxy
                       CPU per request, scenario headlines, the gate's lines) to this Prometheus pushgateway
  --baseline FILE      the run the pushed gate lines are drawn against (default:
                       results/baselines/<matrix>.json when it exists)
  --dry-run            print the cells and the estimated time, run nothing
  -h, --help           this text

Ctrl-C stops the current cell, stops every process the bench started, and leaves results.json valid with the
cells finished so far (run.status "interrupted"); --resume continues it.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      matrix: { type: 'string', default: 'quick' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      reps: { type: 'string' },
      order: { type: 'string' },
      pin: { type: 'string' },
      timeout: { type: 'string' },
      generator: { type: 'string' },
      only: { type: 'string', multiple: true, default: [] },
      out: { type: 'string', default: 'results' },
      resume: { type: 'string' },
      'metrics-port': { type: 'string' },
      prometheus: { type: 'boolean', default: false },
      push: { type: 'string' },
      baseline: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }

  // Before a run folder exists: a missing Debian package leaves nothing behind.
  if (values.prometheus) await requirePrometheusTools();

  let results: RunResults;
  let writer: ResultsWriter;
  let expansion: Expansion;
  let plan: CellPlan;
  let cpus: ChildCpus | undefined;
  const derived = REPORT_FORMATS;

  if (values.resume) {
    if (values.only.length || values.duration || values.warmup || values.reps || values.generator || values.order || values.pin) {
      throw new CliError('--resume continues a run with its own settings; --only, --duration, --warmup, --reps, --generator, --order and --pin cannot be changed');
    }
    if (!existsSync(join(resolve(values.resume), 'results.json'))) throw new CliError(`--resume ${values.resume}: no results.json in ${resolve(values.resume)}`);
    // The run's own folder, not results/latest: the writer re-points latest at it.
    const dir = realpathSync(resolve(values.resume));
    results = readResults(dir);
    cpus = await applyPinning(results.run.pinning);
    const spec = results.run.matrix.spec;
    expansion = expandCells(restrictAxes(spec, results.run.options.only));
    const o = results.run.options;
    plan = { durationMs: o.durationMs, warmupMs: o.warmupMs, reps: o.reps, timeoutMs: parseDuration(spec.timeout) };
    writer = new ResultsWriter(dir, derived);
  } else {
    const loaded = loadMatrix(values.matrix);
    const spec: MatrixSpec = { ...restrictAxes(loaded.spec, values.only), ...(values.generator ? { generator: generatorFlag(values.generator) } : {}) };
    plan = {
      durationMs: parseDuration(values.duration ?? spec.duration, values.duration ? '--duration' : `${loaded.file}: duration`),
      warmupMs: parseDuration(values.warmup ?? spec.warmup, values.warmup ? '--warmup' : `${loaded.file}: warmup`),
      reps: values.reps ? positiveInt(values.reps, '--reps') : spec.reps,
      timeoutMs: parseDuration(values.timeout ?? spec.timeout, values.timeout ? '--timeout' : `${loaded.file}: timeout`),
    };
    const order = orderFlag(values.order);
    const pinning = values.pin !== undefined ? parsePin(values.pin, allowedCpus()) : {};
    expansion = expandCells(spec);
    if (values['dry-run']) {
      process.stdout.write(dryRun(spec, expansion, plan, order));
      return 0;
    }
    if (expansion.cells.length === 0) throw new CliError(`${loaded.file}: every cell is excluded; nothing to run`);
    const h2load = await checkGenerator(spec, expansion, values.generator ? '--generator' : `${loaded.file}: generator`);
    const proxies = await checkProxies(expansion, loaded.file);
    const git = gitInfo(process.cwd());
    // Before the run's folder exists: a missing taskset leaves nothing behind.
    cpus = await applyPinning(pinning);
    const id = runId(spec.name, resolve(values.out));
    writer = new ResultsWriter(join(resolve(values.out), id), derived);
    results = newRunResults({
      id,
      spec,
      file: loaded.file,
      sha256: loaded.sha256,
      only: values.only,
      plan,
      git,
      host: hostInfo(),
      excluded: expansion.excluded,
      components: sluiceComponents(spec, git, h2load, proxies),
      pinning,
      order,
    });
  }
  // results.json before the link: whoever follows results/latest finds a valid run from the first moment.
  writer.write(results);
  writer.linkLatest();
  const telemetry = await startBenchTelemetry(telemetryFlags(values, results.run.matrix.name), results, writer.dir);
  for (const line of telemetry.describe()) process.stderr.write(`sluice: ${line}\n`);

  const abort = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts === 1) {
      process.stderr.write('\nsluice: stopping after Ctrl-C (again to force)...\n');
      abort.abort();
    } else process.exit(130);
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  // A closed terminal: its children lead their own process groups and would not get the hangup themselves.
  process.on('SIGHUP', onSigint);

  const orchestrator = new Orchestrator({ results, expansion, plan, writer, signal: abort.signal, ...(cpus ? { cpus } : {}) });
  orchestrator.on('event', progressPrinter());
  orchestrator.on('event', telemetry.onEvent);
  let final: RunResults;
  try {
    final = await orchestrator.run();
  } catch (err) {
    await telemetry.close();
    throw err;
  }
  await telemetry.finish(final, (line) => process.stderr.write(`sluice: ${line}\n`));
  process.stderr.write(`sluice: results in ${writer.resultsFile} (report.md and results.csv beside it)\nsluice: report: ${join(writer.dir, 'report.html')}\n`);
  const failed = final.cells.filter((c) => c.status === 'failed').length;
  if (final.run.status === 'interrupted') return 130;
  return failed > 0 ? 1 : 0;
}

/** The telemetry flags, checked before anything starts. */
function telemetryFlags(
  values: { 'metrics-port'?: string | undefined; prometheus?: boolean | undefined; push?: string | undefined; baseline?: string | undefined },
  matrix: string,
): TelemetryFlags {
  const flags: TelemetryFlags = {};
  if (values['metrics-port'] !== undefined) {
    const raw = values['metrics-port'];
    if (!/^\d+$/.test(raw) || Number(raw) > 65535) throw new CliError(`--metrics-port ${raw}: expected a port number 0-65535 (0: any free port)`);
    flags.metricsPort = Number(raw);
    flags.targetsDir = resolve('grafana/prometheus/targets');
  }
  if (values.prometheus) flags.prometheus = true;
  if (values.push !== undefined) {
    if (!/^https?:\/\/[^/]+/.test(values.push)) throw new CliError(`--push ${values.push}: expected the pushgateway's URL, e.g. http://127.0.0.1:9091`);
    flags.pushUrl = values.push;
  }
  const baseline = values.baseline ?? (existsSync(baselinePath(matrix)) ? baselinePath(matrix) : undefined);
  if (baseline !== undefined && (flags.pushUrl || flags.prometheus)) flags.baseline = readResults(baseline);
  return flags;
}

function generatorFlag(raw: string): MatrixSpec['generator'] {
  if (raw !== 'sluice' && raw !== 'h2load') throw new CliError(`--generator ${raw}: expected sluice | h2load`);
  return raw;
}

function orderFlag(raw: string | undefined): RepOrder {
  if (raw === undefined) return 'interleave';
  if (raw !== 'interleave' && raw !== 'cell') throw new CliError(`--order ${raw}: expected interleave | cell`);
  return raw;
}

/** Pins this process (the generator) and says which CPUs each child gets; undefined when nothing is pinned. */
async function applyPinning(pinning: Pinning): Promise<ChildCpus | undefined> {
  if (Object.keys(pinning).length === 0) return undefined;
  // The CPUs this process may use before it pins itself: the children that are not pinned get all of them back.
  const allowed = allowedCpus();
  // A resumed run is pinned as it was recorded, which another machine may not allow.
  const missing = unavailableCpus(pinning, allowed);
  if (missing) throw new CliError(`--resume: the run was pinned (--pin) to ${missing}`);
  await requireTaskset();
  if (pinning.load) await pinSelf(pinning.load);
  return childCpus(pinning, allowed);
}

/** h2load generates h2 only, and must be installed: refused before any process is started. Its version. */
async function checkGenerator(spec: MatrixSpec, expansion: Expansion, where: string): Promise<string | undefined> {
  if (spec.generator !== 'h2load') return undefined;
  const other = [...new Set(expansion.cells.map((c) => c.params.protocol).filter((p) => p !== 'h2'))];
  if (other.length > 0) {
    throw new CliError(`${where} h2load: it generates h2 only, and this matrix has ${other.join(', ')} cells; add --only protocol=h2`);
  }
  try {
    return await h2loadVersion();
  } catch (err) {
    throw new CliError(`${where} h2load: ${(err as Error).message}`);
  }
}

/**
 * Each proxy the cells run through must be installed: refused before any process is started, naming the package
 * (`--only proxy=...` runs the others). Their versions, asked once here and kept for the run's cells.
 */
async function checkProxies(expansion: Expansion, file: string): Promise<UsedProxy[]> {
  const names = [...new Set(expansion.cells.filter((c) => c.params.target === 'proxy').map((c) => c.params.proxy))];
  const used: UsedProxy[] = [];
  for (const name of names) {
    try {
      used.push({ name, version: await proxyVersion(name) });
    } catch (err) {
      const others = PROXY_NAMES.filter((n) => n !== name && names.includes(n));
      throw new CliError(`${file}: proxy ${name}: ${(err as Error).message}${others.length > 0 ? ` (--only proxy=${others.join(',')} leaves it out)` : ''}`);
    }
  }
  return used;
}

function positiveInt(raw: string, flag: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new CliError(`${flag} ${raw}: expected a whole number of at least 1`);
  return Number(raw);
}

function runId(name: string, outDir: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  let id = `${stamp}-${name}`;
  for (let n = 2; existsSync(join(outDir, id)); n++) id = `${stamp}-${name}-${n}`;
  return id;
}

function dryRun(spec: MatrixSpec, expansion: Expansion, plan: CellPlan, order: RepOrder): string {
  const lines = [
    `matrix ${spec.name}: ${expansion.cells.length} cells, ${expansion.excluded.length} excluded` +
      (spec.generator === 'h2load' ? ', load generated by h2load' : ''),
  ];
  for (const c of expansion.cells) lines.push(`  ${c.id}`);
  const reasons = new Map<string, number>();
  for (const e of expansion.excluded) reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1);
  for (const [reason, n] of reasons) lines.push(`excluded ${n} cells: ${reason}`);
  const visits = scheduleVisits(expansion.cells.map((cell) => ({ cell, done: 0 })), plan.reps, order);
  const est = estimateRunMs(visits, plan);
  const perVisit = visits.length === expansion.cells.length ? 'each cell' : `${visits.length} visits (repetitions interleaved), each`;
  lines.push(
    `${perVisit}: ${formatDuration(plan.warmupMs)} warm-up + ${visits[0]?.reps ?? plan.reps} x ${formatDuration(plan.durationMs)} + ~${formatDuration(ASSUMED_OVERHEAD_MS)} start/stop`,
    `estimated time: ${formatDuration(Math.round(est / 1000) * 1000)} (${Math.round(est / 60000)} min)`,
  );
  return lines.join('\n') + '\n';
}

runMain('bench', main, ['MatrixError', 'DurationError', 'PinError', 'ResultsError', 'MissingToolError']);
