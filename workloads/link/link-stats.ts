// What the link has done, summed over every connection: per-direction totals, delivery lateness (the real
// delivery minus the modelled one), connections, CPU, and the saturation rule that says when the numbers of a
// run describe the link's limits rather than the emulated network. Read by /stats and /metrics.
import type { Histogram } from 'hdr-histogram-js';
// The builder's own file, not the index, which also starts Intl for its log writer (~30 ms of CPU at start-up).
import { build } from 'hdr-histogram-js/dist/HistogramBuilder.js';

export const DIRECTIONS = ['forward', 'reverse'] as const;
export type DirectionName = (typeof DIRECTIONS)[number];

/** The saturation rule's thresholds (documented in workloads/link/README.md). */
export const SATURATION = {
  /**
   * One delivery in ten later than the model by more than this... (not the 99th percentile: on this shared
   * 2-core VM a process woken at a precise time misses it by 1-2 ms at p99 even when it does nothing else, so
   * a p99 rule would flag every run; the p99 is in /stats for whoever needs the tail.)
   */
  latenessP90Ms: 1,
  /** ...over at least this many deliveries (a handful of late ones at start say little). */
  minDeliveries: 100,
  /** Or a one-second window in which the process used this share of a core: its reading falls behind. */
  cpuShare: 0.9,
} as const;

const HIGHEST_US = 60_000_000;

export interface LatenessSummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

/** One direction over all connections. */
export class DirectionTotals {
  bytes = 0;
  chunks = 0;
  /** Bytes queued now, over all connections. */
  queuedBytes = 0;
  /** The most one connection's direction has held at once. */
  maxQueuedBytes = 0;
  pauses = 0;
  /** Deliveries held by the receiving socket's backpressure (not the link's lateness). */
  heldByReceiver = 0;
  private pausedNow = 0;
  private pausedMsSum = 0;
  private pausedSinceChangeMs = 0;
  private readonly lateness = newLatenessHistogram();

  constructor(private readonly onLateness?: (ms: number) => void) {}

  queued(deltaBytes: number, connectionQueuedBytes: number): void {
    this.queuedBytes += deltaBytes;
    if (connectionQueuedBytes > this.maxQueuedBytes) this.maxQueuedBytes = connectionQueuedBytes;
  }

  /** A chunk of data reached the far side `latenessMs` after its modelled time (undefined: held by the receiver). */
  delivered(bytes: number, latenessMs: number | undefined): void {
    this.bytes += bytes;
    this.chunks++;
    if (latenessMs === undefined) {
      this.heldByReceiver++;
      return;
    }
    const ms = Math.max(0, latenessMs);
    this.lateness.recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round(ms * 1000))));
    this.onLateness?.(ms);
  }

  /** Sum over connections of the time their sending side was paused (`delta` +1 paused, -1 resumed). */
  paused(delta: 1 | -1, nowMs: number): void {
    this.pausedMs(nowMs);
    this.pausedNow += delta;
    if (delta > 0) this.pauses++;
  }

  pausedMs(nowMs: number): number {
    this.pausedMsSum += this.pausedNow * (nowMs - this.pausedSinceChangeMs);
    this.pausedSinceChangeMs = nowMs;
    return this.pausedMsSum;
  }

  latenessSummary(): LatenessSummary {
    const h = this.lateness;
    const ms = (us: number): number => Math.round(us) / 1000;
    if (h.totalCount === 0) return { count: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0 };
    return {
      count: h.totalCount,
      p50Ms: ms(h.getValueAtPercentile(50)),
      p90Ms: ms(h.getValueAtPercentile(90)),
      p99Ms: ms(h.getValueAtPercentile(99)),
      maxMs: ms(h.maxValue),
      meanMs: ms(h.mean),
    };
  }

  /** Both directions' lateness together, for the saturation rule. */
  static mergedLateness(a: DirectionTotals, b: DirectionTotals): { count: number; p90Ms: number } {
    const both = newLatenessHistogram();
    both.add(a.lateness);
    both.add(b.lateness);
    const merged = { count: both.totalCount, p90Ms: Math.round(both.getValueAtPercentile(90)) / 1000 };
    both.destroy();
    return merged;
  }
}

