// PeakEWMA, the RTT estimate behind p2c (tower's load/peak_ewma.rs, which linkerd2-proxy uses). Pure: the
// caller passes the time, so tests drive it with a fake clock.
//
//   sample > estimate:  estimate = sample                           (peak-sensitive: a slow reply counts at once)
//   otherwise:          w = exp(-(now - updatedAt) / decay)
//                       estimate = estimate * w + sample * (1 - w)  (decays toward the newer, lower samples)
//   cost = estimate(now) * (inFlight + 1)                           (estimate(now) first decays toward 0, a sample
//                                                                    of 0 as tower does, so an idle endpoint is tried again)

export interface PeakEwmaOptions {
  /** The time constant of the decay, ms (linkerd: 10 s). */
  decayMs: number;
  /** The estimate of an endpoint without samples yet, ms (linkerd: 30 ms). */
  defaultRttMs: number;
  /** When the estimator is made, ms on the caller's clock. */
  now: number;
}

export class PeakEwma {
  private rttMs: number;
  private updatedAt: number;
  private readonly decayMs: number;

  constructor({ decayMs, defaultRttMs, now }: PeakEwmaOptions) {
    if (!(decayMs > 0)) throw new RangeError(`PeakEwma decay must be above 0 ms, got ${decayMs}`);
    this.decayMs = decayMs;
    this.rttMs = defaultRttMs;
    this.updatedAt = now;
  }

  /** Adds one RTT sample taken at `now`; returns the new estimate, ms. */
  observe(sampleMs: number, now: number): number {
    if (sampleMs > this.rttMs) {
      this.rttMs = sampleMs;
    } else {
      const elapsed = Math.max(0, now - this.updatedAt);
      const w = Math.exp(-elapsed / this.decayMs);
      this.rttMs = this.rttMs * w + sampleMs * (1 - w);
    }
    this.updatedAt = Math.max(this.updatedAt, now);
    return this.rttMs;
  }

  /** The estimate at `now`, decayed toward 0 since the last update (tower's `decay`: a sample of 0). */
  estimate(now: number): number {
    return this.observe(0, now);
  }

  /** The last estimate without decaying it (for metrics, which must not change what they report on). */
  peek(): number {
    return this.rttMs;
  }
}

/** tower's PeakEwma cost: the RTT estimate weighted by the requests already waiting on the endpoint. */
export function peakEwmaCost(estimateMs: number, inFlight: number): number {
  return estimateMs * (inFlight + 1);
}
