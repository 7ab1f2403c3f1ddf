// The per-request stack, outermost first. Read it top to bottom to know the order of concerns; a new
// concern (timeouts, retries, fail-fast, load shedding) is one more line here and one file in layers/.
import * as bodyLimit from './layers/body-limit.js';
import * as metricsLayer from './layers/metrics.js';
import * as rescue from './layers/rescue.js';
import type { ProxyMetrics } from './metrics.js';
import type { Layer, Service } from './service.js';

export interface StackConfig {
  metrics: ProxyMetrics;
  /** The balancer's service (balancer/index.ts, chosen by --balancer) over the per-endpoint services. */
  balancer: Service;
  /** --max-request-body-bytes (0: none). */
  maxRequestBodyBytes: number;
}

export function buildStack({ metrics, balancer, maxRequestBodyBytes }: StackConfig): Service {
  return compose(
    [
      // Count and time every request as the client sees it (outermost, so it also sees rescued 502s).
      metricsLayer.layer({ metrics }),
      // 413 for a body over --max-request-body-bytes (outside rescue, so rescue sees the cut as a cancel).
      bodyLimit.layer({ maxBytes: maxRequestBodyBytes }),
      // Answer failures before the response headers: 502 + x-sluice-error, or the upstream's RST code on h2.
      rescue.layer(),
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
