// `npm run load -- --url URL [flags]`: the generator alone against any target, one measured run, printed as a
// human summary or (--json) exactly the RepResult. Progress goes to stderr, and only when stderr is a TTY.
import { parseArgs } from 'node:util';
import { formatDuration, parseDuration } from '../../common/duration.js';
import { H2loadNotFoundError, H2loadUnsupportedError } from '../load/external/h2load.js';
import { generate, type LoadTick } from '../load/generate.js';
import { LoadAbortedError } from '../load/run-load.js';
import {
  ATTACKS,
  CLIENT_KINDS,
  GENERATORS,
  LoadOptionsError,
  MAX_STALL_STREAMS,
  MAX_STREAM_MESSAGES,
  MAX_WINDOW,
  PROTOCOLS,
  RECEIVERS,
  WIRE_CONNECTIONS,
  SCENARIOS,
  validateLoadOptions,
} from '../load/options.js';
import { streamMessages } from '../load/payload.js';
import { PROTOCOL_ENTRIES, PROTOCOL_NAMES } from '../load/protocols.js';
import type { LoadOptions, RepResult } from '../load/types.js';
import { fmtInt } from '../output/format-number.js';
import { formatLoadSummary } from '../output/load-summary.js';
import { CliError, runMain } from './cli-error.js';

const HELP = `Usage: npm run load -- --url http://HOST:PORT/PATH [options]

Sends load to one target (no proxy or backends are started), then prints one measured run: RPS, latency
percentiles and histogram, errors by class, RST_STREAM and GOAWAY by code, streamed messages and the first
calls of each connection when measured, the trace and the attack when asked for. --json prints the RepResult
that results.json stores per repetition.

Options:
  --url URL                target, http:// (a URL may also be given as the only positional argument)
  -p, --protocol P         ${PROTOCOL_NAMES.join(' | ')} (default h2: h2c prior knowledge; grpc calls sluice.echo.Echo/Unary)
  -c, --connections N      TCP connections (default 1)
  -m, --streams N          concurrent requests per connection: h2/gRPC streams (default 1; h1 uses 1)
  -d, --duration D         measured time (default 10s; 500ms, 10s, 2m)
      --warmup D           load sent before measuring, not recorded (default 1s)
      --rate R             open loop: R requests/s in total, latency from each intended send time;
                           without it, closed loop (connections x streams always in flight)
      --workers N          worker threads, connections split among them (default 1)
      --timeout D          a request not answered in D is cancelled and counted as timeout (default 5s)
      --method M           request method (default GET, or POST with --body-bytes)
      --body-bytes N       request body size (default 0)
      --response-bytes N   the response size asked of sluice's backends (server-streaming: each message's):
                           h1/h2 send x-sluice-response-bytes: N, gRPC EchoRequest.response_bytes
                           (default: the backend's own --response-bytes)
      --scenario S         unary (default) | large-body (the same exchange, named for big --body-bytes and
                           --response-bytes) | server-streaming (h2 and gRPC on the wire client: one request,
                           a stream of stamped messages from sluice's backends; each message's latency is
                           measured from the backend's stamp to its arrival)
      --stream-messages N  server-streaming: messages per stream (default 10)
      --receiver R         h2: eager (default) returns window credit as data arrives; strict as it is read
      --stall-streams K    h2: the first K streams of each connection never read their responses (seed 000's
                           stalled stream); up to 2147483647: every stream stalls, a reader that never reads
      --stream-window N    h2: the stream receive window the generator announces (default 16777216, as large
                           as h2load's, so the target's windows bind; 65535 is a browser's or Node's)
      --conn-window N      h2: the generator's connection receive window (default 16777216)
      --trace-ms N         record outcomes by the time they arrived, in buckets of N ms from the window's
                           opening to the end of the drain: successes by x-sluice-endpoint, errors by class,
                           the largest latency (--json: trace.buckets; the summary: where errors began and ended)
      --attack rapid-reset h2/gRPC (wire client): each request is HEADERS then RST_STREAM(CANCEL) in one write
                           (CVE-2023-44487), done once written; closed loop as fast as it can, --rate at R.
                           The record counts streams, the target's GOAWAYs, closed connections, reconnects
      --generator G        sluice (default) | h2load: nghttp2's h2load, h2 only, parsed into the same record
      --client K           wire (default: sluice's HTTP/2 framing client for h2/gRPC, undici for h1)
                           | lib (the cross-check: node:http2, @grpc/grpc-js, autocannon for h1 closed loop)
      --wire-connection C  h2/gRPC on the wire client: h2 (default: the h2/ library, the proxy's engine)
                           | wire (harness/load/wire/connection.ts, the generator's first framing, the reference)
      --json               print the RepResult as JSON on stdout, nothing else
  -h, --help               this text

Exit codes: 0 measured, 1 nothing completed (no request, no attack stream) or the generator failed, 2 bad
input (the message names the flag), 130 interrupted (Ctrl-C; a second Ctrl-C forces the exit).`;

