// The per-request stack, outermost first. Read it top to bottom to know the order of concerns; a new
// concern (timeouts, retries, fail-fast, load shedding) is one more line here and one file in layers/.
import type { RouteLookup } from './discovery/profile.js';
import * as bodyLimit from './layers/body-limit.js';
import * as metricsLayer from './layers/metrics.js';
import * as queue from './layers/queue.js';
import * as rescue from './layers/rescue.js';
import * as route from './layers/route.js';
import * as retry from './layers/retry.js';
import * as timeout from './layers/timeout.js';
import type { Config } from './flags.js';
import type { ProxyMetrics } from './metrics.js';
import type { Layer, Service } from './service.js';

export interface StackConfig {
  metrics: ProxyMetrics;
  /** The balancer's service (balancer/index.ts, chosen by --balancer) over the per-endpoint services. */
  balancer: Service;
  /** The fail-fast state machine over the balancer's readiness (layers/fail-fast.ts), and --queue-capacity. */
  gate: queue.Gate;
  queueCapacity: number;
  /** The flags of the layers: --request-timeout, --retries and the --retry-* settings. */
  config: Pick<Config, 'requestTimeout'> & retry.RetrySettings;
  /** Per-route settings (retryable, timeout) from the --destination profile, for retry and timeout layers
   *  (discovery/profile.ts); DEFAULT_ROUTE for every request without a profile. */
  routes?: RouteLookup;
  /** --max-request-body-bytes (0: none). */
  maxRequestBodyBytes: number;
}

export function buildStack({ metrics, balancer, gate, queueCapacity, config, routes, maxRequestBodyBytes }: StackConfig): Service {
  return compose(
    [
      // Look the request's profile route up once, for the layers below (none without --destination).
      route.layer(routes),
      // Count and time every request as the client sees it (outermost but for the route, so it also sees
      // rescued 502s), by protocol, route and outcome.
      metricsLayer.layer({ metrics }),
      // 413 for a body over --max-request-body-bytes (outside rescue, so rescue sees the cut as a cancel).
      bodyLimit.layer({ maxBytes: maxRequestBodyBytes }),
      // Answer failures before the response headers: 502 + x-sluice-error, or the upstream's RST code on h2.
      rescue.layer(),
      // Bound each request, retries included: 504 before the response headers, cancel after (off by default).
      timeout.layer({ timeoutMs: config.requestTimeout, metrics, routeTimeouts: routes !== undefined }),
      // Retry what is safe to repeat, under the budget; above the balancer so a retry can pick another endpoint.
      retry.layer({ settings: config, metrics }),
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
