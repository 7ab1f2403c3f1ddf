// What /metrics says of fail-fast and load shedding (layers/queue.ts, layers/fail-fast.ts): the gate's state and
// time in it, the queue's length, the requests shed. Registered on the proxy's registry by ProxyMetrics.
import { Counter, Gauge, type Registry } from 'prom-client';
import { CellCounter, type CounterCell } from '../metrics-cells.js';

export class QueueMetrics {
  readonly queueLength: Gauge;
  /** Counted on every request answered 503 in fail-fast: in cells, read at the scrape (metrics-cells.ts). */
  readonly shed: { inc(labels: { reason: string }): void };
  private readonly failfast: Gauge;
  private readonly failfastSeconds: Counter;
  /** Up to when (now(), ms) the running fail-fast period is in failfastSeconds; undefined when not failing. */
  private failingCountedTo: number | undefined;

  /** `now`: a monotonic clock in ms (tests inject a fake one to time fail-fast). */
  constructor(
    registry: Registry,
    private readonly now: () => number,
  ) {
    const registers = [registry];
    this.failfast = new Gauge({
      name: 'sluice_proxy_failfast',
      help: '1 while in fail-fast (no ready endpoint for --failfast: every request is answered 503 at once), else 0.',
      registers,
    });
    // A harness reads the time of a repetition as the counter's increase, so a period still running at the scrape
    // is counted up to the scrape, not only when it ends.
    const countFailing = (): void => this.countFailing();
    this.failfastSeconds = new Counter({
      name: 'sluice_proxy_failfast_seconds_total',
      help: 'Seconds spent in fail-fast (see sluice_proxy_failfast), a period still running counted up to the scrape.',
      registers,
      collect: countFailing,
    });
    this.queueLength = new Gauge({
      name: 'sluice_proxy_queue_length',
      help: 'Requests waiting in front of the balancer for a ready endpoint (at most --queue-capacity).',
      registers,
    });
    const shed = new CellCounter({
      name: 'sluice_proxy_shed_total',
      help: 'Requests answered 503 (gRPC: UNAVAILABLE) without reaching an endpoint, by reason: fail-fast, queue-full.',
      labelNames: ['reason'] as const,
      registers,
    });
    const byReason = new Map<string, CounterCell>();
    this.shed = {
      inc({ reason }) {
        let cell = byReason.get(reason);
        if (!cell) byReason.set(reason, (cell = shed.cell({ reason })));
        cell.value++;
      },
    };
  }

  /** The fail-fast gate's state, on every change (layers/queue.ts): the gauge, and the time in the counter. */
  failFast(failing: boolean): void {
    this.countFailing();
    this.failfast.set(failing ? 1 : 0);
    this.failingCountedTo = failing ? (this.failingCountedTo ?? this.now()) : undefined;
  }

  /** Adds the running fail-fast period's time since it was last counted. */
  private countFailing(): void {
    if (this.failingCountedTo === undefined) return;
    const now = this.now();
    this.failfastSeconds.inc(Math.max(0, now - this.failingCountedTo) / 1000);
    this.failingCountedTo = now;
  }
}
