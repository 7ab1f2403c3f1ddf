// One worker's share of a load session, in the thread that calls it: one client whose connections are opened
// once (connect time measured apart) and then carry every run of the session (the warm-up and each
// repetition), so no measured window pays a cold start. A run is the sequencer (closed or open loop) with the
// recorder and its histograms, and ends with a drain: the requests sent in the window all get their outcome.
// Its result is plain data (encoded histograms and counts), so it crosses from a worker thread by
// postMessage, and worker/merge.ts turns any number of them into one RepResult.
import { performance } from 'node:perf_hooks';
import type { ClientFactory, LoadClient } from '../clients/client.js';
import { LoadOptionsError } from '../options.js';
import { isEmptyDelta, LiveTally, type LiveDelta } from '../statistic/live.js';
import { runClosedLoop, type LoopTick, type LoopTiming } from '../sequencer/closed-loop.js';
import { runOpenLoop } from '../sequencer/open-loop.js';
import type { Phase } from '../sequencer/phase-clock.js';
import { LinearRateLimiter } from '../sequencer/rate.js';
import { GeneratorLoad, type GeneratorLoadReading } from '../statistic/generator-load.js';
import { initHistograms, LatencyHistogram } from '../statistic/histogram.js';
import { OutcomeHistograms, type EncodedOutcomeHistograms } from '../statistic/outcome-histograms.js';
import { Ramp, type RampSums } from '../statistic/ramp.js';
import { Recorder, type RecordedCounts } from '../statistic/recorder.js';
import { TimeSeries, type SecondSample } from '../statistic/time-series.js';
import { Trace, type TraceBucket } from '../statistic/trace.js';
import { isServerStreaming } from '../payload.js';
import type { Share } from './split.js';

/** One run of a session: warm-up (not recorded) then the measured window. */
export interface RunPlan {
  warmupMs: number;
  durationMs: number;
  /**
   * Closed loop: the warm-up also lasts until every request slot has turned over once (at most a timeout more),
   * so the window opens on a pipeline in its steady state. Default: when warmupMs > 0. A run without a warm-up
   * measures from a cold, empty pipeline on purpose (a connection's first calls: the ramp).
   */
  turnover?: boolean;
}

/** How the session's connections were opened. */
export interface SessionSetup {
  /** From the first connect to the last connection ready (or failed). */
  connectMs: number;
  connections: number;
  /** Connections that were ready to carry requests before the first run. */
  ready: number;
}

export interface ShareResult {
  timing: LoopTiming;
  counts: RecordedCounts;
  histograms: EncodedOutcomeHistograms;
  /** The whole seconds of the measured window. */
  seconds: SecondSample[];
  load: GeneratorLoadReading;
  /** The first calls of each connection sent in the window (absent when none was, or the client keeps no ramp). */
  ramp?: RampSums;
  /** LoadOptions.trace: outcomes by arrival, from the window's opening to the end of this share's drain. */
  trace?: TraceBucket[];
  /** Open loop only: this share's schedule and how it was kept. */
  openLoop?: {
    targetRps: number;
    due: number;
    sent: number;
    capped: number;
    /** Send lag (real minus intended send time) of the sent requests, encoded (µs). */
    lag: string;
  };
}

export interface ShareHooks {
  onTick?: (tick: LoopTick) => void;
  /** Every outcome since the last call, whatever its window (live /metrics): at each tick and at the run's end. */
  onLive?: (delta: LiveDelta) => void;
  /** The window opened ('measure') or closed ('done'); then the drain follows. */
  onPhase?: (phase: 'measure' | 'done') => void;
  signal?: AbortSignal;
}

/**
 * The open loop's safety cap on requests in flight: twice what the rate keeps in flight if every request ran
 * to its timeout (latency and timeout run from the intended start, so that is the most a healthy run holds).
 */
export function inFlightCap(rate: number, timeoutMs: number): number {
  return Math.max(64, Math.ceil((2 * rate * timeoutMs) / 1000));
}

/** A drain lasts at most the timeout; past this much more, the client is closed so the run cannot hang. */
const DRAIN_GRACE_MS = 2000;

