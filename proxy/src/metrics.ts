// The proxy's Prometheus metrics, one registry per proxy (tests run several proxies in one process), composed
// here: each concern registers its own on it (session/metrics.ts: HTTP/2 sessions; balancer/metrics.ts;
// layers/queue-metrics.ts: fail-fast and shedding; discovery/metrics.ts; upstream/metrics.ts), and this file
// keeps what belongs to a request or a connection of either protocol. Names are prefixed sluice_proxy_; resets
// are labelled with RFC 9113 code names.
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { BalancerMetrics } from './balancer/metrics.js';
import { DiscoveryMetrics } from './discovery/metrics.js';
import { QueueMetrics } from './layers/queue-metrics.js';
import { CellCounter, CellHistogram } from './metrics-cells.js';
import { H2SessionMetrics, type Side } from './session/metrics.js';
import { UpstreamMetrics } from './upstream/metrics.js';

export type { Direction, Side, WindowKind, WindowReport } from './session/metrics.js';
export type { BalancerReport } from './balancer/metrics.js';
/** Why a connection closed: our idle timer, max duration, a drain (stop), the peer (it closed or asked to),
 *  an early response (after its delayed close), or an error (reset, protocol error, cancelled exchange). */
export type CloseReason = 'idle' | 'max-duration' | 'drain' | 'peer' | 'early-response' | 'error';


// Latency buckets from 0.5 ms (a loopback hop) to 10 s (a stalled window): the seconds a cell can see.
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class ProxyMetrics {
  readonly registry = new Registry();
  /** HTTP/2 sessions of either side and engine: RST_STREAM, GOAWAY, sessions, streams, windows, keepalive, rapid reset. */
  readonly h2 = new H2SessionMetrics(this.registry);
  readonly balancer = new BalancerMetrics(this.registry);
  /** Fail-fast and load shedding. */
  readonly queue: QueueMetrics;
  readonly discovery = new DiscoveryMetrics(this.registry);
  readonly upstream = new UpstreamMetrics(this.registry);
  // Counted on every request (layers/metrics.ts): in cells the layer keeps, read at the scrape (metrics-cells.ts).
  readonly requests = new CellCounter({
    name: 'sluice_proxy_requests_total',
    help: 'Requests by downstream protocol (h1, h2, grpc), route (a --destination profile route, else default) and outcome: 1xx-5xx, reset, cancelled or error.',
    labelNames: ['protocol', 'route', 'status_class'] as const,
    registers: [this.registry],
  });
  readonly duration = new CellHistogram({
    name: 'sluice_proxy_request_duration_seconds',
    help: 'From the request headers to the end of the response (body and trailers), by downstream protocol and route.',
    labelNames: ['protocol', 'route'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'sluice_proxy_retries_total',
    help: 'Retries sent, by the failure that caused them (connect-refused, upstream-reset:REFUSED_STREAM, ...).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly retryBudgetExhausted = new Counter({
    name: 'sluice_proxy_retry_budget_exhausted_total',
    help: 'Retryable failures passed on to the client because the retry budget was exhausted.',
    registers: [this.registry],
  });
  private readonly timeouts = new Counter({
    name: 'sluice_proxy_timeouts_total',
    help: 'Timeouts by kind: request (--request-timeout ran out), connect (an upstream TCP connect, --connect-timeout).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  private readonly connectionsClosed = new Counter({
    name: 'sluice_proxy_connections_closed_total',
    help: 'Closed connections by side (downstream: clients, upstream: endpoints) and reason: idle, max-duration, drain, peer, early-response, error.',
    labelNames: ['side', 'reason'] as const,
    registers: [this.registry],
  });
  readonly delayedCloses = new Counter({
    name: 'sluice_proxy_delayed_close_total',
    help: 'Client connections half-closed after a response sent before the request body was read, then read until the client closed or --delayed-close passed.',
    registers: [this.registry],
  });

  /** `now`: a monotonic clock in ms (performance.now; tests inject a fake one to time fail-fast). */
  constructor(now: () => number = () => performance.now()) {
    this.queue = new QueueMetrics(this.registry, now);
    // process_cpu_seconds_total and process_resident_memory_bytes: the harness reads the proxy's cost here.
    collectDefaultMetrics({ register: this.registry });
  }

  timeout(kind: 'request' | 'connect'): void {
    this.timeouts.inc({ kind });
  }

  connectionClosed(side: Side, reason: CloseReason): void {
    this.connectionsClosed.inc({ side, reason });
  }
}
