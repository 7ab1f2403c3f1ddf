// What run-load needs of a protocol client. Two shapes, because autocannon brings its own loop:
// a RequestClient is driven by a sequencer (closed or open loop); a DrivingClient runs the phases itself.
// A client lives for a whole load session: its connections are opened once, before any window, and carry
// the warm-up and every repetition.
import { performance } from 'node:perf_hooks';
import type { PhaseClockOptions, PhaseTiming } from '../sequencer/phase-clock.js';
import type { Recorder, RequestTimes } from '../statistic/recorder.js';
import type { LoadOptions } from '../types.js';

export interface RequestClient {
  readonly kind: 'request';
  /**
   * Opens every connection (`options.connections`) and resolves, with how many are ready to carry requests,
   * once each is or has failed (a failure is not thrown: the requests that need it will record it).
   */
  connect(): Promise<number>;
  /**
   * Resolves when the request succeeded, rejects when it failed; either way the outcome is already recorded.
   * `intendedStart` (a performance.now() timestamp) is when the open-loop schedule meant it to be sent: latency,
   * and the timeout, run from `intendedStart ?? performance.now()`, so a late send counts against the target's
   * latency instead of vanishing (coordinated omission). The closed loop passes nothing. Every request settles
   * by its deadline at the latest (a stalled stream, exempt from the timeout, settles then without an outcome).
   */
  startRequest(intendedStart?: number): Promise<void>;
  /**
   * startRequest without a promise per request (the pooled clients, ../pool/pool.ts): `resolve` or `reject` is
   * called, once, as startRequest's promise would settle (maybe before it returns). The closed loop uses it when
   * there.
   */
  startRequestWith?(resolve: () => void, reject: (err: Error) => void, intendedStart?: number): void;
  /** Cancels what is in flight and closes every connection and timer. Idempotent. */
  close(): Promise<void>;
}

export interface DrivingClient {
  readonly kind: 'driver';
  /** Runs warm-up and measure on a PhaseClock with these options, recording into the recorder. */
  run(clock: PhaseClockOptions): Promise<PhaseTiming>;
  close(): Promise<void>;
}

export type LoadClient = RequestClient | DrivingClient;

/** Builds a client for one session; `connect()` (request clients) opens its connections. */
export type ClientFactory = (options: LoadOptions, recorder: Recorder) => LoadClient;

/** Rejection of a failed request: the class is already recorded, this only tells the sequencer. */
export class RequestFailed extends Error {
  constructor(readonly errorClass: string) {
    super(errorClass);
    this.name = 'RequestFailed';
  }
}

/** Records the failure (its outcome known now) and returns the rejection to throw. */
export function failed(recorder: Recorder, errorClass: string, times: RequestTimes): RequestFailed {
  recorder.failure(errorClass, times, performance.now());
  return new RequestFailed(errorClass);
}
