// Many shares' results into one RepResult. Histograms merge exactly, by their encoded form (a merged
// histogram is the histogram of all the values), per run and per second; counts add up.
import { onWireFraming, streamsPerConnection } from '../protocols.js';
import { GENERATOR_SATURATION } from '../statistic/generator-load.js';
import { mergeEncoded, mergeEncodedSummary } from '../statistic/histogram.js';
import { lowerBoundPercentiles } from '../statistic/outcome-histograms.js';
import { mergeRamps } from '../statistic/ramp.js';
import { mergeTraces } from '../statistic/trace.js';
import type { LoadOptions, RepResult } from '../types.js';
import type { SessionSetup, ShareResult } from './share.js';

/** An open loop is behind when it sent less than this share of the requests that fell due... */
export const MIN_SENT_SHARE = 0.95;
/** ...or when its sends left this much later than scheduled, at P99. */
export const MAX_LAG_P99_MS = 10;

export async function mergeShares(options: LoadOptions, shares: readonly ShareResult[], setups?: readonly SessionSetup[]): Promise<RepResult> {
  if (shares.length === 0) throw new RangeError('no share to merge');
  const counts = shares.map((s) => s.counts);
  const requests = sum(counts.map((c) => c.requests));
  const successes = sum(counts.map((c) => c.successes));
  const timeouts = sum(counts.map((c) => c.timeouts));
  const durationS = sum(shares.map((s) => s.timing.measuredMs)) / shares.length / 1000;
  const all = await mergeEncodedSummary(shares.map((s) => s.histograms.all));
  const success = await mergeEncodedSummary(shares.map((s) => s.histograms.success));
  const uncorrected = shares.every((s) => s.histograms.uncorrected !== undefined)
    ? await mergeEncodedSummary(shares.map((s) => s.histograms.uncorrected!))
    : undefined;
  const generatorCpu = sum(shares.map((s) => s.load.cpuPerS)) / shares.length;
  const pacerCpu = sum(shares.map((s) => s.load.pacerPerS)) / shares.length;
  const workers = shares.map((s) => ({ elu: s.load.elu, requests: s.counts.requests }));
  const rstReceived = sum(counts.map((c) => c.rstReceivedTotal));
  const goawayReceived = addRecords(counts.map((c) => c.goawayReceived));
  const goawayStreamsCut = addRecords(counts.map((c) => c.goawayStreamsCut));
  // Only h2 clients see GOAWAY frames (grpc-js hides them); another client that reports them gets them shown.
  const h2Only = (record: Record<string, number>): boolean => options.protocol === 'h2' || Object.keys(record).length > 0;
  const openLoop = await mergeOpenLoop(options, shares, durationS, pacerCpu);
  const per = (n: number): number => (durationS > 0 ? n / durationS : 0);
  const littlesLaw = options.rate === undefined && requests > 0 ? littles(options, per(requests), all.latencyMs.mean) : undefined;
  const messages = shares.every((s) => s.histograms.messages !== undefined)
    ? await mergeEncodedSummary(shares.map((s) => s.histograms.messages!))
    : undefined;
  const ramp = mergeRamps(shares.flatMap((s) => (s.ramp ? [s.ramp] : [])));
  const connections = { closedByPeer: sum(counts.map((c) => c.connectionsClosedByPeer)), opened: sum(counts.map((c) => c.connectionsOpened)) };
  // Only the wire clients count their connections' ends and reconnections.
  const wire = onWireFraming(options);
  return {
    rps: per(successes),
    completedRps: per(requests),
    requests,
    successes,
    errorRate: requests > 0 ? (requests - successes) / requests : 0,
    ...(options.protocol === 'grpc' && options.client === 'lib' ? {} : { bodyBytesPerS: per(sum(counts.map((c) => c.bodyBytes))) }),
    durationS,
    latencyMs: all.latencyMs,
    latencyLowerBounds: lowerBoundPercentiles(all.latencyMs, timeouts, options.timeoutMs),
    successLatencyMs: success.latencyMs,
    errors: addRecords(counts.map((c) => c.errors)),
    rst: { received: addRecords(counts.map((c) => c.rst.received)), sent: addRecords(counts.map((c) => c.rst.sent)) },
    rstRate: requests > 0 ? rstReceived / requests : 0,
    drainMs: Math.max(...shares.map((s) => s.timing.drainMs)),
    ...(setups ? { connect: mergeSetups(setups) } : {}),
    // The process's CPU is every thread's: per worker it can only be the share of it; the pacer's polling is no load.
    generatorSaturated:
      workers.some((w) => w.elu > GENERATOR_SATURATION) || (generatorCpu - pacerCpu) / shares.length > GENERATOR_SATURATION,
    generatorCpu,
    histogram: all.histogram,
    successHistogram: success.histogram,
    ...(h2Only(goawayReceived) ? { goawayReceived } : {}),
    ...(h2Only(goawayStreamsCut) ? { goawayStreamsCut } : {}),
    timeSeries: await mergeSeconds(shares, durationS),
    ...(openLoop ? { openLoop } : {}),
    ...(uncorrected ? { uncorrectedLatencyMs: uncorrected.latencyMs, uncorrectedHistogram: uncorrected.histogram } : {}),
    ...(littlesLaw ? { littlesLaw } : {}),
    workers,
    generator: 'sluice',
    ...(messages
      ? { streaming: { messages: messages.count, messagesPerS: per(messages.count), messageLatencyMs: messages.latencyMs, messageHistogram: messages.histogram } }
      : {}),
    ...(ramp ? { ramp } : {}),
    ...(options.trace ? { trace: { bucketMs: options.trace.bucketMs, buckets: mergeTraces(options.trace.bucketMs, shares.map((s) => s.trace ?? [])) } } : {}),
    ...(options.attack === 'rapid-reset'
      ? {
          attack: {
            kind: 'rapid-reset' as const,
            streams: sum(counts.map((c) => c.attackStreams)),
            goaway: goawayReceived,
            connectionsClosed: connections.closedByPeer,
            reconnects: connections.opened,
          },
        }
      : {}),
    ...(wire ? { connections } : {}),
    ...((options.stallStreams ?? 0) > 0
      ? { stalled: { streams: sum(counts.map((c) => c.stalledStreams)), resetByPeer: addRecords(counts.map((c) => c.stalledResets)) } }
      : {}),
  };
}

