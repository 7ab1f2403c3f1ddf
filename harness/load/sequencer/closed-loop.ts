// Closed loop: `concurrency` loops, each starting its next request as soon as the previous one settles,
// until the measured phase ends; then it drains: no new request starts, and it resolves once every request in
// flight has settled (each settles by its deadline at the latest), so the requests sent in the window all
// have an outcome. It never knows the protocol: it is handed startRequest, which resolves on success and
// rejects on failure (the client has already recorded which failure).
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { PhaseClock, type ClockTick, type Phase, type PhaseTiming } from './phase-clock.js';

export interface LoopTick extends ClockTick {
  /** Requests settled so far in this phase (successes + failures). */
  requests: number;
  errors: number;
}

/** Requests settled in the current phase, as a loop counts them for its ticks. */
export interface LoopCounts {
  requests: number;
  errors: number;
}

/**
 * Both loops' PhaseClock: at each phase change `counts` restart and `enter` runs before the caller's onPhase;
 * every tick carries the counts.
 */
export function loopClock(
  options: Pick<ClosedLoopOptions, 'warmupMs' | 'durationMs' | 'signal' | 'onPhase' | 'onTick'> & { warmupUntil?: Promise<void>; warmupMaxMs?: number },
  counts: LoopCounts,
  enter?: (phase: Phase, atMs: number) => void,
): PhaseClock {
  return new PhaseClock({
    warmupMs: options.warmupMs,
    ...(options.warmupUntil ? { warmupUntil: options.warmupUntil } : {}),
    ...(options.warmupMaxMs !== undefined ? { warmupMaxMs: options.warmupMaxMs } : {}),
    durationMs: options.durationMs,
    signal: options.signal,
    onPhase: (phase, atMs) => {
      counts.requests = 0;
      counts.errors = 0;
      enter?.(phase, atMs);
      options.onPhase?.(phase, atMs);
    },
    onTick: (tick) => options.onTick?.({ ...tick, requests: counts.requests, errors: counts.errors }),
  });
}

export interface ClosedLoopOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  startRequest: () => Promise<void>;
  /**
   * startRequest without a promise per request (RequestClient.startRequestWith): used instead when given. Each
   * loop hands it the same two settlers for all its requests, and continues, as after an await, in a microtask.
   */
  startRequestWith?: (resolve: () => void, reject: (err: Error) => void) => void;
  /**
   * The warm-up lasts (beyond warmupMs) until every loop has completed a request, so the window opens on a full
   * pipeline in its steady state, whatever the latency; at most this much longer (the request timeout: every
   * request settles by then). A window that opened on an empty pipeline would count the first sends of a
   * pipeline that has not turned over yet, and overstate (or understate) the throughput of a slow target.
   */
  turnoverMaxMs?: number;
  /** Told when warm-up, measure and done (the window's end) begin, with the time they began. */
  onPhase?: (phase: Phase, atMs: number) => void;
  onTick?: (tick: LoopTick) => void;
  signal?: AbortSignal;
}

// A request that settles without I/O (a refused connection, a stubbed client) must not starve the timers
// that end the phases: yield after every failure and after this many successes in a row.
const YIELD_EVERY = 256;

export interface LoopTiming extends PhaseTiming {
  /** From the window's end until the last request in flight settled. */
  drainMs: number;
}

/** Runs the loops and resolves once the measured phase is over and every request in flight has settled. */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<LoopTiming> {
  const { concurrency, startRequest } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const counts: LoopCounts = { requests: 0, errors: 0 };
  let turned = 0;
  let turnedOver!: () => void;
  const turnover = new Promise<void>((resolve) => (turnedOver = resolve));
  const clock = loopClock(
    options.turnoverMaxMs !== undefined ? { ...options, warmupUntil: turnover, warmupMaxMs: options.warmupMs + options.turnoverMaxMs } : options,
    counts,
  );

  // A function, not an inline test: TypeScript would keep the narrowing of clock.phase across the await.
  const over = (): boolean => clock.phase === 'done';
  const startRequestWith = options.startRequestWith;
  if (startRequestWith) {
    clock.start();
    await runCallbackLoops(concurrency, startRequestWith, over, counts, () => {
      if (++turned === concurrency) turnedOver();
    });
    const timing = await clock.done;
    return { ...timing, drainMs: Math.max(0, performance.now() - timing.endMs) };
  }
  const loop = async (): Promise<void> => {
    let sinceYield = 0;
    let first = true;
    while (!over()) {
      let ok = true;
      try {
        await startRequest();
      } catch {
        ok = false;
      }
      if (first) {
        first = false;
        if (++turned === concurrency) turnedOver();
      }
      if (over()) break;
      counts.requests++;
      if (!ok) counts.errors++;
      if (!ok || ++sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
    }
  };

  clock.start();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const timing = await clock.done;
  return { ...timing, drainMs: Math.max(0, performance.now() - timing.endMs) };
}

/**
 * The loops of runClosedLoop on `start` (startRequestWith), step for step those of its async loop without a
 * promise per request: each loop's settlers are made once; a settled request's loop is continued in a microtask
 * (one for all the loops settled in the same turn), as the awaited promise's continuation would be; after every
 * failure, and after YIELD_EVERY successes in a row, it yields to the event loop. Resolves once every loop has
 * found the phase over.
 */
function runCallbackLoops(
  concurrency: number,
  start: (resolve: () => void, reject: (err: Error) => void) => void,
  over: () => boolean,
  counts: LoopCounts,
  firstSettled: () => void,
): Promise<void> {
  return new Promise<void>((allDone) => {
    let running = concurrency;
    // Loops to continue in the pending microtask, and the list the next turn fills while this one is walked.
    let ready: Array<() => void> = [];
    let spare: Array<() => void> = [];
    let scheduled = false;
    const settledNow = Promise.resolve();
    const drain = (): void => {
      scheduled = false;
      const batch = ready;
      ready = spare;
      for (let i = 0; i < batch.length; i++) batch[i]!();
      batch.length = 0;
      spare = batch;
    };
    const later = (continueLoop: () => void): void => {
      ready.push(continueLoop);
      if (!scheduled) {
        scheduled = true;
        void settledNow.then(drain);
      }
    };
    const loop = (): void => {
      let sinceYield = 0;
      let first = true;
      let ok = true;
      // A request of this loop is out: its settlers act once (as a promise's would), whatever the client does.
      let pending = false;
      const next = (): void => {
        if (over()) {
          if (--running === 0) allDone();
          return;
        }
        pending = true;
        try {
          start(resolve, reject);
        } catch {
          // As a promise's executor that throws: the request failed.
          reject();
        }
      };
      const afterSettle = (): void => {
        if (first) {
          first = false;
          firstSettled();
        }
        if (over()) {
          if (--running === 0) allDone();
          return;
        }
        counts.requests++;
        if (!ok) counts.errors++;
        if (!ok || ++sinceYield >= YIELD_EVERY) {
          sinceYield = 0;
          setImmediate(next);
          return;
        }
        next();
      };
      const resolve = (): void => {
        if (!pending) return;
        pending = false;
        ok = true;
        later(afterSettle);
      };
      const reject = (): void => {
        if (!pending) return;
        pending = false;
        ok = false;
        later(afterSettle);
      };
      next();
    };
    for (let i = 0; i < concurrency; i++) loop();
  });
}
