// nghttp2's h2load as the generator: the same LoadOptions in, the same RepResult out, so a run can be checked
// against a generator that is not ours. h2load runs as a child process (execa); its per-request log gives
// every latency (true percentiles from our HdrHistogram), its summary the failure counts, /proc its CPU.
// It never prints; progress is a callback, as with runLoad.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { validateLoadOptions } from '../options.js';
import { LoadAbortedError, type LoadTick } from '../run-load.js';
import { GENERATOR_SATURATION } from '../statistic/generator-load.js';
import { initHistograms } from '../statistic/histogram.js';
import { lowerBoundPercentiles, OutcomeHistograms } from '../statistic/outcome-histograms.js';
import type { LoadOptions, RepResult } from '../types.js';
import { checkH2loadOptions, h2loadPlan, H2loadUnsupportedError } from './h2load-args.js';
import { estimateLag, H2loadLog } from './h2load-log.js';
import { MEASURE_OVER, MEASURE_STARTED, parseH2loadSummary, parseH2loadVersion, type H2loadSummary } from './h2load-output.js';
import { processCpuSeconds } from './proc-cpu.js';
import { missingBinaryMessage } from '../../../common/binaries.js';

export { H2loadUnsupportedError };

/** Names another h2load binary (a path), e.g. a newer build; default: `h2load` on PATH. */
export const H2LOAD_BINARY_ENV = 'SLUICE_H2LOAD';
export const H2LOAD_MISSING = missingBinaryMessage('h2load', 'nghttp2-client');

export class H2loadNotFoundError extends Error {
  constructor(binary: string) {
    super(binary === 'h2load' ? H2LOAD_MISSING : `${H2LOAD_MISSING} (or fix ${H2LOAD_BINARY_ENV}=${binary})`);
    this.name = 'H2loadNotFoundError';
  }
}

/** What h2load adds to a RepResult: what it could not measure, and its own summary for cross-checks. */
export interface H2loadRepResult extends RepResult {
  generator: 'h2load';
  /** Where this record differs from one of the sluice generator (unmeasured fields, options not applied). */
  generatorNotes: string[];
  h2load: H2loadSummary & { version: string; args: string[] };
}

const TICK_MS = 1000;

/** execa, loaded when h2load is first run: ~100 files a run of our own generator would load for nothing (part of
 *  its whole-process CPU, which issue 15 compares with h2load's). */
async function loadExeca(): Promise<typeof import('execa').execa> {
  return (await import('execa')).execa;
}

function binary(): string {
  return process.env[H2LOAD_BINARY_ENV] || 'h2load';
}

/** h2load's version ("1.52.0"); throws H2loadNotFoundError when it is not installed. */
export async function h2loadVersion(): Promise<string> {
  const bin = binary();
  const execa = await loadExeca();
  const r = await execa(bin, ['--version'], { reject: false, stdin: 'ignore' });
  if (r.code === 'ENOENT' || r.code === 'EACCES') throw new H2loadNotFoundError(bin);
  if (r.exitCode !== 0) throw new Error(`${bin} --version failed: ${r.stderr || r.stdout}`);
  return parseH2loadVersion(r.stdout) ?? 'unknown';
}

/**
 * Runs h2load for options.warmupMs + options.durationMs against options.url (h2c prior knowledge) and returns
 * the measured repetition. Aborting `signal` kills h2load and rejects with LoadAbortedError.
 */
