// LoadOptions are checked before anything connects; a bad value is refused with the option's name.
import { SCENARIOS, STAMP_BYTES } from './payload.js';
import { CLIENT_KINDS, onWireFraming, PROTOCOL_NAMES } from './protocols.js';
import type { LoadOptions, Protocol } from './types.js';

export { SCENARIOS } from './payload.js';

/** The protocols' names, from protocols.ts (where each is declared with its clients). */
export const PROTOCOLS: readonly Protocol[] = PROTOCOL_NAMES;
export { CLIENT_KINDS } from './protocols.js';
export const MAX_WINDOW = 2 ** 31 - 1;
/**
 * The generator's receive windows unless told otherwise: large (as h2load's 2^30-1), so that the target's windows,
 * not the generator's, are what a run measures. A real client's smaller window (Node's and grpc-go's 64 KiB) is
 * one flag or axis away.
 */
export const DEFAULT_STREAM_WINDOW = 16 * 1024 * 1024;
export const DEFAULT_CONN_WINDOW = 16 * 1024 * 1024;
/** Far beyond what one process sends; a bound keeps the schedule's arithmetic and its catch-up loops finite. */
const MAX_RATE = 10_000_000;
/** The backends refuse larger streams (workloads/backends/payload.ts); far more than a timeout lets through. */
export const MAX_STREAM_MESSAGES = 1_000_000;
export const RECEIVERS: readonly NonNullable<LoadOptions['receiver']>[] = ['eager', 'strict'];
export const GENERATORS: readonly NonNullable<LoadOptions['generator']>[] = ['sluice', 'h2load'];
export const ATTACKS: readonly NonNullable<LoadOptions['attack']>[] = ['rapid-reset'];
/** Stalled streams per connection: every stream a connection can open (its ids run out at 2^31-1). */
export const MAX_STALL_STREAMS = 2 ** 31 - 1;
/** A trace's buckets for the window and its longest drain: a bound that keeps a mistyped bucketMs from eating memory. */
export const MAX_TRACE_BUCKETS = 1_000_000;

export class LoadOptionsError extends Error {
  constructor(
    readonly option: keyof LoadOptions,
    readonly value: unknown,
    expected: string,
  ) {
    super(`load option ${option}: ${JSON.stringify(value)} is not ${expected}`);
    this.name = 'LoadOptionsError';
  }
}

function integer(options: LoadOptions, key: keyof LoadOptions, min: number, max = Number.MAX_SAFE_INTEGER): void {
  const value = options[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new LoadOptionsError(key, value, `an integer in ${min}..${max}`);
  }
}

export function validateLoadOptions(options: LoadOptions): void {
  let url: URL | undefined;
  try {
    url = new URL(options.url);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new LoadOptionsError('url', options.url, 'an http:// or https:// URL');
  }
  if (!PROTOCOLS.includes(options.protocol)) throw new LoadOptionsError('protocol', options.protocol, PROTOCOLS.join(' | '));
  integer(options, 'connections', 1);
  integer(options, 'streamsPerConnection', 1);
  if (!(options.durationMs > 0) || !Number.isFinite(options.durationMs)) {
    throw new LoadOptionsError('durationMs', options.durationMs, 'a positive number of milliseconds');
  }
  if (!(options.warmupMs >= 0) || !Number.isFinite(options.warmupMs)) {
    throw new LoadOptionsError('warmupMs', options.warmupMs, 'zero or more milliseconds');
  }
  if (!(options.timeoutMs > 0) || !Number.isFinite(options.timeoutMs)) {
    throw new LoadOptionsError('timeoutMs', options.timeoutMs, 'a positive number of milliseconds');
  }
  if (typeof options.method !== 'string' || !/^[A-Z]+$/.test(options.method)) {
    throw new LoadOptionsError('method', options.method, 'an upper-case HTTP method');
  }
  integer(options, 'bodyBytes', 0);
  if (options.h2StreamWindow !== undefined) integer(options, 'h2StreamWindow', 0, MAX_WINDOW);
  if (options.h2ConnWindow !== undefined) integer(options, 'h2ConnWindow', 0, MAX_WINDOW);
  if (options.responseBytes !== undefined) integer(options, 'responseBytes', 0, 2 ** 32 - 1);
  if (options.rate !== undefined && !(options.rate > 0 && options.rate <= MAX_RATE)) {
    throw new LoadOptionsError('rate', options.rate, `a number of requests per second in (0, ${MAX_RATE}]`);
  }
  // Each worker needs a connection of its own.
  if (options.workers !== undefined) integer(options, 'workers', 1, options.connections);
  if (options.receiver !== undefined && !RECEIVERS.includes(options.receiver)) {
    throw new LoadOptionsError('receiver', options.receiver, RECEIVERS.join(' | '));
  }
  if (options.stallStreams !== undefined) integer(options, 'stallStreams', 0, MAX_STALL_STREAMS);
  if (options.client !== undefined && !CLIENT_KINDS.includes(options.client)) {
    throw new LoadOptionsError('client', options.client, CLIENT_KINDS.join(' | '));
  }
  const wire = onWireFraming(options);
  if (!wire && (options.receiver === 'strict' || (options.stallStreams ?? 0) > 0)) {
    throw new LoadOptionsError('receiver', options.receiver ?? 'stallStreams', 'strict receivers and stalled streams need the wire client (h2 or gRPC, client wire)');
  }
  if (wire && options.url.startsWith('https:')) {
    throw new LoadOptionsError('url', options.url, 'http:// (the wire client speaks h2c only; use client lib for TLS)');
  }
  if (options.generator !== undefined && !GENERATORS.includes(options.generator)) {
    throw new LoadOptionsError('generator', options.generator, GENERATORS.join(' | '));
  }
  validateScenario(options, wire);
  validateTrace(options);
  validateAttack(options, wire);
  validateWireConnection(options, wire);
}