/** A ratio outside this band says the window did not see a steady state (see RepResult.littlesLaw). */
export const LITTLES_LAW_BAND: readonly [number, number] = [0.75, 1.25];

/** Closed loop: in flight = throughput x latency, against the concurrency the loop kept. */
function littles(options: LoadOptions, completedRps: number, meanLatencyMs: number): NonNullable<RepResult['littlesLaw']> {
  const concurrency = options.connections * streamsPerConnection(options.protocol, options.streamsPerConnection);
  const estimate = completedRps * (meanLatencyMs / 1000);
  return { concurrency, estimate, ratio: estimate / concurrency };
}

/** The session's connections over all workers: set up together, so the slowest one's time. */
export function mergeSetups(setups: readonly SessionSetup[]): NonNullable<RepResult['connect']> {
  return {
    ms: Math.max(...setups.map((s) => s.connectMs)),
    connections: sum(setups.map((s) => s.connections)),
    ready: sum(setups.map((s) => s.ready)),
  };
}

/** Per whole second of the window (the seconds every share measured): successes, errors and the merged P99. */
async function mergeSeconds(shares: readonly ShareResult[], durationS: number): Promise<NonNullable<RepResult['timeSeries']>> {
  const seconds = Math.min(...shares.map((s) => s.seconds.length));
  const series: NonNullable<RepResult['timeSeries']> = [];
  for (let t = 0; t < seconds; t++) {
    const samples = shares.map((s) => s.seconds[t]!);
    const encoded = samples.flatMap((s) => (s.histogram ? [s.histogram] : []));
    let p99Ms = 0;
    if (encoded.length > 0) {
      const merged = await mergeEncoded(encoded);
      p99Ms = merged.percentileMicros(99) / 1000;
      merged.destroy();
    }
    // The last whole second may be a few ms short (a window timer firing early): rps is per its real length.
    const lengthS = Math.min(1, durationS - t);
    series.push({ t, rps: sum(samples.map((s) => s.successes)) / lengthS, p99Ms, errors: sum(samples.map((s) => s.errors)) });
  }
  return series;
}

async function mergeOpenLoop(options: LoadOptions, shares: readonly ShareResult[], durationS: number, pacerCpu: number): Promise<RepResult['openLoop']> {
  const open = shares.flatMap((s) => (s.openLoop ? [s.openLoop] : []));
  if (open.length === 0) return undefined;
  const due = sum(open.map((o) => o.due));
  const sent = sum(open.map((o) => o.sent));
  const capped = sum(open.map((o) => o.capped));
  const lag = await mergeEncoded(open.map((o) => o.lag));
  try {
    const summary = lag.summaryMs();
    const behind = sent < MIN_SENT_SHARE * due || summary.p99 > MAX_LAG_P99_MS || capped > 0;
    return {
      targetRps: options.rate ?? sum(open.map((o) => o.targetRps)),
      sentRps: durationS > 0 ? sent / durationS : 0,
      lagP50Ms: summary.p50,
      lagP99Ms: summary.p99,
      maxLagMs: summary.max,
      meanLagMs: summary.mean,
      behind,
      due,
      sent,
      capped,
      pacerCpu,
    };
  } finally {
    lag.destroy();
  }
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Adds count records key by key, keys sorted (the shape of RepResult.errors and rst). */
export function addRecords(records: readonly Record<string, number>[]): Record<string, number> {
  const total = new Map<string, number>();
  for (const record of records) for (const [key, n] of Object.entries(record)) total.set(key, (total.get(key) ?? 0) + n);
  return Object.fromEntries([...total].sort(([a], [b]) => a.localeCompare(b)));
}