/** The flag behind each LoadOption, so an error from the generator names what the user typed. */
const FLAG: Partial<Record<keyof LoadOptions, string>> = {
  url: '--url',
  protocol: '-p/--protocol',
  connections: '-c/--connections',
  streamsPerConnection: '-m/--streams',
  durationMs: '-d/--duration',
  warmupMs: '--warmup',
  timeoutMs: '--timeout',
  method: '--method',
  bodyBytes: '--body-bytes',
  responseBytes: '--response-bytes',
  scenario: '--scenario',
  streamMessages: '--stream-messages',
  h2StreamWindow: '--stream-window',
  h2ConnWindow: '--conn-window',
  rate: '--rate',
  workers: '--workers',
  receiver: '--receiver',
  stallStreams: '--stall-streams',
  generator: '--generator',
  client: '--client',
  wireConnection: '--wire-connection',
  trace: '--trace-ms',
  attack: '--attack',
};

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      url: { type: 'string' },
      protocol: { type: 'string', short: 'p', default: 'h2' },
      connections: { type: 'string', short: 'c', default: '1' },
      streams: { type: 'string', short: 'm', default: '1' },
      duration: { type: 'string', short: 'd', default: '10s' },
      warmup: { type: 'string', default: '1s' },
      rate: { type: 'string' },
      workers: { type: 'string' },
      timeout: { type: 'string', default: '5s' },
      method: { type: 'string' },
      'body-bytes': { type: 'string', default: '0' },
      'response-bytes': { type: 'string' },
      scenario: { type: 'string' },
      'stream-messages': { type: 'string' },
      receiver: { type: 'string' },
      'stall-streams': { type: 'string' },
      'stream-window': { type: 'string' },
      'conn-window': { type: 'string' },
      generator: { type: 'string', default: 'sluice' },
      client: { type: 'string' },
      'wire-connection': { type: 'string' },
      'trace-ms': { type: 'string' },
      attack: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const options = toLoadOptions(values, positionals);
  try {
    validateLoadOptions(options);
  } catch (err) {
    throw asCliError(err);
  }

  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\nsluice load: stopping after Ctrl-C (again to force)...\n');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal); // a closed terminal: the children lead their own process groups
  const progress = progressLine(process.stderr);
  let result: RepResult;
  try {
    // Nothing else runs in this process: one worker's load runs in this thread (generate.ts says why).
    result = await generate(options, progress.tick, abort.signal, 'this-thread');
  } catch (err) {
    progress.clear();
    if (abort.signal.aborted || err instanceof LoadAbortedError) {
      process.stderr.write('sluice load: interrupted; the run was cut short, nothing measured is printed\n');
      return 130;
    }
    if (err instanceof H2loadNotFoundError) {
      process.stderr.write(`sluice load: ${err.message}\n`);
      return 1;
    }
    throw asCliError(err);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
  progress.clear();
  process.stdout.write(values.json ? JSON.stringify(result, null, 2) + '\n' : formatLoadSummary(result, { title: title(options) }));
  // An attacker's streams are no requests: a run that sent them did what it was asked.
  return result.requests > 0 || (result.attack?.streams ?? 0) > 0 ? 0 : 1;
}

type Values = Record<string, string | boolean | undefined>;

