// The one place that picks the generator: ours (runLoad) or nghttp2's h2load, both LoadOptions -> RepResult.
// The orchestrator and `npm run load` call this, never a generator directly.
import { runH2load } from './external/h2load.js';
import { runLoad, type LoadTick } from './run-load.js';
import type { LoadOptions, RepResult } from './types.js';

export type { LoadTick };

export function generate(options: LoadOptions, onTick?: (tick: LoadTick) => void, signal?: AbortSignal): Promise<RepResult> {
  return options.generator === 'h2load' ? runH2load(options, onTick, signal) : runLoad(options, onTick, signal);
}
