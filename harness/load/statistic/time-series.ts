// The measured window second by second, for the report's time-series charts: each request counts in the
// second it was sent in (intended send time), like every other figure of the run, so the seconds add up to the
// run's requests. Outcomes arrive out of order (a request's outcome comes up to the timeout after it was
// sent), so a second's histogram stays live until no outcome can reach it any more, then is kept encoded
// (a few hundred bytes): an hour-long run holds 3600 short strings, not 3600 WASM histograms.
import { LatencyHistogram } from './histogram.js';

/** One second of the measured window: requests sent in it, their successes and errors, and their latencies. */
export interface SecondSample {
  requests: number;
  successes: number;
  errors: number;
  /** Encoded LatencyHistogram of every outcome (timeouts at the timeout); absent when nothing was sent. */
  histogram?: string;
}

interface LiveSecond {
  requests: number;
  successes: number;
  errors: number;
  histogram: LatencyHistogram | undefined;
}

// A window timer may fire a little early by performance.now(): a window this short of a whole second still counts it.
const WHOLE_SECOND_SLACK_MS = 10;

/** Seconds wholly inside a measured window of `measuredMs` (the last, partial second is dropped). */
export function wholeSeconds(measuredMs: number): number {
  return Math.max(0, Math.floor((measuredMs + WHOLE_SECOND_SLACK_MS) / 1000));
}

export class TimeSeries {
  private startMs: number | undefined;
  private readonly done: (SecondSample | undefined)[] = [];
  private readonly live = new Map<number, LiveSecond>();
  /** The lowest index in `live` (Infinity when none): a record closes nothing, and so skips the walk, unless it is below the bound. */
  private lowestLive = Infinity;
  /** The second the last outcome went to: consecutive outcomes mostly share one, so the Map is seldom asked. */
  private lastIndex = -1;
  private lastSecond: LiveSecond | undefined;

  /** `settleMs`: how long after its send an outcome may arrive (the timeout); older seconds are then closed. */
  constructor(private readonly settleMs: number) {}

  /** The measured window begins at `startMs` (a performance.now() time). */
  begin(startMs: number): void {
    this.startMs = startMs;
  }

  /**
   * One outcome of a request sent (intended) at `sentMs`, arriving at `nowMs`: its latency in µs, and whether
   * it succeeded.
   */
  record(sentMs: number, latencyUs: number, ok: boolean, nowMs: number): void {
    if (this.startMs === undefined) return;
    const index = Math.max(0, Math.floor((sentMs - this.startMs) / 1000));
    let second = index === this.lastIndex ? this.lastSecond : this.live.get(index);
    if (!second) {
      if (this.done[index]) return; // closed: cannot happen for outcomes within settleMs of their send
      second = { requests: 0, successes: 0, errors: 0, histogram: undefined };
      this.live.set(index, second);
      if (index < this.lowestLive) this.lowestLive = index;
    }
    this.lastIndex = index;
    this.lastSecond = second;
    second.requests++;
    if (ok) second.successes++;
    else second.errors++;
    (second.histogram ??= LatencyHistogram.create()).recordMicros(latencyUs);
    const before = Math.floor((nowMs - this.settleMs - this.startMs) / 1000) - 1;
    if (this.lowestLive < before) this.closeBefore(before);
  }

  /** The whole seconds of a window that lasted `measuredMs`; the series is then spent. */
  finish(measuredMs: number): SecondSample[] {
    this.closeBefore(Infinity);
    this.startMs = undefined;
    const whole = wholeSeconds(measuredMs);
    return Array.from({ length: whole }, (_, i) => this.done[i] ?? { requests: 0, successes: 0, errors: 0 });
  }

  /** Frees the live histograms; idempotent. */
  destroy(): void {
    for (const second of this.live.values()) second.histogram?.destroy();
    this.live.clear();
    this.forget();
  }

  private forget(): void {
    this.lowestLive = Infinity;
    this.lastIndex = -1;
    this.lastSecond = undefined;
  }

  private closeBefore(index: number): void {
    let lowest = Infinity;
    for (const [i, second] of this.live) {
      if (i >= index) {
        lowest = Math.min(lowest, i);
        continue;
      }
      const { requests, successes, errors, histogram } = second;
      this.done[i] = { requests, successes, errors, ...(histogram ? { histogram: histogram.encode() } : {}) };
      histogram?.destroy();
      this.live.delete(i);
      if (second === this.lastSecond) {
        this.lastIndex = -1;
        this.lastSecond = undefined;
      }
    }
    this.lowestLive = lowest;
  }
}
