// The latency histograms of one measured run, and what a percentile of them may claim.
// - all: every request sent in the window, successes and failures at the time their outcome arrived, and
//   timeouts at exactly the timeout (their true latency is unknown and longer: a censored value);
// - success: successful responses only;
// - uncorrected (open loop only): every outcome timed from the real send instead of the intended one, as
//   wrk2 prints beside its corrected figures: the difference is what the generator's own lateness hid;
// - messages (server streaming only): each streamed message, from the backend's stamp to its arrival.
import { LatencyHistogram } from './histogram.js';
import type { LatencySummaryMs, PercentileName } from '../types.js';

export interface EncodedOutcomeHistograms {
  all: string;
  success: string;
  uncorrected?: string;
  messages?: string;
}

export class OutcomeHistograms {
  readonly success = LatencyHistogram.create();
  /** Failures only; `all` is successes and failures added when asked for (one record per outcome, not two). */
  private readonly failure = LatencyHistogram.create();
  readonly uncorrected: LatencyHistogram | undefined;
  readonly messages: LatencyHistogram | undefined;

  constructor(openLoop: boolean, streaming = false) {
    this.uncorrected = openLoop ? LatencyHistogram.create() : undefined;
    this.messages = streaming ? LatencyHistogram.create() : undefined;
  }

  /** One outcome's latency, into success or failure. */
  record(us: number, ok: boolean): void {
    (ok ? this.success : this.failure).recordMicros(us);
  }

  /** Every outcome (successes and failures added, exactly: one bucket layout): a new histogram the caller destroys. */
  all(): LatencyHistogram {
    const all = LatencyHistogram.create();
    all.add(this.success);
    all.add(this.failure);
    return all;
  }

  encode(): EncodedOutcomeHistograms {
    const all = this.all();
    try {
      return {
        all: all.encode(),
        success: this.success.encode(),
        ...(this.uncorrected ? { uncorrected: this.uncorrected.encode() } : {}),
        ...(this.messages ? { messages: this.messages.encode() } : {}),
      };
    } finally {
      all.destroy();
    }
  }

  destroy(): void {
    this.success.destroy();
    this.failure.destroy();
    this.uncorrected?.destroy();
    this.messages?.destroy();
  }
}

const PERCENTILES: readonly PercentileName[] = ['p50', 'p90', 'p95', 'p99', 'p999', 'max'];

/**
 * The percentiles of a summary that are only lower bounds: those a timed-out request (recorded at the timeout,
 * its true latency unknown and longer) may have set, i.e. at or above the timeout's bucket. Empty without timeouts.
 */
export function lowerBoundPercentiles(summary: LatencySummaryMs, timeouts: number, timeoutMs: number): PercentileName[] {
  if (timeouts === 0) return [];
  // Values are reported at their bucket's highest equivalent value, which is >= the recorded value: 3 digits.
  const floor = timeoutMs * (1 - 1e-3);
  return PERCENTILES.filter((p) => (summary[p] ?? 0) >= floor);
}
