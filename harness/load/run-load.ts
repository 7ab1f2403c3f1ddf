// Load runs. A session opens the generator's connections once (in `workers` worker threads, default 1) and
// then runs any number of times on them: the orchestrator's warm-up and every repetition of a cell share the
// same warm connections, and none pays a cold start inside its window. runLoad is a session of one run. The
// engine only calls back (onTick, onPhase); it never prints. The caller's thread (the orchestrator's, with
// its progress display and Ctrl-C) stays free and never slows the generator down. Every thread, connection,
// timer and WASM histogram a session makes is gone when it is closed.
import type { ClientFactory } from './clients/client.js';
import { loadClient } from './clients/registry.js';
import { validateLoadOptions, LoadOptionsError } from './options.js';
import type { LoopTick } from './sequencer/closed-loop.js';
import type { LiveDelta } from './statistic/live.js';
import type { LoadOptions, RepResult } from './types.js';
import { mergeSetups, mergeShares } from './worker/merge.js';
import { WorkerSession } from './worker/pool.js';
import { ShareSession, type RunPlan, type SessionSetup, type ShareHooks, type ShareResult } from './worker/share.js';
import { splitLoad } from './worker/split.js';

/** The client factory for these options (protocol, and client kind). */
export function loadClientFactory(options: LoadOptions): Promise<ClientFactory> {
  // Each client is a dynamic import (clients/registry.ts), so a worker loads only its own.
  return loadClient(options);
}

/** A progress tick: the loops' own (requests and errors settled so far in the phase), summed over all workers. */
export type LoadTick = LoopTick;

/** What a run may be told, and tells back: progress ticks, the window opening and closing, an abort. */
export interface RunHooks {
  onTick?: (tick: LoadTick) => void;
  /** 'measure' when the window opens, 'done' when it closes (the drain follows): e.g. to read a proxy's CPU over it. */
  onPhase?: (phase: 'measure' | 'done') => void;
  /** Every outcome since the last call, whatever its window, about once a second (a live /metrics). */
  onLive?: (delta: LiveDelta) => void;
  signal?: AbortSignal;
}

export class LoadAbortedError extends Error {
  constructor() {
    super('load run aborted');
    this.name = 'AbortError';
  }
}

/** The generator's connections, open, ready to run on. */
export interface LoadSession {
  /** How the connections were opened (over all workers); absent for a generator that cannot say (h2load). */
  readonly connect?: RepResult['connect'];
  /**
   * Warm-up (not recorded) then the measured window and its drain, on the session's connections. Aborting ends
   * it early, closes the session and rejects with LoadAbortedError.
   */
  run(plan: RunPlan, hooks?: RunHooks): Promise<RepResult>;
  close(): Promise<void>;
}

/** Opens a session: `workers` worker threads (default 1), each with its share of the connections, all connected. */
export async function openLoadSession(options: LoadOptions): Promise<LoadSession> {
  validateLoadOptions(options);
  const workers = await WorkerSession.open(splitLoad(options, options.workers ?? 1));
  return new Session(options, workers.setups, (plan, hooks) => workers.run(plan, hooks), () => workers.close());
}

/**
 * A session in the calling thread, without a worker (`workers` must be 1): what a worker thread runs. For
 * callers that need the generator's sockets in their own thread (tests watching node's diagnostics channels),
 * or a process that has no other work on its main thread.
 */
export async function openLoadSessionInThread(options: LoadOptions): Promise<LoadSession> {
  validateLoadOptions(options);
  if ((options.workers ?? 1) !== 1) throw new LoadOptionsError('workers', options.workers, '1 when run in the calling thread');
  const [share] = splitLoad(options, 1);
  const session = await ShareSession.open(share!, await loadClientFactory(options));
  return new Session(options, [session.setup], async (plan, hooks) => [await session.run(plan, hooks)], () => session.close());
}

class Session implements LoadSession {
  readonly connect: NonNullable<RepResult['connect']>;

  constructor(
    private readonly options: LoadOptions,
    private readonly setups: readonly SessionSetup[],
    private readonly runShares: (plan: RunPlan, hooks: ShareHooks) => Promise<ShareResult[]>,
    readonly close: () => Promise<void>,
  ) {
    this.connect = mergeSetups(setups);
  }

  async run(plan: RunPlan, hooks: RunHooks = {}): Promise<RepResult> {
    if (hooks.signal?.aborted) throw new LoadAbortedError();
    let shares: ShareResult[];
    try {
      shares = await this.runShares(plan, hooks);
    } catch (err) {
      await this.close();
      throw err;
    }
    if (hooks.signal?.aborted && shares.some((s) => s.timing.aborted)) {
      await this.close();
      throw new LoadAbortedError();
    }
    return mergeShares(this.options, shares, this.setups);
  }
}

/** Runs warm-up then measurement against options.url on fresh connections, as one session of one run. */
export async function runLoad(options: LoadOptions, onTick?: (tick: LoadTick) => void, signal?: AbortSignal): Promise<RepResult> {
  return runOnce(await openLoadSession(options), options, onTick, signal);
}

/** runLoad in the calling thread (see openLoadSessionInThread). */
export async function runLoadInThread(options: LoadOptions, onTick?: (tick: LoadTick) => void, signal?: AbortSignal): Promise<RepResult> {
  return runOnce(await openLoadSessionInThread(options), options, onTick, signal);
}

async function runOnce(session: LoadSession, options: LoadOptions, onTick?: (tick: LoadTick) => void, signal?: AbortSignal): Promise<RepResult> {
  try {
    return await session.run({ warmupMs: options.warmupMs, durationMs: options.durationMs }, { ...(onTick ? { onTick } : {}), ...(signal ? { signal } : {}) });
  } finally {
    await session.close();
  }
}
