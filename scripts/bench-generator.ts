// `npm run bench:generator [-- --seconds N]`: how much CPU each load generator spends per request, against the
// same tiny h2c and gRPC backends (child processes, so their CPU is not counted), one client after another at
// the same concurrency. A generator's CPU per request bounds the load it can offer; h2load (nghttp2, C) is the
// yardstick for HTTP/2, @grpc/grpc-js for gRPC. Prints one table per protocol, and issue 15's measure: `npm run
// load` and h2load as whole processes, start-up included (`--whole-seconds`, default 30, three rounds); about 5
// minutes in all.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { parseH2loadSummary } from '../harness/load/external/h2load-output.js';
import { runLoad } from '../harness/load/run-load.js';
import type { LoadOptions, Protocol } from '../harness/load/types.js';

interface Row {
  client: string;
  shape: string;
  requests: number;
  seconds: number;
  cpuS: number;
  errors: number;
}

const SHAPES = [
  { connections: 1, streams: 64 },
  { connections: 4, streams: 16 },
];
const WARMUP_MS = 500;
const REPEATS = 2;
/** Whole-process rounds (npm run load, then h2load); odd, so one round is the median. */
const WHOLE_ROUNDS = 3;
/** The open loop's pacing is measured at these rates (issue 9: 1 000, 10 000 and 50 000 requests a second). */
const PACING_RATES = [1000, 10_000, 50_000];

/** `flag`'s value in seconds, in (0, 60]; `fallback` when absent. A bad value exits 2, naming the flag. */
function parseSeconds(argv: string[], flag: string, fallback: number): number {
  const at = argv.indexOf(flag);
  const seconds = at >= 0 ? Number(argv[at + 1]) : fallback;
  if (!(seconds > 0 && seconds <= 60)) {
    process.stderr.write(`bench-generator: ${flag} must be a number in (0, 60]\n`);
    process.exit(2);
  }
  return seconds;
}

function requireH2load(): void {
  const probe = spawnSync('h2load', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    process.stderr.write('bench-generator: h2load (nghttp2) not found; install it with `apt-get install nghttp2-client`\n');
    process.exit(1);
  }
}

