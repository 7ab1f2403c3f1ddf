// Where clients report outcomes. A request belongs to the measured window when it was *sent* in it (its
// intended send time, in open loop): its outcome is kept whenever it arrives, also after the window has
// closed, while the generator drains what is in flight. So every request sent in the window is accounted for,
// by its latency or its failure, and nothing sent during warm-up or after the window counts.
import { Tally, h2CodeName, TIMEOUT } from '../errors.js';
import type { LiveTally } from './live.js';
import type { OutcomeHistograms } from './outcome-histograms.js';
import type { Ramp } from './ramp.js';
import type { TimeSeries } from './time-series.js';
import type { Trace } from './trace.js';

/** When a request was meant to leave (open loop's schedule; else when it was started) and when it did. */
export interface RequestTimes {
  /** performance.now() ms: latency and the timeout run from here (no coordinated omission). */
  intended: number;
  /** performance.now() ms when the client was asked to send it: the uncorrected latency runs from here. */
  sent: number;
}

/** Times for a request started now, with an optional intended send time (open loop). */
export function requestTimes(intendedStart: number | undefined, now: number): RequestTimes {
  return { intended: intendedStart ?? now, sent: now };
}

export interface RecordedCounts {
  /** Requests sent in the measured window: successes + errors. */
  requests: number;
  successes: number;
  errors: Record<string, number>;
  timeouts: number;
  rst: { received: Record<string, number>; sent: Record<string, number> };
  rstReceivedTotal: number;
  goawayReceived: Record<string, number>;
  /** Streams in flight above a GOAWAY's last-stream-id when it arrived, by the GOAWAY's code. */
  goawayStreamsCut: Record<string, number>;
  /** Response body bytes that arrived inside the measured window, whichever request they belonged to. */
  bodyBytes: number;
  /** attack 'rapid-reset': streams sent (HEADERS then RST_STREAM) for the window; no request outcome. */
  attackStreams: number;
  /** From the window's opening to the end of the run: connections the peer ended, and new ones that became ready. */
  connectionsClosedByPeer: number;
  connectionsOpened: number;
  /** stallStreams: streams sent in the window that stalled, and the RST_STREAM codes the peer reset them with. */
  stalledStreams: number;
  stalledResets: Record<string, number>;
}

/** Where one run's outcomes go. */
export interface RunSinks {
  histograms: OutcomeHistograms;
  series?: TimeSeries;
  /** The first calls of each connection (clients that report them: the wire pool). */
  ramp?: Ramp;
  /** Outcomes by arrival time (LoadOptions.trace). */
  trace?: Trace;
}

export class Recorder {
  private sinks: RunSinks | undefined;
  private windowStart = Infinity;
  private windowEnd = Infinity;
  /** Outcomes are taken (for requests of the window) until the run is sealed. */
  private open = false;
  private successes = 0;
  private timeouts = 0;
  private errors = new Tally();
  private rstIn = new Tally();
  private rstOut = new Tally();
  private goaways = new Tally();
  private cuts = new Tally();
  private phaseRequests = 0;
  private phaseErrors = 0;
  private windowBytes = 0;
  private attackStreams = 0;
  private peerClosed = 0;
  private opened = 0;
  private stalled = 0;
  private stalledResets = new Tally();
  /** The run's trace, or undefined (the only cost of tracing when off: one check per outcome). */
  private trace: Trace | undefined;

  /** Where outcomes also go now: the live tally, unless nobody reads it (feedLive(false)). */
  private live: LiveTally | undefined;

  /**
   * `timeoutMs`: a timed-out request is recorded at exactly this latency (a lower bound of its own).
   * `liveTally`: where every outcome also goes, whatever its window, for a live /metrics.
   */
  constructor(
    private readonly timeoutMs: number,
    private readonly liveTally?: LiveTally,
  ) {
    this.live = liveTally;
  }

  /**
   * Whether outcomes also go to the live tally: a run nobody takes live deltas from (`npm run load` has no
   * /metrics) leaves it off and saves its work per request.
   */
  feedLive(on: boolean): void {
    this.live = on ? this.liveTally : undefined;
  }

