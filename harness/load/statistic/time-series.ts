// The measured window second by second, for the report's time-series charts: requests, errors and a latency
// histogram per second. Only the current second's histogram is live; a finished second is kept encoded (a few
// hundred bytes), so an hour-long run holds 3600 short strings, not 3600 WASM histograms.
import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './histogram.js';

/** One second of the measured window: outcomes recorded in it, and its successes' latencies, encoded. */
export interface SecondSample {
  requests: number;
  errors: number;
  /** Encoded LatencyHistogram; absent when no request succeeded in that second. */
  histogram?: string;
}

// A window timer may fire a little early by performance.now(): a window this short of a whole second still counts it.
const WHOLE_SECOND_SLACK_MS = 10;

/** Seconds wholly inside a measured window of `measuredMs` (the last, partial second is dropped). */
export function wholeSeconds(measuredMs: number): number {
  return Math.max(0, Math.floor((measuredMs + WHOLE_SECOND_SLACK_MS) / 1000));
}

export class TimeSeries {
  private startMs: number | undefined;
  private readonly seconds: SecondSample[] = [];
  private current: { index: number; requests: number; errors: number; histogram?: LatencyHistogram } | undefined;

  /** The measured window begins now (outcomes before this are not kept). */
  begin(now = performance.now()): void {
    this.startMs = now;
  }

  /** One outcome completing now: a success with its latency, or a failure (latencyUs undefined). */
  record(latencyUs: number | undefined, now = performance.now()): void {
    if (this.startMs === undefined) return;
    const index = Math.max(0, Math.floor((now - this.startMs) / 1000));
    // Completions arrive in time order in one thread, so the index never goes back.
    if (!this.current || index > this.current.index) this.rollTo(index);
    const second = this.current!;
    second.requests++;
    if (latencyUs === undefined) {
      second.errors++;
    } else {
      second.histogram ??= LatencyHistogram.create();
      second.histogram.recordMicros(latencyUs);
    }
  }

  /** The whole seconds of a window that lasted `measuredMs`, encoded; the series is then spent. */
  finish(measuredMs: number): SecondSample[] {
    const whole = wholeSeconds(measuredMs);
    this.rollTo(whole);
    this.startMs = undefined;
    return this.seconds.slice(0, whole);
  }

  /** Frees the live histogram; idempotent. */
  destroy(): void {
    this.current?.histogram?.destroy();
    this.current = undefined;
  }

  private rollTo(index: number): void {
    if (this.current) {
      const { requests, errors, histogram } = this.current;
      this.seconds[this.current.index] = { requests, errors, ...(histogram ? { histogram: histogram.encode() } : {}) };
      histogram?.destroy();
    }
    for (let i = this.seconds.length; i < index; i++) this.seconds[i] ??= { requests: 0, errors: 0 };
    this.current = { index, requests: 0, errors: 0 };
  }
}
