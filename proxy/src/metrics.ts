// The proxy's Prometheus metrics, one registry per proxy (tests run several proxies in one process).
// Names are prefixed sluice_proxy_; resets are labelled with RFC 9113 code names.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { h2CodeName } from './h2-codes.js';

export type Side = 'downstream' | 'upstream';
export type Direction = 'sent' | 'received';

// Latency buckets from 0.5 ms (a loopback hop) to 10 s (a stalled window): the seconds a cell can see.
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class ProxyMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'sluice_proxy_requests_total',
    help: 'Requests by downstream protocol (h1, h2, grpc) and outcome: 1xx-5xx, reset, cancelled or error.',
    labelNames: ['protocol', 'status_class'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'sluice_proxy_request_duration_seconds',
    help: 'From the request headers to the end of the response (body and trailers), by downstream protocol.',
    labelNames: ['protocol'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly rstStreams = new Counter({
    name: 'sluice_proxy_rst_stream_total',
    help: 'RST_STREAM frames by side (downstream: clients, upstream: endpoints), direction and error code name.',
    labelNames: ['side', 'direction', 'code'] as const,
    registers: [this.registry],
  });

  constructor() {
    // process_cpu_seconds_total and process_resident_memory_bytes: the harness reads the proxy's cost here.
    collectDefaultMetrics({ register: this.registry });
  }

  rst(side: Side, direction: Direction, code: number): void {
    this.rstStreams.inc({ side, direction, code: h2CodeName(code) });
  }
}