/** Starts `npm run backends` as a child (ephemeral port) and resolves with it and its port once ready. */
async function startBackend(protocol: 'h2' | 'grpc'): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['dist/workloads/backends/main.js', '--protocol', protocol, '--endpoints', '1', '--response-bytes', '16'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the ${protocol} backend exited (${code}) before it was ready`)));
  });
  const ready = JSON.parse(line) as { ports: number[] };
  return { child, port: ready.ports[0]! };
}

function loadOptions(url: string, protocol: Protocol, shape: (typeof SHAPES)[number], seconds: number): LoadOptions {
  return {
    url,
    protocol,
    connections: shape.connections,
    streamsPerConnection: shape.streams,
    durationMs: seconds * 1000,
    warmupMs: WARMUP_MS,
    timeoutMs: 5000,
    method: protocol === 'grpc' ? 'POST' : 'GET',
    bodyBytes: 0,
  };
}

/**
 * One of our clients through the engine (runLoad, in its worker thread), named explicitly (`client`) so a change of
 * default cannot relabel a row; CPU is the process's over the measured window (the main thread only waits).
 */
async function viaRunLoad(client: string, options: LoadOptions): Promise<Row> {
  const rep = await runLoad(options);
  const errors = Object.values(rep.errors).reduce((a, b) => a + b, 0);
  return { client, shape: shapeOf(options), requests: rep.requests, seconds: rep.durationS, cpuS: rep.generatorCpu * rep.durationS, errors };
}

/** The round whose ratio is the median (the lower middle of an even count): its two rows. */
function medianRound(rounds: ReadonlyArray<[Row, Row]>, ratios: readonly number[]): Row[] {
  const order = ratios.map((_, i) => i).sort((a, b) => ratios[a]! - ratios[b]!);
  return [...rounds[order[(order.length - 1) >> 1]!]!];
}

const shapeOf = (o: LoadOptions): string => `${o.connections}x${o.streamsPerConnection}`;
const perCpuSecond = (r: Row): number => (r.cpuS > 0 ? r.requests / r.cpuS : 0);
const best = (rows: Row[]): Row => rows.reduce((a, b) => (perCpuSecond(b) > perCpuSecond(a) ? b : a));

/**
 * A command's CPU, start-up included: it runs under `bash -c 'CMD; times'`. bash waits for it, so the kernel has
 * added its user and system time (every thread's) to bash's RUSAGE_CHILDREN, which `times` prints on its second
 * line. Exact, and needs no polling of /proc while the command is still alive (reading /proc/<pid>/stat "just
 * before exit" would race). Returns the command's stdout without the `times` lines.
 */
async function underTimes(command: string, args: readonly string[]): Promise<{ out: string; cpuS: number }> {
  const child = spawn('bash', ['-c', '"$@"; code=$?; times; exit $code', 'bash', command, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const lines = out.trimEnd().split('\n');
  const times = lines.at(-1)?.match(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/);
  if (code !== 0 || !times) throw new Error(`${command} failed (exit ${code}):\n${out}`);
  return { out: lines.slice(0, -2).join('\n'), cpuS: Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]) };
}

/** h2load, a whole process: its CPU counts its connection setup too. */
async function viaH2load(port: number, shape: (typeof SHAPES)[number], seconds: number): Promise<Row> {
  const { out, cpuS } = await underTimes('h2load', ['-c', String(shape.connections), '-m', String(shape.streams), '-D', String(seconds), `http://127.0.0.1:${port}/`]);
  const summary = parseH2loadSummary(out);
  const finished = /finished in ([\d.]+)s/.exec(out);
  if (!summary || !finished) throw new Error(`h2load printed no summary:\n${out}`);
  // `failed` already holds `errored`, which holds `timeout` (h2load-output.ts).
  const { done, failed } = summary.requests;
  return { client: 'h2load (nghttp2)', shape: `${shape.connections}x${shape.streams}`, requests: done, seconds: Number(finished[1]), cpuS, errors: failed };
}

/**
 * `npm run load` as h2load runs, a whole process (issue 15's measure): node's start-up, the module graph in both
 * threads, the connection, no warm-up, the summary printed at the end. Its requests from its --json record.
 */
async function viaLoadCli(port: number, shape: (typeof SHAPES)[number], seconds: number): Promise<Row> {
  const args = ['dist/harness/cli/load.js', '--url', `http://127.0.0.1:${port}/`, '-p', 'h2', '-c', String(shape.connections), '-m', String(shape.streams)];
  const { out, cpuS } = await underTimes(process.execPath, [...args, '-d', `${seconds}s`, '--warmup', '0s', '--json']);
  const rep = JSON.parse(out) as { requests: number; successes: number; durationS: number };
  return { client: 'sluice (npm run load, whole process)', shape: `${shape.connections}x${shape.streams}`, requests: rep.requests, seconds: rep.durationS, cpuS, errors: rep.requests - rep.successes };
}

interface PacingRow {
  rate: number;
  sentRps: number;
  lagP50Ms: number;
  lagP99Ms: number;
  maxLagMs: number;
  pacerCpu: number;
  generatorCpu: number;
  behind: boolean;
  p50Ms: number;
  uncorrectedP50Ms: number;
}

/** Open loop at `rate` on 4 connections: how punctual the sends were, and what the punctuality cost. */
async function pacing(port: number, rate: number, seconds: number): Promise<PacingRow> {
  const rep = await runLoad({ ...loadOptions(`http://127.0.0.1:${port}/`, 'h2', { connections: 4, streams: 1 }, seconds), rate, client: 'wire' });
  const o = rep.openLoop!;
  return {
    rate,
    sentRps: o.sentRps,
    lagP50Ms: o.lagP50Ms ?? 0,
    lagP99Ms: o.lagP99Ms ?? 0,
    maxLagMs: o.maxLagMs,
    pacerCpu: o.pacerCpu ?? 0,
    generatorCpu: rep.generatorCpu,
    behind: o.behind,
    p50Ms: rep.latencyMs.p50,
    uncorrectedP50Ms: rep.uncorrectedLatencyMs?.p50 ?? 0,
  };
}

