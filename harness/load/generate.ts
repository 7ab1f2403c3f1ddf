// The one place that picks the generator: ours (a load session on warm connections) or nghttp2's h2load (a
// process per run: it cannot keep connections between runs), both LoadOptions -> RepResult. The orchestrator
// and `npm run load` call this, never a generator directly.
import { runH2load } from './external/h2load.js';
import { openLoadSession, runLoad, runLoadInThread, type LoadSession, type LoadTick, type RunHooks } from './run-load.js';
import type { LoadOptions, RepResult } from './types.js';
import type { RunPlan } from './worker/share.js';

export type { LoadSession, LoadTick, RunHooks, RunPlan };

/**
 * Where our generator runs: 'worker' (worker threads, `workers` of them; the caller's thread stays free) or
 * 'this-thread' (one worker's work in the caller's thread; only for `workers` 1, else a worker is used).
 */
export type GeneratorThread = 'worker' | 'this-thread';

/**
 * One run. 'this-thread' is for a process with nothing else to do while it runs (`npm run load`): no second
 * isolate to start, no second module graph and WebAssembly compile, no messages between threads. At 10 s that
 * was a fifth of the whole process's CPU (0.39 s of start-up against 0.31 s in one thread, issue 15).
 */
export function generate(options: LoadOptions, onTick?: (tick: LoadTick) => void, signal?: AbortSignal, where: GeneratorThread = 'worker'): Promise<RepResult> {
  if (options.generator === 'h2load') return runH2load(options, onTick, signal);
  return where === 'this-thread' && (options.workers ?? 1) === 1 ? runLoadInThread(options, onTick, signal) : runLoad(options, onTick, signal);
}

/** A session of the chosen generator: ours opens its connections now; h2load starts a process at each run. */
export async function openGeneratorSession(options: LoadOptions): Promise<LoadSession> {
  if (options.generator !== 'h2load') return openLoadSession(options);
  return {
    run: (plan: RunPlan, hooks: RunHooks = {}) => runH2load({ ...options, ...plan }, hooks.onTick, hooks.signal),
    close: () => Promise.resolve(),
  };
}
