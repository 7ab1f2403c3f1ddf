// LoadOptions -> h2load's command line (nghttp2 1.52). What h2load cannot do is refused here, naming the
// option, rather than run as something else; what it does differently is returned as a note for the record.
import { payloadHeaders } from '../payload.js';
import type { LoadOptions } from '../types.js';
import { DEFAULT_CONN_WINDOW, DEFAULT_STREAM_WINDOW } from '../options.js';

/** A LoadOption h2load cannot honour. The message names the option and says what to use instead. */
export class H2loadUnsupportedError extends Error {
  constructor(
    readonly option: keyof LoadOptions,
    message: string,
  ) {
    super(`--generator h2load: ${message}`);
    this.name = 'H2loadUnsupportedError';
  }
}

// The generator's default windows (options.ts) are h2load's too unless told otherwise; h2load's are 2^N-1 bytes,
// so 16 MiB is sent as 16 MiB - 1.
/** h2load's -w / -W take N for a window of 2^N-1, N in 0..30. */
const MAX_WINDOW_BITS = 30;

export interface H2loadPlan {
  args: string[];
  /** h2load -t: native threads, each with its own event loop (connections are spread over them). */
  threads: number;
  /** --rps: h2load's rate is per client (connection). */
  perClientRps?: number;
  notes: string[];
}

export interface H2loadFiles {
  logFile: string;
  /** The request body (bodyBytes bytes), when there is one. */
  bodyFile?: string;
}

/** Throws H2loadUnsupportedError for an option h2load cannot honour, before anything is started. */
export function checkH2loadOptions(options: LoadOptions): void {
  h2loadPlan(options, { logFile: 'check', bodyFile: 'check' });
}

/** Builds the argument list; throws H2loadUnsupportedError for an option h2load cannot honour. */
export function h2loadPlan(options: LoadOptions, files: H2loadFiles): H2loadPlan {
  refuseUnsupported(options);
  const notes: string[] = [];
  const threads = options.workers ?? 1;
  const stream = windowBits(options.h2StreamWindow ?? DEFAULT_STREAM_WINDOW, 'h2StreamWindow', options.h2StreamWindow !== undefined, notes);
  const conn = windowBits(options.h2ConnWindow ?? DEFAULT_CONN_WINDOW, 'h2ConnWindow', options.h2ConnWindow !== undefined, notes);
  const args = [
    '-c', String(options.connections),
    '-m', String(options.streamsPerConnection),
    '-t', String(threads),
    '-D', `${Math.max(1, Math.round(options.durationMs))}ms`,
    '--warm-up-time', `${Math.round(options.warmupMs)}ms`,
    '-w', String(stream),
    '-W', String(conn),
    '--log-file', files.logFile,
  ];
  let perClientRps: number | undefined;
  if (options.rate !== undefined) {
    perClientRps = options.rate / options.connections;
    args.push(`--rps=${perClientRps}`);
    notes.push(
      `open loop by h2load --rps (${fmt(perClientRps)} per connection): h2load sends a request late when all its streams are busy, ` +
        'and measures latency from the real send, not the intended one (coordinated omission is not corrected); ' +
        'openLoop lag is estimated from the log against an evenly spaced schedule',
    );
  }
  if (options.bodyBytes > 0) {
    if (!files.bodyFile) throw new Error('h2loadPlan: bodyBytes > 0 needs a body file');
    args.push('-d', files.bodyFile);
  }
  // -d makes h2load send POST; any other method is set by overriding the :method pseudo-header.
  const implied = options.bodyBytes > 0 ? 'POST' : 'GET';
  if (options.method !== implied) args.push('-H', `:method: ${options.method}`);
  for (const [name, value] of payloadHeaders(options)) args.push('-H', `${name}: ${value}`);
  notes.push(
    `no per-request timeout (${options.timeoutMs} ms asked): h2load 1.52 has none (its -N inactivity timeout aborts it at the end of a -D run), ` +
      'so a request that never completes holds its stream to the end and is not counted',
  );
  args.push(options.url);
  return { args, threads, ...(perClientRps !== undefined ? { perClientRps } : {}), notes };
}

function refuseUnsupported(options: LoadOptions): void {
  if (options.protocol !== 'h2') {
    throw new H2loadUnsupportedError(
      'protocol',
      `protocol ${options.protocol} is not supported: h2load is used for h2 (h2c prior knowledge) only; use -p h2, or --generator sluice for ${options.protocol}`,
    );
  }
  if (new URL(options.url).protocol !== 'http:') {
    throw new H2loadUnsupportedError('url', `${options.url}: h2load is used for h2c prior knowledge (an http:// URL) only`);
  }
  if (options.receiver === 'strict') {
    throw new H2loadUnsupportedError(
      'receiver',
      'receiver strict is not supported: nghttp2 in h2load returns flow-control credit as data arrives (eager); use --generator sluice',
    );
  }
  if (options.scenario === 'server-streaming') {
    throw new H2loadUnsupportedError('scenario', 'scenario server-streaming is not supported: h2load counts response bodies, it cannot read their messages; use --generator sluice');
  }
  if ((options.stallStreams ?? 0) > 0) {
    throw new H2loadUnsupportedError('stallStreams', 'stalled streams are not supported: h2load reads every response; use --generator sluice');
  }
  const threads = options.workers ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > options.connections) {
    throw new H2loadUnsupportedError('workers', `workers ${threads}: h2load needs 1 .. connections (${options.connections}) threads`);
  }
  if (options.rate !== undefined && !(options.rate > 0 && Number.isFinite(options.rate))) {
    throw new H2loadUnsupportedError('rate', `rate ${options.rate}: expected a positive number of requests per second`);
  }
}

/** N for h2load's 2^N-1 window. A power of two is sent one byte smaller; anything else is refused. */
function windowBits(value: number, option: 'h2StreamWindow' | 'h2ConnWindow', explicit: boolean, notes: string[]): number {
  const exact = Math.log2(value + 1);
  if (Number.isInteger(exact) && exact <= MAX_WINDOW_BITS) return exact;
  const lower = Math.log2(value);
  if (Number.isInteger(lower) && lower <= MAX_WINDOW_BITS) {
    if (explicit) notes.push(`${option} ${value} sent as ${2 ** lower - 1}: h2load sets windows of 2^N-1 bytes`);
    return lower;
  }
  throw new H2loadUnsupportedError(
    option,
    `${option} ${value}: h2load sets windows of 2^N-1 bytes (N 0..30), e.g. 65535, 1048575; ${value} is not one`,
  );
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(3);
}
