// Rate limiters, as Nighthawk names them: a schedule of intended send times the open-loop sequencer follows.
// The linear one is the base; behaviour is added by wrapping it (a decorator takes a RateLimiter and returns
// one), and the sequencer knows only the interface.

export interface RateLimiter {
  /** The intended send time of the next request, in performance.now() milliseconds; each call moves on by one. */
  next(): number;
}

/** Request i is due at startMs + i / rate: evenly spaced, never bunched, whatever happened before. */
export class LinearRateLimiter implements RateLimiter {
  private index = 0;
  private readonly intervalMs: number;

  /** `rate` in requests per second. */
  constructor(
    rate: number,
    private readonly startMs: number,
  ) {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be a positive number, got ${rate}`);
    this.intervalMs = 1000 / rate;
  }

  next(): number {
    // Multiplying rather than adding up intervals keeps the schedule free of accumulated rounding.
    return this.startMs + this.index++ * this.intervalMs;
  }
}

/**
 * Delays each send time by a uniform random 0..maxMs (Nighthawk's --jitter-uniform), so many generators at
 * the same rate do not send in lockstep. The delays are independent, so sends may come out of order by up to maxMs.
 */
export class UniformJitterRateLimiter implements RateLimiter {
  constructor(
    private readonly inner: RateLimiter,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {
    if (!(maxMs >= 0) || !Number.isFinite(maxMs)) throw new RangeError(`jitter must be zero or more milliseconds, got ${maxMs}`);
  }

  next(): number {
    return this.inner.next() + this.random() * this.maxMs;
  }
}