  /** A new run: counts restart, outcomes go to `sinks`; nothing is in the window until openWindow. */
  startRun(sinks: RunSinks): void {
    this.sinks = sinks;
    this.windowStart = Infinity;
    this.windowEnd = Infinity;
    this.open = true;
    this.successes = 0;
    this.timeouts = 0;
    this.errors = new Tally();
    this.rstIn = new Tally();
    this.rstOut = new Tally();
    this.goaways = new Tally();
    this.cuts = new Tally();
    this.windowBytes = 0;
    this.attackStreams = 0;
    this.peerClosed = 0;
    this.opened = 0;
    this.stalled = 0;
    this.stalledResets = new Tally();
    this.trace = sinks.trace;
    this.restartProgress();
  }

  /** The measured window opens at `atMs`: requests sent from then on are measured. */
  openWindow(atMs: number): void {
    this.windowStart = atMs;
    this.windowEnd = Infinity;
    this.sinks?.series?.begin(atMs);
    this.trace?.begin(atMs);
    this.restartProgress();
  }

  /** The window closes at `atMs`: requests sent from then on are not measured; outcomes of earlier ones still are. */
  closeWindow(atMs: number): void {
    this.windowEnd = atMs;
  }

  /** The run is over (drained, or given up): nothing more is recorded. */
  seal(): void {
    this.open = false;
    this.sinks = undefined;
    this.trace = undefined;
  }

  /** Progress counts (outcomes arriving, whatever their window) restart, at each phase. */
  restartProgress(): void {
    this.phaseRequests = 0;
    this.phaseErrors = 0;
  }

  /** Was a request meant to be sent at `intended` sent inside the window (and is the run still recording)? */
  measures(intended: number): boolean {
    return this.open && intended >= this.windowStart && intended < this.windowEnd;
  }

  /**
   * A request answered in full with a non-error status, its last byte read at `endMs`; `endpoint` is the
   * answer's x-sluice-endpoint, which clients read only when tracing.
   */
  success(times: RequestTimes, endMs: number, endpoint?: string): void {
    this.phaseRequests++;
    this.live?.settle(true, undefined, endMs - times.intended);
    if (!this.measures(times.intended)) return;
    this.successes++;
    this.recordLatency(times, endMs, true);
    this.trace?.success(endMs, endMs - times.intended, endpoint);
  }

  /**
   * A request that failed, with its one error class, its outcome known at `endMs`. A `timeout` is recorded at
   * exactly the timeout: its real latency is unknown and longer.
   */
  failure(errorClass: string, times: RequestTimes, endMs: number): void {
    this.phaseRequests++;
    this.phaseErrors++;
    this.live?.settle(false, errorClass, errorClass === TIMEOUT ? this.timeoutMs : endMs - times.intended);
    if (!this.measures(times.intended)) return;
    this.errors.add(errorClass);
    if (errorClass !== TIMEOUT) {
      this.recordLatency(times, endMs, false);
      this.trace?.failure(errorClass, endMs, endMs - times.intended);
      return;
    }
    this.timeouts++;
    // However late the timer fired, the request was given up at its deadline.
    const deadline = times.intended + this.timeoutMs;
    this.recordLatency(times, deadline, false);
    this.trace?.failure(errorClass, deadline, this.timeoutMs);
  }

  /** attack 'rapid-reset': a stream was sent and reset at once; counted (apart from requests) when sent in the window. */
  attackStream(times: RequestTimes): void {
    if (this.measures(times.intended)) this.attackStreams++;
  }

  /** A stream of a request sent at `times` stalled (it never reads its response). */
  stalledStream(times: RequestTimes): void {
    if (this.measures(times.intended)) this.stalled++;
  }

  /** The peer reset a stalled stream with `code` (counted whether or not its request had an outcome). */
  stalledReset(code: number, times: RequestTimes): void {
    if (this.measures(times.intended)) this.stalledResets.add(h2CodeName(code));
  }

