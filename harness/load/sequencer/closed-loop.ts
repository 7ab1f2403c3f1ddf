// Closed loop: `concurrency` loops, each starting its next request as soon as the previous one settles,
// until the measured phase ends. It never knows the protocol: it is handed startRequest, which resolves
// on success and rejects on failure (the client has already recorded which failure).
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { PhaseClock, type ClockTick, type Phase, type PhaseTiming } from './phase-clock.js';

export interface LoopTick extends ClockTick {
  /** Requests settled so far in this phase (successes + failures). */
  requests: number;
  errors: number;
}

export interface ClosedLoopOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  startRequest: () => Promise<void>;
  /** Told when warm-up, measure and done begin (the recorder keeps only what completes while measuring). */
  onPhase?: (phase: Phase) => void;
  onTick?: (tick: LoopTick) => void;
  signal?: AbortSignal;
}

// A request that settles without I/O (a refused connection, a stubbed client) must not starve the timers
// that end the phases: yield after every failure and after this many successes in a row.
const YIELD_EVERY = 256;

/**
 * Runs the loops and resolves once the measured phase is over and every loop has stopped. Requests still in
 * flight at the deadline are not started again; the caller may cancel them in onPhase('done') so the
 * loops end at once instead of waiting out their timeouts.
 */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<PhaseTiming> {
  const { concurrency, startRequest } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  let requests = 0;
  let errors = 0;
  const clock = new PhaseClock({
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    signal: options.signal,
    onPhase: (phase) => {
      requests = 0;
      errors = 0;
      options.onPhase?.(phase);
    },
    onTick: (tick) => options.onTick?.({ ...tick, requests, errors }),
  });

  // A function, not an inline test: TypeScript would keep the narrowing of clock.phase across the await.
  const over = (): boolean => clock.phase === 'done';
  const loop = async (): Promise<void> => {
    let sinceYield = 0;
    while (!over()) {
      let ok = true;
      try {
        await startRequest();
      } catch {
        ok = false;
      }
      if (over()) break;
      requests++;
      if (!ok) errors++;
      if (!ok || ++sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
    }
  };

  clock.start();
  await Promise.all(Array.from({ length: concurrency }, loop));
  return clock.done;
}
