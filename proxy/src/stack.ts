// The per-request stack, outermost first. Read it top to bottom to know the order of concerns; a new
// concern (timeouts, retries, fail-fast, load shedding) is one more line here and one file in layers/.
import * as metricsLayer from './layers/metrics.js';
import * as queue from './layers/queue.js';
import * as rescue from './layers/rescue.js';
import type { ProxyMetrics } from './metrics.js';
import type { Layer, Service } from './service.js';

export interface StackConfig {
  metrics: ProxyMetrics;
  /** The balancer's service (balancer/index.ts, chosen by --balancer) over the per-endpoint services. */
  balancer: Service;
  /** The fail-fast state machine over the balancer's readiness (layers/fail-fast.ts), and --queue-capacity. */
  gate: queue.Gate;
  queueCapacity: number;
}

export function buildStack({ metrics, balancer, gate, queueCapacity }: StackConfig): Service {
  return compose(
    [
      // Count and time every request as the client sees it (outermost, so it also sees rescued 502s).
      metricsLayer.layer({ metrics }),
      // Answer failures before the response headers: 502 + x-sluice-error, or the upstream's RST code on h2.
      rescue.layer(),
      // Hold requests while no endpoint is ready; shed when full or in fail-fast (503, gRPC UNAVAILABLE).
      queue.layer({ gate, capacity: queueCapacity, metrics }),
    ],
    // Pick the endpoint for each request (p2c over PeakEWMA by default) among the ready ones; each endpoint
    // speaks h1 or h2 upstream.
    balancer,
  );
}

/** Wraps `inner` in `layers`, the first layer outermost. */
export function compose(layers: readonly Layer[], inner: Service): Service {
  return layers.reduceRight((svc, wrap) => wrap(svc), inner);
}
