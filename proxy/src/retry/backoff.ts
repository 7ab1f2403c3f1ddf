// Retry backoff: exponential with full jitter, as Envoy does it (source/common/common/backoff_strategy.cc):
// retry n waits a uniformly random time in [0, (2^n - 1) x base), never more than max. Full jitter spreads the
// retries of many requests that failed together (an endpoint restart) instead of sending them in waves.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Uniform in [0, 1); Math.random by default. */
  rng?: () => number;
}

/** The delay before retry `n` (1 for the first retry), ms. */
export type Backoff = (n: number) => number;

export function jitteredBackoff({ baseMs, maxMs, rng = Math.random }: BackoffOptions): Backoff {
  return (n) => {
    // 2^n - 1 grows past any cap quickly; clamp n so the product stays a finite number.
    const ceiling = Math.min(maxMs, (2 ** Math.min(Math.max(n, 1), 30) - 1) * baseMs);
    return rng() * ceiling;
  };
}
