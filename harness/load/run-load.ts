// One load run: warm-up, then the measured window, as one RepResult. The engine only calls back (onTick);
// it never prints. The load runs in `workers` worker threads (default 1), so the caller's thread (the
// orchestrator's, with its progress display and Ctrl-C) stays free and never slows the generator down.
// Every thread, connection, timer and WASM histogram it makes is gone when it returns.
import type { ClientFactory } from './clients/client.js';
import { validateLoadOptions, LoadOptionsError } from './options.js';
import type { LoopTick } from './sequencer/closed-loop.js';
import type { LoadOptions, Protocol, RepResult } from './types.js';
import { mergeShares } from './worker/merge.js';
import { runInWorkers } from './worker/pool.js';
import { runShare, type ShareResult } from './worker/share.js';
import { splitLoad } from './worker/split.js';

/**
 * A protocol is one client file plus one line here. Modules load on demand, so a worker thread loads only
 * its own protocol's (autocannon and grpc-js take a quarter of a second each).
 */
const CLIENTS: Record<Protocol, (options: LoadOptions) => Promise<ClientFactory>> = {
  // autocannon cannot send on a schedule nor time from the intended send: the open loop uses node:http.
  h1: async (o) => (o.rate === undefined ? (await import('./clients/h1.js')).createH1Client : (await import('./clients/h1-open.js')).createH1OpenClient),
  // h2 and gRPC default to our framing client: ~25x less CPU per request than node:http2 / grpc-js, and the only
  // one that can hold connection credit back (receiver: strict). `client: 'lib'` keeps the libraries as a cross-check.
  h2: async (o) => (o.client === 'lib' ? (await import('./clients/h2.js')).createH2Client : (await import('./clients/h2-wire.js')).createH2WireClient),
  grpc: async (o) =>
    o.client === 'lib' ? (await import('./clients/grpc.js')).createGrpcClient : (await import('./clients/grpc-wire.js')).createGrpcWireClient,
};

/** The client factory for these options (protocol, and closed or open loop). */
export function loadClientFactory(options: LoadOptions): Promise<ClientFactory> {
  return CLIENTS[options.protocol](options);
}

/** A progress tick: the loops' own (requests and errors settled so far in the phase), summed over all workers. */
export type LoadTick = LoopTick;

export class LoadAbortedError extends Error {
  constructor() {
    super('load run aborted');
    this.name = 'AbortError';
  }
}

/**
 * Runs warm-up then measurement against options.url and returns the measured repetition.
 * `requests` counts every request whose outcome (success or error) was recorded inside the measured window;
 * the latency histogram holds the successes only; rps = requests / measured seconds.
 * With `workers` > 1 the connections (and the rate) are split among the threads and their histograms merged.
 * Aborting `signal` ends the run early, closes everything and rejects with LoadAbortedError.
 */
export async function runLoad(options: LoadOptions, onTick?: (tick: LoadTick) => void, signal?: AbortSignal): Promise<RepResult> {
  validateLoadOptions(options);
  const shares = await runInWorkers(splitLoad(options, options.workers ?? 1), onTick, signal);
  return finish(options, shares, signal);
}

/**
 * The same run in the calling thread, without a worker (`workers` must be 1): what a worker thread runs. For
 * callers that need the generator's sockets in their own thread (tests watching node's diagnostics channels),
 * or a process that has no other work on its main thread.
 */
export async function runLoadInThread(options: LoadOptions, onTick?: (tick: LoadTick) => void, signal?: AbortSignal): Promise<RepResult> {
  validateLoadOptions(options);
  if ((options.workers ?? 1) !== 1) throw new LoadOptionsError('workers', options.workers, '1 when run in the calling thread');
  const [share] = splitLoad(options, 1);
  const result = await runShare(share!, await loadClientFactory(options), { onTick, signal });
  return finish(options, [result], signal);
}

function finish(options: LoadOptions, shares: ShareResult[], signal: AbortSignal | undefined): Promise<RepResult> {
  if (signal?.aborted && shares.some((s) => s.timing.aborted)) throw new LoadAbortedError();
  return mergeShares(options, shares);
}