/** Lateness in µs, 1 µs .. 60 s at 3 significant digits (plain JS: nothing to free, no WebAssembly to load). */
function newLatenessHistogram(): Histogram {
  return build({ useWebAssembly: false, lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3 });
}

export interface DirectionSnapshot {
  bytes: number;
  chunks: number;
  queuedBytes: number;
  maxQueuedBytes: number;
  pauses: number;
  pausedS: number;
  heldByReceiver: number;
  lateness: LatenessSummary;
}

export interface ConnectionsSnapshot {
  open: number;
  total: number;
  connectFailures: number;
  resets: number;
}

export interface Saturation {
  saturated: boolean;
  reason: string | null;
}

export class LinkStats {
  readonly directions: Record<DirectionName, DirectionTotals>;
  connectionsOpen = 0;
  connectionsTotal = 0;
  /** Upstream connects refused or failed (each answered with a reset to the client). */
  connectFailures = 0;
  /** Resets carried across the link, either way. */
  resets = 0;
  /** CPU share of the busiest one-second window, and how many windows were at or above SATURATION.cpuShare. */
  busiestCpuShare = 0;
  busyWindows = 0;
  private lastCpu: { atMs: number; cpuUs: number } | undefined;

  constructor(onLateness?: (direction: DirectionName, ms: number) => void) {
    this.directions = {
      forward: new DirectionTotals(onLateness && ((ms) => onLateness('forward', ms))),
      reverse: new DirectionTotals(onLateness && ((ms) => onLateness('reverse', ms))),
    };
  }

  /** Called about once a second with the process's CPU time (user + system, µs). */
  sampleCpu(nowMs: number, cpuUs: number): void {
    const last = this.lastCpu;
    this.lastCpu = { atMs: nowMs, cpuUs };
    if (!last || nowMs - last.atMs < 500) return;
    const share = (cpuUs - last.cpuUs) / 1000 / (nowMs - last.atMs);
    this.busiestCpuShare = Math.max(this.busiestCpuShare, share);
    if (share >= SATURATION.cpuShare) this.busyWindows++;
  }

  /** The per-direction totals and connections, as /stats shows them. */
  snapshot(nowMs: number): { directions: Record<DirectionName, DirectionSnapshot>; connections: ConnectionsSnapshot } {
    const direction = (d: DirectionTotals): DirectionSnapshot => ({
      bytes: d.bytes,
      chunks: d.chunks,
      queuedBytes: d.queuedBytes,
      maxQueuedBytes: d.maxQueuedBytes,
      pauses: d.pauses,
      pausedS: Math.round(d.pausedMs(nowMs)) / 1000,
      heldByReceiver: d.heldByReceiver,
      lateness: d.latenessSummary(),
    });
    return {
      directions: { forward: direction(this.directions.forward), reverse: direction(this.directions.reverse) },
      connections: { open: this.connectionsOpen, total: this.connectionsTotal, connectFailures: this.connectFailures, resets: this.resets },
    };
  }

  /**
   * The rule, over the process's life: deliveries late beyond the threshold, or the process at a full core (see
   * SATURATION). A shortfall in throughput shows as lateness: departures are modelled at exactly the bandwidth,
   * so a link delivering 10% under it while backlogged falls 100 ms behind its schedule every second.
   */
  saturation(): Saturation {
    const late = DirectionTotals.mergedLateness(this.directions.forward, this.directions.reverse);
    if (late.count >= SATURATION.minDeliveries && late.p90Ms > SATURATION.latenessP90Ms) {
      return {
        saturated: true,
        reason: `delivery lateness p90 ${late.p90Ms} ms > ${SATURATION.latenessP90Ms} ms over ${late.count} deliveries: the link does not keep its own schedule`,
      };
    }
    if (this.busyWindows > 0) {
      return {
        saturated: true,
        reason: `${this.busyWindows} one-second window(s) at >= ${SATURATION.cpuShare} of a core (busiest ${this.busiestCpuShare.toFixed(2)}): the link reads slower than it is sent to`,
      };
    }
    return { saturated: false, reason: null };
  }
}