export class ShareSession {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly share: Share,
    private readonly client: LoadClient,
    private readonly recorder: Recorder,
    private readonly live: LiveTally,
    readonly setup: SessionSetup,
  ) {}

  /** Creates the client and opens its connections. */
  static async open(share: Share, createClient: ClientFactory): Promise<ShareSession> {
    const { options } = share;
    await initHistograms();
    const live = new LiveTally();
    const recorder = new Recorder(options.timeoutMs, live);
    const client = createClient(options, recorder);
    if (options.rate !== undefined && client.kind !== 'request') {
      await client.close();
      throw new LoadOptionsError('rate', options.rate, `supported by the ${options.protocol} client (it drives its own loop)`);
    }
    const started = performance.now();
    // A driving client (autocannon) opens its connections at each run: it cannot keep them.
    const ready = client.kind === 'request' ? await client.connect() : 0;
    const setup = { connectMs: performance.now() - started, connections: options.connections, ready };
    return new ShareSession(share, client, recorder, live, setup);
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** One run on the session's connections. Aborting ends it early and closes the session. */
  async run(plan: RunPlan, hooks: ShareHooks = {}): Promise<ShareResult> {
    if (this.closing) throw new Error('the load session is closed');
    const { options } = this.share;
    const { client, recorder } = this;
    const rate = options.rate;
    const histograms = new OutcomeHistograms(rate !== undefined, isServerStreaming(options));
    const ramp = new Ramp();
    const series = new TimeSeries(options.timeoutMs);
    const trace = options.trace ? new Trace(options.trace.bucketMs) : undefined;
    const lag = rate !== undefined ? LatencyHistogram.create() : undefined;
    const load = new GeneratorLoad();
    let drainGuard: NodeJS.Timeout | undefined;
    try {
      recorder.feedLive(hooks.onLive !== undefined);
      recorder.startRun({ histograms, series, ramp, ...(trace ? { trace } : {}) });
      const onPhase = (phase: Phase, atMs: number): void => {
        load.onPhase(phase);
        recorder.restartProgress();
        if (phase === 'measure') recorder.openWindow(atMs);
        if (phase === 'done') {
          recorder.closeWindow(atMs);
          // Ctrl-C cancels what is in flight at once; otherwise the drain is bounded by the requests' deadlines.
          if (hooks.signal?.aborted) void this.close();
          else drainGuard = setTimeout(() => void this.close(), options.timeoutMs + DRAIN_GRACE_MS);
        }
        if (phase !== 'warmup') hooks.onPhase?.(phase);
      };
      const clock = { warmupMs: plan.warmupMs, durationMs: plan.durationMs, signal: hooks.signal, onPhase };
      const onTick = (t: LoopTick): void => {
        hooks.onTick?.(t);
        this.tellLive(hooks);
      };
      let timing: LoopTiming;
      let open: ShareResult['openLoop'];
      let pacerIdleMs = 0;
      if (client.kind === 'driver') {
        const t = await client.run({ ...clock, onTick: (tick) => onTick({ ...tick, ...recorder.progress() }) });
        timing = { ...t, drainMs: 0 };
      } else if (rate !== undefined) {
        const result = await runOpenLoop({
          ...clock,
          limiter: (startMs) => new LinearRateLimiter(rate, startMs + this.share.offsetMs),
          maxInFlight: inFlightCap(rate, options.timeoutMs),
          startRequest: (intendedStart) => {
            recorder.started();
            return client.startRequest(intendedStart);
          },
          ...(lag ? { lag } : {}),
          onTick,
        });
        const { due, sent, capped, pacerIdleMs: idle, ...rest } = result;
        timing = rest;
        pacerIdleMs = idle;
        open = { targetRps: rate, due, sent, capped, lag: lag!.encode() };
      } else {
        timing = await runClosedLoop({
          ...clock,
          concurrency: options.connections * options.streamsPerConnection,
          startRequest: () => {
            recorder.started();
            return client.startRequest();
          },
          // The pooled clients' path without a promise per request.
          ...(client.startRequestWith
            ? {
                startRequestWith: (resolve: () => void, reject: (err: Error) => void) => {
                  recorder.started();
                  client.startRequestWith!(resolve, reject);
                },
              }
            : {}),
          // Every request settles by its deadline, so the pipeline turns over within a timeout.
          ...((plan.turnover ?? plan.warmupMs > 0) ? { turnoverMaxMs: options.timeoutMs } : {}),
          onTick,
        });
      }
      recorder.seal();
      // The drain is over: the trace runs to here.
      const traced = trace?.finish(performance.now());
      const rampSums = ramp.result();
      return {
        timing,
        counts: recorder.counts(),
        histograms: histograms.encode(),
        seconds: series.finish(timing.measuredMs),
        load: load.reading(timing.measuredMs, pacerIdleMs),
        ...(rampSums ? { ramp: rampSums } : {}),
        ...(open ? { openLoop: open } : {}),
        ...(traced ? { trace: traced } : {}),
      };
    } finally {
      clearTimeout(drainGuard);
      recorder.seal();
      this.tellLive(hooks);
      histograms.destroy();
      series.destroy();
      lag?.destroy();
      // A driving client runs its own connections per run; it is done with them.
      if (client.kind === 'driver') await client.close();
    }
  }

  private tellLive(hooks: ShareHooks): void {
    if (!hooks.onLive) return;
    const delta = this.live.take();
    if (!isEmptyDelta(delta)) hooks.onLive(delta);
  }

  /** Cancels what is in flight and closes every connection. Idempotent. */
  close(): Promise<void> {
    return (this.closing ??= this.client.close());
  }
}

/** One whole session: connect, one run (options.warmupMs then options.durationMs), close. */
export async function runShare(share: Share, createClient: ClientFactory, hooks: ShareHooks = {}): Promise<ShareResult> {
  const session = await ShareSession.open(share, createClient);
  try {
    return await session.run({ warmupMs: share.options.warmupMs, durationMs: share.options.durationMs }, hooks);
  } finally {
    await session.close();
  }
}