export async function runH2load(options: LoadOptions, onTick?: (tick: LoadTick) => void, signal?: AbortSignal): Promise<H2loadRepResult> {
  validateLoadOptions(options);
  checkH2loadOptions(options);
  if (signal?.aborted) throw new LoadAbortedError();
  const version = await h2loadVersion();
  if (options.rate !== undefined) await requireRps();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-h2load-'));
  try {
    const files = { logFile: join(dir, 'requests.tsv'), ...(options.bodyBytes > 0 ? { bodyFile: join(dir, 'body') } : {}) };
    const plan = h2loadPlan(options, files);
    if (files.bodyFile) await writeFile(files.bodyFile, Buffer.alloc(options.bodyBytes, 'x'));
    await initHistograms();
    const histograms = new OutcomeHistograms(false);
    const log = new H2loadLog(files.logFile, histograms, options.durationMs / 1000, options.rate !== undefined);
    try {
      const run = await runChild(plan.args, plan.threads, log, onTick, signal);
      await log.finish();
      return toRepResult(options, plan, version, run, log, histograms);
    } finally {
      await log.close();
      histograms.destroy();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function requireRps(): Promise<void> {
  const execa = await loadExeca();
  const help = await execa(binary(), ['--help'], { reject: false, stdin: 'ignore' });
  if (!help.stdout.includes('--rps=')) {
    throw new H2loadUnsupportedError('rate', 'this h2load has no --rps option (nghttp2 1.44 or newer has): a rate cannot be kept; use --generator sluice');
  }
}

interface ChildRun {
  stdout: string;
  /** CPU seconds h2load used in the measured window, and that window's wall time, when both phase lines were seen. */
  cpuS?: number;
  wallS?: number;
}

/** Spawns h2load, follows its phase lines and log for ticks and CPU, and waits for it. */
async function runChild(
  args: string[],
  threads: number,
  log: H2loadLog,
  onTick: ((tick: LoadTick) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<ChildRun> {
  const bin = binary();
  const execa = await loadExeca();
  const child = execa(bin, args, {
    reject: false,
    stdin: 'ignore',
    buffer: { stdout: false, stderr: true },
    cancelSignal: signal,
    forceKillAfterDelay: 1000,
  });
  const pid = child.pid;
  let stdout = '';
  let started = 0;
  let over = 0;
  let phase: LoadTick['phase'] = 'warmup';
  let phaseAt = performance.now();
  let cpuStart: number | undefined;
  let wallStart = 0;
  let cpuEnd: number | undefined;
  let wallEnd = 0;
  const cpuNow = (): number | undefined => (pid === undefined ? undefined : processCpuSeconds(pid));
  child.stdout?.setEncoding('utf8');
  let scanned = 0;
  child.stdout?.on('data', (chunk: string) => {
    stdout += chunk;
    // Phase lines are matched whole: a chunk may end in the middle of one.
    const end = stdout.lastIndexOf('\n') + 1;
    if (end <= scanned) return;
    const lines = stdout.slice(scanned, end);
    scanned = end;
    const nowStarted = (lines.match(MEASURE_STARTED) ?? []).length;
    const nowOver = (lines.match(MEASURE_OVER) ?? []).length;
    if (started === 0 && nowStarted > 0) {
      cpuStart = cpuNow();
      wallStart = performance.now();
      phase = 'measure';
      phaseAt = wallStart;
      log.setOrigin(Date.now() * 1000);
    }
    started += nowStarted;
    over += nowOver;
    // The window ends when every thread's main duration is over; what follows is h2load's own report.
    if (cpuEnd === undefined && nowOver > 0 && over >= threads) {
      cpuEnd = cpuNow();
      wallEnd = performance.now();
    }
  });
  let polling: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    polling = polling.then(async () => {
      if (phase === 'measure') await log.poll().catch(() => undefined);
      onTick?.({
        elapsedS: (performance.now() - phaseAt) / 1000,
        requests: phase === 'measure' ? log.counts.requests : 0,
        errors: phase === 'measure' ? log.errors : 0,
        phase,
      });
    });
  }, TICK_MS);
  const result = await child.finally(() => clearInterval(timer));
  await polling;
  // Ctrl-C in a terminal reaches h2load too (same process group), maybe before our own handler aborts.
  if (result.isCanceled || signal?.aborted || result.signal === 'SIGINT') throw new LoadAbortedError();
  if (result.code === 'ENOENT') throw new H2loadNotFoundError(bin);
  if (result.exitCode !== 0) {
    const why = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode ?? 'unknown'}`;
    const stderr = String(result.stderr ?? '').trim().split('\n').slice(-5).join('\n');
    throw new Error(`h2load ${why}${stderr ? `: ${stderr}` : ''}`);
  }
  const measured = cpuStart !== undefined && cpuEnd !== undefined && wallEnd > wallStart;
  return { stdout, ...(measured ? { cpuS: cpuEnd! - cpuStart!, wallS: (wallEnd - wallStart) / 1000 } : {}) };
}

function toRepResult(
  options: LoadOptions,
  plan: ReturnType<typeof h2loadPlan>,
  version: string,
  run: ChildRun,
  log: H2loadLog,
  histograms: OutcomeHistograms,
): H2loadRepResult {
  const summary = parseH2loadSummary(run.stdout);
  if (!summary) throw new Error(`h2load printed no summary; its output ends with: ${run.stdout.trim().split('\n').slice(-5).join(' | ')}`);
  const notes = [...plan.notes];
  const c = log.counts;
  // h2load's own timer bounds the window, and every count in its log and summary belongs to it.
  const durationS = options.durationMs / 1000;
  const errors: Record<string, number> = {};
  const add = (key: string, n: number): void => {
    if (n > 0) errors[key] = (errors[key] ?? 0) + n;
  };
  const timeouts = Math.min(summary.requests.timeout, c.failedStreams);
  add('h2load:errored', c.failedStreams - timeouts);
  add('timeout', timeouts);
  add('status:4xx', c.status4xx);
  add('status:5xx', c.status5xx);
  add('h2load:failed', c.otherStatus);
  notes.push(
    'rst and rstRate not measured: h2load does not report RST_STREAM or GOAWAY; a reset or lost connection is counted in h2load:errored',
  );
  if (c.requests === 0) notes.push('no request completed: h2load does not report connect errors; is the target reachable?');
  if (summary.requests.done !== c.requests) {
    notes.push(`h2load's summary counts ${summary.requests.done} requests done, its log ${c.requests}; the log is used`);
  }
  if (c.malformed > 0) notes.push(`${c.malformed} log rows could not be read`);
  notes.push("no drain: h2load's log holds the requests that completed within its duration; those still in flight at its end are not counted");

  let generatorCpu = 0;
  if (run.cpuS !== undefined && run.wallS !== undefined) generatorCpu = run.cpuS / run.wallS;
  else notes.push("generatorCpu not measured: h2load's phase lines or /proc were not seen");
  const sentRps = durationS > 0 ? summary.requests.started / durationS : 0;
  const successes = c.requests - log.errors;
  const all = histograms.all();
  const latencyMs = all.summaryMs();
  const histogram = all.encode();
  all.destroy();
  const timeSeries = log.timeSeries();
  const result: H2loadRepResult = {
    rps: durationS > 0 ? successes / durationS : 0,
    completedRps: durationS > 0 ? c.requests / durationS : 0,
    requests: c.requests,
    successes,
    errorRate: c.requests > 0 ? log.errors / c.requests : 0,
    durationS,
    latencyMs,
    latencyLowerBounds: lowerBoundPercentiles(latencyMs, timeouts, options.timeoutMs),
    successLatencyMs: histograms.success.summaryMs(),
    successHistogram: histograms.success.encode(),
    errors,
    rst: { received: {}, sent: {} },
    rstRate: 0,
    // h2load -t N runs N event loops: saturated when they average over 0.9 of a core each.
    generatorSaturated: generatorCpu / plan.threads > GENERATOR_SATURATION,
    generatorCpu,
    histogram,
    ...(timeSeries.length > 0 ? { timeSeries } : {}),
    generator: 'h2load',
    generatorNotes: notes,
    h2load: { ...summary, version, args: plan.args },
  };
  if (options.rate !== undefined) {
    const lag = estimateLag(log.starts, options.rate);
    const behind = sentRps < 0.95 * options.rate || lag.p99LagMs > 10;
    result.openLoop = { targetRps: options.rate, sentRps, maxLagMs: lag.maxLagMs, meanLagMs: lag.meanLagMs, behind };
  }
  return result;
}
