// One worker's share of a run, in the thread that calls it: the client, the sequencer (closed or open loop),
// the recorder and its histograms. Its result is plain data (encoded histograms and counts), so it crosses
// from a worker thread by postMessage, and worker/merge.ts turns any number of them into one RepResult.
// Every connection, timer and WASM histogram it makes is gone when it returns.
import type { ClientFactory } from '../clients/client.js';
import { LoadOptionsError } from '../options.js';
import { runClosedLoop, type LoopTick } from '../sequencer/closed-loop.js';
import { runOpenLoop } from '../sequencer/open-loop.js';
import type { Phase, PhaseTiming } from '../sequencer/phase-clock.js';
import { LinearRateLimiter } from '../sequencer/rate.js';
import { GeneratorLoad, type GeneratorLoadReading } from '../statistic/generator-load.js';
import { initHistograms, LatencyHistogram } from '../statistic/histogram.js';
import { Recorder, type RecordedCounts } from '../statistic/recorder.js';
import { TimeSeries, type SecondSample } from '../statistic/time-series.js';
import type { Share } from './split.js';

export interface ShareResult {
  timing: PhaseTiming;
  counts: RecordedCounts;
  /** Successes' latencies, encoded (LatencyHistogram). */
  histogram: string;
  /** The whole seconds of the measured window. */
  seconds: SecondSample[];
  load: GeneratorLoadReading;
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
  signal?: AbortSignal;
  /** Awaited once everything is set up, just before the clock starts (workers start together). */
  ready?: () => Promise<void>;
}

/**
 * The open loop's safety cap on requests in flight: twice what the rate keeps in flight if every request ran
 * to its timeout (latency and timeout run from the intended start, so that is the most a healthy run holds).
 */
export function inFlightCap(rate: number, timeoutMs: number): number {
  return Math.max(64, Math.ceil((2 * rate * timeoutMs) / 1000));
}

export async function runShare(share: Share, createClient: ClientFactory, hooks: ShareHooks = {}): Promise<ShareResult> {
  const { options } = share;
  const rate = options.rate;
  await initHistograms();
  const histogram = LatencyHistogram.create();
  const series = new TimeSeries();
  const lag = rate !== undefined ? LatencyHistogram.create() : undefined;
  try {
    const recorder = new Recorder(histogram, series);
    const client = createClient(options, recorder);
    if (rate !== undefined && client.kind !== 'request') {
      await client.close();
      throw new LoadOptionsError('rate', rate, `supported by the ${options.protocol} client (it drives its own loop)`);
    }
    const load = new GeneratorLoad();
    let cancelling: Promise<void> = Promise.resolve();
    const onPhase = (phase: Phase): void => {
      load.onPhase(phase);
      recorder.setPhase(phase);
      // In-flight requests at the deadline are cancelled, not waited for: their outcomes fall outside the window.
      if (phase === 'done' && client.kind === 'request') cancelling = client.close();
    };
    let timing: PhaseTiming;
    let open: ShareResult['openLoop'];
    try {
      await hooks.ready?.();
      const clock = { warmupMs: options.warmupMs, durationMs: options.durationMs, signal: hooks.signal, onPhase };
      const onTick = (t: LoopTick): void => hooks.onTick?.(t);
      if (client.kind === 'driver') {
        timing = await client.run({ ...clock, onTick: (t) => onTick({ ...t, ...recorder.progress() }) });
      } else if (rate !== undefined) {
        const result = await runOpenLoop({
          ...clock,
          limiter: (startMs) => new LinearRateLimiter(rate, startMs + share.offsetMs),
          maxInFlight: inFlightCap(rate, options.timeoutMs),
          startRequest: (intendedStart) => client.startRequest(intendedStart),
          ...(lag ? { lag } : {}),
          onTick,
        });
        const { due, sent, capped, ...rest } = result;
        timing = rest;
        open = { targetRps: rate, due, sent, capped, lag: lag!.encode() };
      } else {
        timing = await runClosedLoop({
          ...clock,
          concurrency: options.connections * options.streamsPerConnection,
          startRequest: () => client.startRequest(),
          onTick,
        });
      }
    } finally {
      await cancelling;
      await client.close();
    }
    return {
      timing,
      counts: recorder.counts(),
      histogram: histogram.encode(),
      seconds: series.finish(timing.measuredMs),
      load: load.reading(timing.measuredMs),
      ...(open ? { openLoop: open } : {}),
    };
  } finally {
    histogram.destroy();
    series.destroy();
    lag?.destroy();
  }
}