  /** A connection was ended by the peer (GOAWAY, or its side of the socket closed); counted as goawayReceived is. */
  connectionClosedByPeer(): void {
    if (this.open && this.windowStart !== Infinity) this.peerClosed++;
  }

  /** A new connection became ready; counted as goawayReceived is. */
  connectionOpened(): void {
    if (this.open && this.windowStart !== Infinity) this.opened++;
  }

  /**
   * A message of a server stream arrived, `latencyMs` after the backend stamped it: kept when its request was
   * sent in the window, as the request itself is.
   */
  streamMessage(times: RequestTimes, latencyMs: number): void {
    if (this.measures(times.intended)) this.sinks?.histograms.messages?.recordMicros(latencyMs * 1000);
  }

  /**
   * The `call`-th call of its connection succeeded: its response's HEADERS arrived at `headersAt`, its end at
   * `endMs`. Timed from the real send (the ramp is about the connection, not the schedule); kept when sent in the window.
   */
  rampCall(call: number, times: RequestTimes, headersAt: number, endMs: number): void {
    if (this.measures(times.intended)) this.sinks?.ramp?.add(call, headersAt - times.sent, endMs - times.sent);
  }

  rstReceived(code: number, times: RequestTimes): void {
    this.live?.rst(h2CodeName(code));
    if (this.measures(times.intended)) this.rstIn.add(h2CodeName(code));
  }

  rstSent(code: number, times: RequestTimes): void {
    if (this.measures(times.intended)) this.rstOut.add(h2CodeName(code));
  }

  /** A GOAWAY arrived now: counted when it arrives between the window's opening and the end of the run. */
  goawayReceived(code: number): void {
    this.live?.goaway(h2CodeName(code));
    if (this.open && this.windowStart !== Infinity) this.goaways.add(h2CodeName(code));
  }

  /**
   * A GOAWAY(code) arrived while `n` streams above its last-stream-id were in flight on that connection: the
   * peer will not process them (they fail, or a client may retry them elsewhere). Called once per GOAWAY.
   */
  goawayStreamsCut(code: number, n: number): void {
    if (this.open && this.windowStart !== Infinity && n > 0) this.cuts.add(h2CodeName(code), n);
  }

  /**
   * Response body bytes arriving at `nowMs`: counted when that falls inside the window. A byte rate needs no
   * request to complete inside the window, so it stays true when responses are large and arrive in bursts longer
   * than the window (where counting whole responses quantizes).
   */
  bodyBytes(bytes: number, nowMs: number): void {
    if (nowMs >= this.windowStart && nowMs < this.windowEnd) this.windowBytes += bytes;
  }

  /** A request was started (for the live count of requests in flight). */
  started(): void {
    this.live?.start();
  }

  /** Outcomes arrived so far in the current phase, for progress ticks. */
  progress(): { requests: number; errors: number } {
    return { requests: this.phaseRequests, errors: this.phaseErrors };
  }

  counts(): RecordedCounts {
    return {
      requests: this.successes + this.errors.total,
      successes: this.successes,
      errors: this.errors.toRecord(),
      timeouts: this.timeouts,
      rst: { received: this.rstIn.toRecord(), sent: this.rstOut.toRecord() },
      rstReceivedTotal: this.rstIn.total,
      goawayReceived: this.goaways.toRecord(),
      goawayStreamsCut: this.cuts.toRecord(),
      bodyBytes: this.windowBytes,
      attackStreams: this.attackStreams,
      connectionsClosedByPeer: this.peerClosed,
      connectionsOpened: this.opened,
      stalledStreams: this.stalled,
      stalledResets: this.stalledResets.toRecord(),
    };
  }

  private recordLatency(times: RequestTimes, endMs: number, ok: boolean): void {
    const sinks = this.sinks;
    if (!sinks) return;
    const us = (endMs - times.intended) * 1000;
    sinks.histograms.record(us, ok);
    sinks.histograms.uncorrected?.recordMicros((endMs - times.sent) * 1000);
    sinks.series?.record(times.intended, us, ok, endMs);
  }
}