export const WIRE_CONNECTIONS: readonly NonNullable<LoadOptions['wireConnection']>[] = ['h2', 'wire'];

function validateWireConnection(options: LoadOptions, wire: boolean): void {
  const { wireConnection } = options;
  if (wireConnection === undefined) return; // h2 on the wire client; nothing for the others
  if (!WIRE_CONNECTIONS.includes(wireConnection)) throw new LoadOptionsError('wireConnection', wireConnection, WIRE_CONNECTIONS.join(' | '));
  // Both connections have every mode; either needs the wire client.
  if (!wire || options.generator === 'h2load') {
    throw new LoadOptionsError('wireConnection', wireConnection, 'possible here: the wire client only (h2 or gRPC, client wire)');
  }
}

function validateTrace(options: LoadOptions): void {
  const { trace } = options;
  if (trace === undefined) return;
  const bucketMs: unknown = typeof trace === 'object' && trace !== null ? trace.bucketMs : undefined;
  if (typeof bucketMs !== 'number' || !Number.isInteger(bucketMs) || bucketMs < 1) {
    throw new LoadOptionsError('trace', trace, '{bucketMs} with bucketMs a whole number of milliseconds, at least 1');
  }
  if ((options.durationMs + options.timeoutMs) / bucketMs > MAX_TRACE_BUCKETS) {
    throw new LoadOptionsError('trace', trace, `at most ${MAX_TRACE_BUCKETS} buckets over the window and its drain (durationMs + timeoutMs): use a larger bucketMs`);
  }
  // h2load's log has each request's start and duration, but no error class or endpoint: not a trace.
  if (options.generator === 'h2load') {
    throw new LoadOptionsError('generator', options.generator, 'possible with trace (h2load cannot say which endpoint answered or why a request failed): use generator sluice');
  }
}

function validateAttack(options: LoadOptions, wire: boolean): void {
  const { attack } = options;
  if (attack === undefined) return;
  if (!ATTACKS.includes(attack)) throw new LoadOptionsError('attack', attack, ATTACKS.join(' | '));
  // Only our framing client writes HEADERS and RST_STREAM itself, in one write.
  if (!wire || options.generator === 'h2load') {
    throw new LoadOptionsError('attack', attack, 'possible here: rapid-reset needs h2 or gRPC on the wire client (not h1, not client lib, not generator h2load)');
  }
  if ((options.stallStreams ?? 0) > 0) {
    throw new LoadOptionsError('attack', attack, 'possible with stallStreams (a reset stream reads nothing anyway): drop one of them');
  }
}

function validateScenario(options: LoadOptions, wire: boolean): void {
  if (options.scenario !== undefined && !SCENARIOS.includes(options.scenario)) {
    throw new LoadOptionsError('scenario', options.scenario, SCENARIOS.join(' | '));
  }
  if (options.streamMessages !== undefined) integer(options, 'streamMessages', 1, MAX_STREAM_MESSAGES);
  if (options.scenario !== 'server-streaming') return;
  // Each message carries its 8-byte stamp.
  if (options.responseBytes !== undefined && options.responseBytes < STAMP_BYTES) {
    throw new LoadOptionsError('responseBytes', options.responseBytes, `at least ${STAMP_BYTES} with scenario server-streaming (each message starts with its 8-byte stamp)`);
  }
  // Only the wire clients read response bodies; node:http2, grpc-js, undici and h2load only count them.
  if (!wire) {
    throw new LoadOptionsError('scenario', options.scenario, 'possible here: server-streaming needs h2 or gRPC on the wire client (not h1, not client lib)');
  }
  if (options.generator === 'h2load') {
    throw new LoadOptionsError('generator', options.generator, 'possible with scenario server-streaming (h2load cannot read the messages): use generator sluice');
  }
}
