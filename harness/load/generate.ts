// The one place that picks the generator: ours (a load session on warm connections) or nghttp2's h2load (a
// process per run: it cannot keep connections between runs), both LoadOptions -> RepResult. The orchestrator
// and `npm run load` call this, never a generator directly.
import { runH2load } from './external/h2load.js';
import { openLoadSession, runLoad, type LoadSession, type LoadTick, type RunHooks } from './run-load.js';
import type { LoadOptions, RepResult } from './types.js';
import type { RunPlan } from './worker/share.js';

export type { LoadSession, LoadTick, RunHooks, RunPlan };

export function generate(options: LoadOptions, onTick?: (tick: LoadTick) => void, signal?: AbortSignal): Promise<RepResult> {
  return options.generator === 'h2load' ? runH2load(options, onTick, signal) : runLoad(options, onTick, signal);
}

/** A session of the chosen generator: ours opens its connections now; h2load starts a process at each run. */
export async function openGeneratorSession(options: LoadOptions): Promise<LoadSession> {
  if (options.generator !== 'h2load') return openLoadSession(options);
  return {
    run: (plan: RunPlan, hooks: RunHooks = {}) => runH2load({ ...options, ...plan }, hooks.onTick, hooks.signal),
    close: () => Promise.resolve(),
  };
}
