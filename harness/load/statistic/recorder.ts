// Where clients report outcomes. It knows the phase: only outcomes that complete while measuring are kept
// (warm-up and post-deadline stragglers only feed the progress counts), so every client counts alike.
import { Tally, h2CodeName } from '../errors.js';
import type { Phase } from '../sequencer/phase-clock.js';
import type { LatencyHistogram } from './histogram.js';
import type { TimeSeries } from './time-series.js';

export interface RecordedCounts {
  /** Requests whose outcome was recorded while measuring: successes + errors. */
  requests: number;
  successes: number;
  errors: Record<string, number>;
  rst: { received: Record<string, number>; sent: Record<string, number> };
  rstReceivedTotal: number;
  goawayReceived: Record<string, number>;
  /** Streams in flight above a GOAWAY's last-stream-id when it arrived, by the GOAWAY's code. */
  goawayStreamsCut: Record<string, number>;
}

export class Recorder {
  private current: Phase = 'warmup';
  private successes = 0;
  private readonly errors = new Tally();
  private readonly rstIn = new Tally();
  private readonly rstOut = new Tally();
  private readonly goaways = new Tally();
  private readonly cuts = new Tally();
  private phaseRequests = 0;
  private phaseErrors = 0;

  /** `series`, when given, also gets every measured outcome by the second it completed in. */
  constructor(
    private readonly latency: LatencyHistogram,
    private readonly series?: TimeSeries,
  ) {}

  get phase(): Phase {
    return this.current;
  }

  /** Told by the sequencer (or a self-driving client) when the phase changes; progress counts restart. */
  setPhase(phase: Phase): void {
    this.current = phase;
    this.phaseRequests = 0;
    this.phaseErrors = 0;
    if (phase === 'measure') this.series?.begin();
  }

  private get measuring(): boolean {
    return this.current === 'measure';
  }

  /** A request answered in full with a non-error status; latency from its start, in microseconds. */
  success(latencyUs: number): void {
    this.phaseRequests++;
    if (!this.measuring) return;
    this.successes++;
    this.latency.recordMicros(latencyUs);
    this.series?.record(latencyUs);
  }

  /** A request that failed, with its one error class. */
  failure(errorClass: string): void {
    this.phaseRequests++;
    this.phaseErrors++;
    if (!this.measuring) return;
    this.errors.add(errorClass);
    this.series?.record(undefined);
  }

  rstReceived(code: number): void {
    if (this.measuring) this.rstIn.add(h2CodeName(code));
  }

  rstSent(code: number): void {
    if (this.measuring) this.rstOut.add(h2CodeName(code));
  }

  goawayReceived(code: number): void {
    if (this.measuring) this.goaways.add(h2CodeName(code));
  }

  /**
   * A GOAWAY(code) arrived while `n` streams above its last-stream-id were in flight on that connection: the
   * peer will not process them (they fail, or a client may retry them elsewhere). Called once per GOAWAY.
   */
  goawayStreamsCut(code: number, n: number): void {
    if (this.measuring && n > 0) this.cuts.add(h2CodeName(code), n);
  }

  /** Requests and errors completed so far in the current phase, for progress ticks. */
  progress(): { requests: number; errors: number } {
    return { requests: this.phaseRequests, errors: this.phaseErrors };
  }

  counts(): RecordedCounts {
    return {
      requests: this.successes + this.errors.total,
      successes: this.successes,
      errors: this.errors.toRecord(),
      rst: { received: this.rstIn.toRecord(), sent: this.rstOut.toRecord() },
      rstReceivedTotal: this.rstIn.total,
      goawayReceived: this.goaways.toRecord(),
      goawayStreamsCut: this.cuts.toRecord(),
    };
  }
}