function toLoadOptions(values: Values, positionals: string[]): LoadOptions {
  const str = (name: string): string | undefined => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  if (positionals.length > 1 || (positionals.length === 1 && str('url'))) {
    throw new CliError(`--url: one target only; unexpected ${positionals.join(' ')}`);
  }
  const url = str('url') ?? positionals[0];
  if (!url) throw new CliError('--url: a target is required, e.g. --url http://127.0.0.1:8080/');
  const protocol = oneOf(str('protocol')!, PROTOCOLS, '-p/--protocol');
  const generator = oneOf(str('generator')!, GENERATORS, '--generator');
  const bodyBytes = integer(str('body-bytes')!, '--body-bytes', 0);
  const durationMs = parseDuration(str('duration')!, '-d/--duration');
  if (!(durationMs > 0)) throw new CliError(`-d/--duration ${str('duration')}: expected more than 0`);
  const timeoutMs = parseDuration(str('timeout')!, '--timeout');
  if (!(timeoutMs > 0)) throw new CliError(`--timeout ${str('timeout')}: expected more than 0`);
  const options: LoadOptions = {
    url,
    protocol,
    connections: integer(str('connections')!, '-c/--connections', 1),
    streamsPerConnection: integer(str('streams')!, '-m/--streams', 1),
    durationMs,
    warmupMs: parseDuration(str('warmup')!, '--warmup'),
    timeoutMs,
    method: (str('method') ?? (bodyBytes > 0 ? 'POST' : 'GET')).toUpperCase(),
    bodyBytes,
    generator,
  };
  const responseBytes = str('response-bytes');
  if (responseBytes !== undefined) options.responseBytes = integer(responseBytes, '--response-bytes', 0, 2 ** 32 - 1);
  const scenario = str('scenario');
  if (scenario !== undefined) options.scenario = oneOf(scenario, SCENARIOS, '--scenario');
  const messages = str('stream-messages');
  if (messages !== undefined) {
    if (options.scenario !== 'server-streaming') throw new CliError('--stream-messages applies to --scenario server-streaming only');
    options.streamMessages = integer(messages, '--stream-messages', 1, MAX_STREAM_MESSAGES);
  }
  const rate = str('rate');
  if (rate !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(rate) || !(Number(rate) > 0)) throw new CliError(`--rate ${rate}: expected a positive number of requests per second`);
    options.rate = Number(rate);
  }
  const client = str('client');
  if (client !== undefined) {
    options.client = oneOf(client, CLIENT_KINDS, '--client');
    if (protocol === 'h1' && options.client === 'lib' && options.rate !== undefined) {
      throw new CliError('--client lib with -p h1 is autocannon, which cannot send on a schedule: drop --rate or --client lib');
    }
  }
  const wireConnection = str('wire-connection');
  if (wireConnection !== undefined) options.wireConnection = oneOf(wireConnection, WIRE_CONNECTIONS, '--wire-connection');
  const workers = str('workers');
  if (workers !== undefined) options.workers = integer(workers, '--workers', 1);
  const h2Only = (flag: string): void => {
    if (protocol !== 'h2') throw new CliError(`${flag} applies to -p h2 only (got -p ${protocol})`);
  };
  const receiver = str('receiver');
  if (receiver !== undefined) {
    h2Only('--receiver');
    options.receiver = oneOf(receiver, RECEIVERS, '--receiver');
  }
  const stall = str('stall-streams');
  if (stall !== undefined) {
    h2Only('--stall-streams');
    options.stallStreams = integer(stall, '--stall-streams', 0, MAX_STALL_STREAMS);
  }
  const streamWindow = str('stream-window');
  if (streamWindow !== undefined) {
    h2Only('--stream-window');
    options.h2StreamWindow = integer(streamWindow, '--stream-window', 0, MAX_WINDOW);
  }
  const traceMs = str('trace-ms');
  if (traceMs !== undefined) options.trace = { bucketMs: integer(traceMs, '--trace-ms', 1) };
  const attack = str('attack');
  if (attack !== undefined) options.attack = oneOf(attack, ATTACKS, '--attack');
  const connWindow = str('conn-window');
  if (connWindow !== undefined) {
    h2Only('--conn-window');
    options.h2ConnWindow = integer(connWindow, '--conn-window', 65_535, MAX_WINDOW);
  }
  return options;
}

function integer(raw: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw new CliError(`${flag} ${raw}: expected a whole number ${max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `in ${min}..${max}`}`);
  }
  return n;
}

function oneOf<T extends string>(raw: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(raw)) throw new CliError(`${flag} ${raw}: expected ${allowed.join(' | ')}`);
  return raw as T;
}

/** Errors from the generator about an option become usage errors naming its flag. */
function asCliError(err: unknown): unknown {
  if (err instanceof LoadOptionsError || err instanceof H2loadUnsupportedError) {
    const flag = FLAG[err.option] ?? err.option;
    return new CliError(`${flag}: ${err.message}`);
  }
  return err;
}

function title(o: LoadOptions): string {
  const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
  const connections = plural(o.connections, 'connection');
  const shape = !PROTOCOL_ENTRIES[o.protocol].multiplexed ? connections : `${connections} x ${plural(o.streamsPerConnection, 'stream')}`;
  const loop = (o.attack ? `${o.attack} attacker, ` : '') + (o.rate !== undefined ? `open loop at ${fmtInt(o.rate)} rps` : 'closed loop');
  const scenario =
    o.scenario === 'server-streaming'
      ? `server-streaming ${streamMessages(o)} messages${o.responseBytes !== undefined ? ` of ${fmtInt(o.responseBytes)} bytes` : ''}, `
      : o.scenario === 'large-body'
        ? 'large-body, '
        : '';
  return (
    `sluice load: ${o.method} ${o.url} (${o.protocol}), ${scenario}${shape}, ${loop}, ` +
    `${formatDuration(o.durationMs)} measured after ${formatDuration(o.warmupMs)} warm-up, generator ${o.generator ?? 'sluice'}`
  );
}

/** One redrawn status line on a TTY; nothing elsewhere (a pipe or a CI log gets only the result). */
function progressLine(stream: NodeJS.WriteStream): { tick: (t: LoadTick) => void; clear: () => void } {
  if (stream.isTTY !== true) return { tick: () => undefined, clear: () => undefined };
  let drawn = false;
  return {
    tick: (t) => {
      drawn = true;
      stream.write(`\r\x1b[2K${t.phase === 'warmup' ? 'warm-up' : 'measuring'} ${t.elapsedS.toFixed(0)}s  ${fmtInt(t.requests)} req  ${fmtInt(t.errors)} err`);
    },
    clear: () => {
      if (drawn) stream.write('\r\x1b[2K');
      drawn = false;
    },
  };
}

runMain('load', main, ['DurationError']);
