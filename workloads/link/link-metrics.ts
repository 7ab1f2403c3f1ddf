// The link's Prometheus metrics (prom-client), prefixed sluice_link_, in base units. Everything is read from
// LinkStats at each scrape (no per-chunk cost), except the lateness histogram, observed at each delivery.
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DIRECTIONS, type DirectionName, type LinkStats } from './link-stats.js';
import type { LinkSettings } from './link-model.js';

// Lateness from 50 µs (a precise wake) to 100 ms (a stalled loop).
const LATENESS_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1];

type Read = (stats: LinkStats, direction: DirectionName) => number;

export class LinkMetrics {
  readonly registry = new Registry();
  /** Set by bind(): the stats observe into the metrics, so they are made after them. */
  private stats: LinkStats | undefined;
  private readonly lateness = new Histogram({
    name: 'sluice_link_delivery_lateness_seconds',
    help: 'Real delivery time minus the modelled one, per data chunk, by direction (deliveries held back by the receiving socket left out).',
    labelNames: ['direction'] as const,
    buckets: LATENESS_BUCKETS,
    registers: [this.registry],
  });
  private readonly latenessBy = {
    forward: this.lateness.labels({ direction: 'forward' }),
    reverse: this.lateness.labels({ direction: 'reverse' }),
  };

  constructor(settings: LinkSettings) {
    const registers = [this.registry];
    this.directionCounter('sluice_link_bytes_total', 'Bytes delivered, by direction (forward: client to server; reverse: responses).', (s, d) => s.directions[d].bytes);
    this.directionCounter('sluice_link_chunks_total', 'Data chunks (segments) delivered, by direction.', (s, d) => s.directions[d].chunks);
    this.directionCounter(
      'sluice_link_paused_seconds_total',
      'Seconds senders were paused because their queue was over its limit, summed over connections, by direction.',
      (s, d) => s.directions[d].pausedMs(performance.now()) / 1000,
    );
    this.counter('sluice_link_connections_total', 'Connections accepted.', (s) => s.connectionsTotal);
    this.counter('sluice_link_connect_failures_total', 'Connects to a --to address that failed (the client was reset).', (s) => s.connectFailures);
    this.counter('sluice_link_resets_total', 'Resets carried across the link, either way.', (s) => s.resets);
    const read = (): LinkStats | undefined => this.stats;
    new Gauge({
      name: 'sluice_link_queue_bytes',
      help: 'Bytes arrived and not yet delivered (waiting to depart or in flight), summed over connections, by direction.',
      labelNames: ['direction'] as const,
      registers,
      collect() {
        for (const direction of DIRECTIONS) this.set({ direction }, read()?.directions[direction].queuedBytes ?? 0);
      },
    });
    new Gauge({
      name: 'sluice_link_connections',
      help: 'Relayed connections open now.',
      registers,
      collect() {
        this.set(read()?.connectionsOpen ?? 0);
      },
    });
    new Gauge({
      name: 'sluice_link_saturated',
      help: '1 when the link cannot keep its schedule (the reason is in /stats), else 0.',
      registers,
      collect() {
        this.set(read()?.saturation().saturated ? 1 : 0);
      },
    });
    const setting = (name: string, help: string, value: number): void => new Gauge({ name, help, registers }).set(value);
    setting('sluice_link_rtt_seconds', 'The emulated round trip.', settings.rttMs / 1000);
    setting('sluice_link_jitter_seconds', 'The jitter (+-) on each delivery.', settings.jitterMs / 1000);
    setting('sluice_link_bandwidth_bytes_per_second', 'Bandwidth per direction of each connection; 0 = unlimited.', settings.bandwidthBps / 8);
    setting('sluice_link_queue_limit_bytes', 'Bytes one direction of a connection may hold before its sender is paused.', settings.queueLimitBytes);
    // Not prom-client's default metrics: their event-loop monitor wakes the loop every 10 ms, which costs an
    // idle link ~1% of a core here and perturbs the timing being measured.
    let cpuReported = 0;
    new Counter({
      name: 'sluice_link_process_cpu_seconds_total',
      help: 'CPU seconds (user + system, every thread) the link process has used.',
      registers,
      collect() {
        const { user, system } = process.cpuUsage();
        const seconds = (user + system) / 1e6;
        this.inc(seconds - cpuReported);
        cpuReported = seconds;
      },
    });
    new Gauge({
      name: 'sluice_link_process_resident_memory_bytes',
      help: 'Resident set size of the link process.',
      registers,
      collect() {
        this.set(process.memoryUsage.rss());
      },
    });
  }

  bind(stats: LinkStats): void {
    this.stats = stats;
  }

  /** Hand to LinkStats: observes one delivery's lateness. */
  readonly observeLateness = (direction: DirectionName, ms: number): void => this.latenessBy[direction].observe(ms / 1000);

  /** A counter that follows a total kept in LinkStats, by the difference since the last scrape. */
  private counter(name: string, help: string, total: (stats: LinkStats) => number): void {
    const read = (): LinkStats | undefined => this.stats;
    let reported = 0;
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        const stats = read();
        if (!stats) return;
        const now = total(stats);
        if (now > reported) this.inc(now - reported);
        reported = now;
      },
    });
  }

  private directionCounter(name: string, help: string, total: Read): void {
    const read = (): LinkStats | undefined => this.stats;
    const reported: Record<DirectionName, number> = { forward: 0, reverse: 0 };
    const counter = new Counter({
      name,
      help,
      labelNames: ['direction'] as const,
      registers: [this.registry],
      collect() {
        const stats = read();
        if (!stats) return;
        for (const direction of DIRECTIONS) {
          const now = total(stats, direction);
          if (now > reported[direction]) this.inc({ direction }, now - reported[direction]);
          reported[direction] = now;
        }
      },
    });
    // Both series exist from the start, at 0, so a rate() over the first scrapes sees them.
    for (const direction of DIRECTIONS) counter.inc({ direction }, 0);
  }
}
