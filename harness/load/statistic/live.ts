// What the generator tells a live /metrics while it runs: every settled request, whatever its window (the live
// view shows the traffic the proxy sees, warm-up and drain included), as deltas since the last take. A
// worker posts a delta at each tick and at the end of a run; the exporter adds them to its counters. The
// measured numbers never come from here: they come from the recorder's window and its HdrHistograms.

/**
 * Upper bounds (seconds) of the live latency histogram: 100 µs (a proxy on loopback answers in 0.2-1 ms) to
 * 30 s (a timeout over a slow emulated link), about three per decade.
 */
export const LIVE_LATENCY_BUCKETS_S: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** Counts since the last take; plain data (it crosses a worker's message port). */
export interface LiveDelta {
  successes: number;
  failures: number;
  /** Failed requests by error class (errors.ts). */
  errors: Record<string, number>;
  /** RST_STREAM and GOAWAY frames received, by RFC 9113 code name. */
  rstReceived: Record<string, number>;
  goawayReceived: Record<string, number>;
  /** Non-cumulative counts per bucket of LIVE_LATENCY_BUCKETS_S, plus one for +Inf; the sum in seconds. */
  buckets: number[];
  latencySumS: number;
  /** Requests started and not settled, now (absent where the generator does not start them one by one). */
  inFlight?: number;
}

export class LiveTally {
  private delta = LiveTally.empty();
  private started = 0;
  private settled = 0;
  private countsStarts = false;

  private static empty(): LiveDelta {
    return { successes: 0, failures: 0, errors: {}, rstReceived: {}, goawayReceived: {}, buckets: new Array<number>(LIVE_LATENCY_BUCKETS_S.length + 1).fill(0), latencySumS: 0 };
  }

  /** A request was started (the sequencer's count, so in flight = started - settled). */
  start(): void {
    this.countsStarts = true;
    this.started++;
  }

  settle(ok: boolean, errorClass: string | undefined, latencyMs: number): void {
    this.settled++;
    const d = this.delta;
    if (ok) d.successes++;
    else {
      d.failures++;
      if (errorClass) d.errors[errorClass] = (d.errors[errorClass] ?? 0) + 1;
    }
    const s = latencyMs / 1000;
    d.buckets[bucketIndex(s)]!++;
    d.latencySumS += s;
  }

  rst(code: string): void {
    this.delta.rstReceived[code] = (this.delta.rstReceived[code] ?? 0) + 1;
  }

  goaway(code: string): void {
    this.delta.goawayReceived[code] = (this.delta.goawayReceived[code] ?? 0) + 1;
  }

  /** The counts since the last take (and in flight now); counting restarts. */
  take(): LiveDelta {
    const out = this.delta;
    if (this.countsStarts) out.inFlight = Math.max(0, this.started - this.settled);
    this.delta = LiveTally.empty();
    return out;
  }
}

/** The first bucket whose upper bound holds `s` (binary search; the last index is +Inf). */
export function bucketIndex(s: number): number {
  let lo = 0;
  let hi = LIVE_LATENCY_BUCKETS_S.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s <= LIVE_LATENCY_BUCKETS_S[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Whether a delta has anything to add (an idle tick posts nothing). */
export function isEmptyDelta(d: LiveDelta): boolean {
  return d.successes === 0 && d.failures === 0 && Object.keys(d.rstReceived).length === 0 && Object.keys(d.goawayReceived).length === 0 && d.inFlight === undefined;
}