function pacingTable(rows: PacingRow[]): string {
  return [
    '| target rps | sent rps | lag p50 ms | lag p99 ms | lag max ms | pacer CPU | generator CPU | P50 ms (corrected) | P50 ms (uncorrected) | behind |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (r) =>
        `| ${r.rate} | ${r.sentRps.toFixed(0)} | ${r.lagP50Ms.toFixed(3)} | ${r.lagP99Ms.toFixed(3)} | ${r.maxLagMs.toFixed(2)} | ` +
        `${r.pacerCpu.toFixed(2)} | ${r.generatorCpu.toFixed(2)} | ${r.p50Ms.toFixed(3)} | ${r.uncorrectedP50Ms.toFixed(3)} | ${r.behind ? 'yes' : 'no'} |`,
    ),
  ].join('\n');
}

/** A Markdown table; `baseline` names the client every other is compared with, shape by shape. */
function table(rows: Row[], baseline: string): string {
  const lines = [
    `| client | c x m | requests | RPS | errors | CPU s | requests / CPU-s | µs CPU / request | vs ${baseline} |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const base = rows.find((b) => b.client === baseline && b.shape === r.shape);
    const ratio = base && perCpuSecond(base) > 0 ? (perCpuSecond(r) / perCpuSecond(base)).toFixed(2) : '-';
    const usPerRequest = r.requests > 0 ? ((r.cpuS * 1e6) / r.requests).toFixed(1) : '-';
    lines.push(
      `| ${r.client} | ${r.shape} | ${r.requests} | ${(r.requests / r.seconds).toFixed(0)} | ${r.errors} | ${r.cpuS.toFixed(2)} | ` +
        `${perCpuSecond(r).toFixed(0)} | ${usPerRequest} | ${ratio} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const seconds = parseSeconds(process.argv.slice(2), '--seconds', 3);
  const wholeSeconds = parseSeconds(process.argv.slice(2), '--whole-seconds', 30);
  requireH2load();
  const children: ChildProcess[] = [];
  const stopAll = (): void => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  };
  // Stopped on Ctrl-C, on a SIGTERM (`timeout`, a CI runner) and on any exit (an uncaught error, EPIPE on a closed
  // pipe): a backend must never outlive the benchmark (one did, when `timeout` ended a run with only SIGINT handled).
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(signal, () => {
      stopAll();
      process.exit(code);
    });
  }
  process.once('exit', stopAll);
  const progress = (what: string, forS = seconds): boolean => process.stderr.write(`bench-generator: ${what} (${forS}s)\n`);
  try {
    const h2 = await startBackend('h2');
    children.push(h2.child);
    const h2Rows: Row[] = [];
    // The lean generators first, alternating, best of REPEATS each: on a shared machine a neighbour's burst
    // inflates CPU per request, and the best run is the one it disturbed least. node:http2 last, once: its
    // garbage would otherwise weigh on the runs after it.
    for (const shape of SHAPES) {
      const options = loadOptions(`http://127.0.0.1:${h2.port}/`, 'h2', shape, seconds);
      const wire: Row[] = [];
      const onH2: Row[] = [];
      const h2load: Row[] = [];
      for (let rep = 1; rep <= REPEATS; rep++) {
        progress(`h2 ${shapeOf(options)}: wire, run ${rep}/${REPEATS}`);
        wire.push(await viaRunLoad('sluice wire (clients/h2-wire.ts)', { ...options, client: 'wire', wireConnection: 'wire' }));
        // Issue 15: the same client and pool on the h2/ library's connection, the proxy's engine (wireConnection 'h2').
        progress(`h2 ${shapeOf(options)}: wire on h2/connection.ts, run ${rep}/${REPEATS}`);
        onH2.push(await viaRunLoad('sluice wire on h2/connection.ts', { ...options, client: 'wire', wireConnection: 'h2' }));
        progress(`h2 ${shapeOf(options)}: h2load, run ${rep}/${REPEATS}`);
        h2load.push(await viaH2load(h2.port, shape, seconds));
      }
      h2Rows.push(best(wire), best(onH2), best(h2load));
    }
    // Issue 15's measure: whole processes at h2 concurrency 64, start-up included, in alternating rounds; the
    // round with the median ratio is shown (not the best of each: a round's two runs saw the same host).
    const rounds: Array<[Row, Row]> = [];
    for (let round = 1; round <= WHOLE_ROUNDS; round++) {
      progress(`h2 1x64 whole processes: npm run load, round ${round}/${WHOLE_ROUNDS}`, wholeSeconds);
      const ours = await viaLoadCli(h2.port, SHAPES[0]!, wholeSeconds);
      progress(`h2 1x64 whole processes: h2load, round ${round}/${WHOLE_ROUNDS}`, wholeSeconds);
      rounds.push([ours, await viaH2load(h2.port, SHAPES[0]!, wholeSeconds)]);
    }
    const ratios = rounds.map(([ours, theirs]) => perCpuSecond(ours) / perCpuSecond(theirs));
    const wholeRows = medianRound(rounds, ratios);
    for (const shape of SHAPES) {
      const options = loadOptions(`http://127.0.0.1:${h2.port}/`, 'h2', shape, seconds);
      progress(`h2 ${shapeOf(options)}: node:http2`);
      h2Rows.push(await viaRunLoad('sluice node:http2 (clients/h2.ts)', { ...options, client: 'lib' }));
    }
    const pacingRows: PacingRow[] = [];
    for (const rate of PACING_RATES) {
      progress(`h2 open loop at ${rate}/s: pacing`);
      pacingRows.push(await pacing(h2.port, rate, seconds));
    }
    h2.child.kill('SIGTERM');

    const grpc = await startBackend('grpc');
    children.push(grpc.child);
    const grpcRows: Row[] = [];
    for (const shape of SHAPES) {
      const options = loadOptions(`http://127.0.0.1:${grpc.port}/`, 'grpc', shape, seconds);
      progress(`grpc ${shapeOf(options)}: wire`);
      grpcRows.push(await viaRunLoad('sluice wire (clients/grpc-wire.ts)', { ...options, client: 'wire' }));
    }
    for (const shape of SHAPES) {
      const options = loadOptions(`http://127.0.0.1:${grpc.port}/`, 'grpc', shape, seconds);
      progress(`grpc ${shapeOf(options)}: @grpc/grpc-js`);
      grpcRows.push(await viaRunLoad('sluice grpc-js (clients/grpc.ts)', { ...options, client: 'lib' }));
    }
    process.stdout.write(
      `\nHTTP/2, GET / -> 200 with 16 bytes (node:http2 backend in its own process), ${seconds}s each after ${WARMUP_MS} ms ` +
        `warm-up (h2load: none, its CPU counts its connection setup too)\n\n` +
        `${table(h2Rows, 'h2load (nghttp2)')}\n(wire, wire on h2/ and h2load: the better of ${REPEATS} alternating runs)\n\n` +
        `Whole processes, ${wholeSeconds}s, no warm-up: CPU from start to exit, every thread (bash's times), ${WHOLE_ROUNDS} ` +
        `alternating rounds; the median round shown. Against h2load by round: ${ratios.map((r) => r.toFixed(2)).join(', ')}\n\n` +
        `${table(wholeRows, 'h2load (nghttp2)')}\n\n` +
        `Open-loop pacing, sluice wire, 4 connections, ${seconds}s each: send lag = real minus intended send time; pacer CPU = ` +
        `its idle polling per second (part of generator CPU)\n\n${pacingTable(pacingRows)}\n\n` +
        `gRPC, sluice.echo.Echo/Unary -> 16 bytes (@grpc/grpc-js backend in its own process)\n\n` +
        `${table(grpcRows, 'sluice grpc-js (clients/grpc.ts)')}\n`,
    );
  } finally {
    stopAll();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-generator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
