// One load run: warm-up, then the measured window, as one RepResult. The engine only calls back (onTick);
// it never prints. Every connection, timer and WASM histogram it makes is gone when it returns.
import { createGrpcClient } from './clients/grpc.js';
import { createH1Client } from './clients/h1.js';
import { createH2Client } from './clients/h2.js';
import type { ClientFactory } from './clients/client.js';
import { validateLoadOptions } from './options.js';
import { runClosedLoop } from './sequencer/closed-loop.js';
import type { Phase, PhaseTiming } from './sequencer/phase-clock.js';
import { initHistograms, LatencyHistogram } from './statistic/histogram.js';
import { Recorder } from './statistic/recorder.js';
import type { LoadOptions, Protocol, RepResult } from './types.js';

/** A protocol is one client file plus one line here. */
const CLIENTS: Record<Protocol, ClientFactory> = {
  h1: createH1Client,
  h2: createH2Client,
  grpc: createGrpcClient,
};

/** Above this many CPU seconds per measured second the generator, not the target, is the bottleneck. */
export const GENERATOR_SATURATION = 0.9;

export interface LoadTick {
  /** Seconds since the current phase began. */
  elapsedS: number;
  /** Requests settled (successes + errors) so far in this phase. */
  requests: number;
  errors: number;
  phase: 'warmup' | 'measure';
}

export class LoadAbortedError extends Error {
  constructor() {
    super('load run aborted');
    this.name = 'AbortError';
  }
}

/**
 * Runs warm-up then measurement against options.url and returns the measured repetition.
 * `requests` counts every request whose outcome (success or error) was recorded inside the measured window;
 * the latency histogram holds the successes only; rps = requests / measured seconds.
 * Aborting `signal` ends the run early, closes everything and rejects with LoadAbortedError.
 */
export async function runLoad(options: LoadOptions, onTick?: (tick: LoadTick) => void, signal?: AbortSignal): Promise<RepResult> {
  validateLoadOptions(options);
  await initHistograms();
  const histogram = LatencyHistogram.create();
  try {
    const recorder = new Recorder(histogram);
    const client = CLIENTS[options.protocol](options, recorder);
    let cpuAtStart: NodeJS.CpuUsage | undefined;
    let cpuUsed: NodeJS.CpuUsage | undefined;
    let cancelling: Promise<void> = Promise.resolve();
    const onPhase = (phase: Phase): void => {
      if (phase === 'measure') cpuAtStart = process.cpuUsage();
      if (phase === 'done' && cpuAtStart) cpuUsed = process.cpuUsage(cpuAtStart);
      recorder.setPhase(phase);
      // In-flight requests at the deadline are cancelled, not waited for: their outcomes fall outside the window.
      if (phase === 'done' && client.kind === 'request') cancelling = client.close();
    };
    let timing: PhaseTiming;
    try {
      const clock = { warmupMs: options.warmupMs, durationMs: options.durationMs, signal, onPhase };
      timing =
        client.kind === 'request'
          ? await runClosedLoop({
              ...clock,
              concurrency: options.connections * options.streamsPerConnection,
              startRequest: () => client.startRequest(),
              onTick: (t) => onTick?.(t),
            })
          : await client.run({ ...clock, onTick: (t) => onTick?.({ ...t, ...recorder.progress() }) });
    } finally {
      await cancelling;
      await client.close();
    }
    if (timing.aborted && signal?.aborted) throw new LoadAbortedError();
    return toRepResult(options, recorder, histogram, timing, cpuUsed);
  } finally {
    histogram.destroy();
  }
}

function toRepResult(
  options: LoadOptions,
  recorder: Recorder,
  histogram: LatencyHistogram,
  timing: PhaseTiming,
  cpuUsed: NodeJS.CpuUsage | undefined,
): RepResult {
  const counts = recorder.counts();
  const durationS = timing.measuredMs / 1000;
  const cpuS = cpuUsed ? (cpuUsed.user + cpuUsed.system) / 1e6 : 0;
  const generatorCpu = durationS > 0 ? cpuS / durationS : 0;
  return {
    rps: durationS > 0 ? counts.requests / durationS : 0,
    requests: counts.requests,
    durationS,
    latencyMs: histogram.summaryMs(),
    errors: counts.errors,
    rst: counts.rst,
    rstRate: counts.requests > 0 ? counts.rstReceivedTotal / counts.requests : 0,
    generatorSaturated: generatorCpu > GENERATOR_SATURATION,
    generatorCpu,
    histogram: histogram.encode(),
    ...(options.protocol === 'h2' ? { goawayReceived: counts.goawayReceived } : {}),
  };
}
