// Open loop: requests are started at the times a rate limiter schedules, whatever the target does. A slow
// answer does not delay the next send (as it would in a closed loop), and each request is handed its
// intended send time, from which the client measures latency: a stall then shows in the percentiles as the
// time every scheduled request waited, instead of being hidden by the generator waiting too (coordinated
// omission). Sends are woken by a Pacer (pacer.ts) to a few tens of µs of their due time. When the window
// closes it stops sending and drains: it resolves once every request in flight has settled (each settles by
// its deadline at the latest). Like the closed loop, it never knows the protocol: it is handed startRequest.
import { performance } from 'node:perf_hooks';
import type { LatencyHistogram } from '../statistic/histogram.js';
import { loopClock, type LoopCounts, type LoopTick, type LoopTiming } from './closed-loop.js';
import { Pacer } from './pacer.js';
import type { Phase } from './phase-clock.js';
import type { RateLimiter } from './rate.js';

export interface OpenLoopOptions {
  /** The schedule, begun at the given time (when the run starts, warm-up included). */
  limiter: (startMs: number) => RateLimiter;
  warmupMs: number;
  durationMs: number;
  /** Starts one request; measures its latency from `intendedStart` (performance.now() ms). */
  startRequest: (intendedStart: number) => Promise<void>;
  /**
   * Safety cap on requests in flight, far above what the rate needs (a cap a healthy run never meets): a
   * request due while it is reached is not sent, and counted as capped.
   */
  maxInFlight: number;
  /** Gets the send lag (real minus intended send time) of every request sent for the measured window. */
  lag?: LatencyHistogram;
  onPhase?: (phase: Phase, atMs: number) => void;
  onTick?: (tick: LoopTick) => void;
  signal?: AbortSignal;
}

export interface OpenLoopTiming extends LoopTiming {
  /** Requests whose intended send time fell inside the measured window. */
  due: number;
  /** Of those, the ones sent (late or not) before the window closed. */
  sent: number;
  /** Of those, the ones not sent because maxInFlight requests were in flight. */
  capped: number;
  /** Milliseconds of the window the pacer spent polling with nothing else to do (its own CPU cost). */
  pacerIdleMs: number;
}

// Due requests started per event-loop turn before I/O gets its turn: a generator that fell behind catches up
// in bursts of this size rather than starving the responses it is waiting for.
const MAX_BATCH = 1024;

/**
 * Sends on schedule until the measured phase ends, then stops sending and resolves once every request in
 * flight has settled (each by its deadline at the latest): the drain.
 */
export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopTiming> {
  const { maxInFlight } = options;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
    throw new RangeError(`maxInFlight must be a positive integer, got ${maxInFlight}`);
  }
  const counts: LoopCounts = { requests: 0, errors: 0 };
  let inFlight = 0;
  let due = 0;
  let sent = 0;
  let capped = 0;
  let measureStart: number | undefined;
  let limiter: RateLimiter | undefined;
  let next = 0;
  let immediate: NodeJS.Immediate | undefined;
  let drained: (() => void) | undefined;
  let stopped = false;

  const stopSending = (): void => {
    stopped = true;
    pacer.cancel();
    clearImmediate(immediate);
    immediate = undefined;
  };
  // The requests the window asked for that were never reached: they count as due, not as sent.
  const countUnreached = (measureEnd: number): void => {
    if (!limiter || measureStart === undefined) return;
    for (; next < measureEnd; next = limiter.next()) if (next >= measureStart) due++;
  };

  const clock = loopClock(options, counts, (phase, atMs) => {
    pacer.counting = phase === 'measure';
    if (phase === 'measure') measureStart = atMs;
    if (phase === 'done') {
      stopSending();
      countUnreached(atMs);
    }
  });

  const settle = (ok: boolean): void => {
    inFlight--;
    if (clock.phase !== 'done') {
      counts.requests++;
      if (!ok) counts.errors++;
    }
    if (inFlight === 0) drained?.();
  };
  const send = (intendedStart: number): void => {
    inFlight++;
    let outcome: Promise<void>;
    try {
      outcome = options.startRequest(intendedStart);
    } catch (err) {
      outcome = Promise.reject(err);
    }
    outcome.then(
      () => settle(true),
      () => settle(false),
    );
  };
  const pump = (): void => {
    immediate = undefined;
    if (stopped || !limiter) return;
    for (let batch = 0; batch < MAX_BATCH; batch++) {
      const now = performance.now();
      if (next > now) {
        pacer.at(next);
        return;
      }
      const intendedStart = next;
      next = limiter.next();
      const inWindow = measureStart !== undefined && intendedStart >= measureStart;
      if (inWindow) due++;
      if (inFlight >= maxInFlight) {
        if (inWindow) capped++;
        continue;
      }
      if (inWindow) {
        sent++;
        options.lag?.recordMs(now - intendedStart);
      }
      send(intendedStart);
    }
    immediate = setImmediate(pump);
  };
  const pacer = new Pacer(pump);

  clock.start();
  if (clock.phase !== 'done') {
    // Begun after the clock, so the first request is due no earlier than the first phase.
    limiter = options.limiter(performance.now());
    next = limiter.next();
    pump();
  }
  const timing = await clock.done;
  stopSending();
  if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
  await pacer.close();
  return { ...timing, drainMs: Math.max(0, performance.now() - timing.endMs), due, sent, capped, pacerIdleMs: pacer.idleSpinMs };
}
