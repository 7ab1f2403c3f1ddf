// Metrics layer: counts every request by downstream protocol and outcome, and times it from the request
// headers to the end of the response body and trailers. It sits outermost so it sees what the client sees,
// including the 502s the rescue layer makes.
import { CancelledError, StreamResetError } from '../errors.js';
import type { ProxyMetrics } from '../metrics.js';
import { callService, type Layer, type ProxyRequest } from '../service.js';

export interface MetricsLayerConfig {
  metrics: ProxyMetrics;
}

/** The route label of a request without a profile route. */
export const DEFAULT_ROUTE_LABEL = 'default';

export function layer({ metrics }: MetricsLayerConfig): Layer {
  // prom-client hashes a label set on every inc/observe; the sets are few, so their children are kept.
  const counters = new Map<string, { inc(): void }>();
  const histograms = new Map<string, { observe(value: number): void }>();
  const record = (protocol: string, route: string, statusClass: string, started: bigint): void => {
    const key = `${protocol} ${route} ${statusClass}`;
    let counter = counters.get(key);
    if (!counter) counters.set(key, (counter = metrics.requests.labels({ protocol, route, status_class: statusClass })));
    counter.inc();
    const byRoute = `${protocol} ${route}`;
    let histogram = histograms.get(byRoute);
    if (!histogram) histograms.set(byRoute, (histogram = metrics.duration.labels({ protocol, route })));
    histogram.observe(Number(process.hrtime.bigint() - started) / 1e9);
  };
  // Plain promise chains rather than async/await: one promise less per request on the hot path.
  return (inner) => (req) => {
    const started = process.hrtime.bigint();
    const protocol = protocolOf(req);
    const route = req.route?.name ?? DEFAULT_ROUTE_LABEL; // labelled by its profile route (layers/route.ts)
    return callService(inner, req).then(
      (res) => {
        const status = res.status;
        res.trailers.then(
          () => record(protocol, route, `${Math.floor(status / 100)}xx`, started),
          (err: unknown) => record(protocol, route, outcomeOf(err, req), started),
        );
        return res;
      },
      (err: unknown) => {
        record(protocol, route, outcomeOf(err, req), started);
        throw err;
      },
    );
  };
}

/** gRPC is told apart from plain h2 by its content type, so cells of either protocol read their own series. */
function protocolOf(req: ProxyRequest): string {
  const type = req.headers['content-type'];
  if (typeof type === 'string' && type.startsWith('application/grpc')) return 'grpc';
  return req.downstreamProtocol;
}

function outcomeOf(err: unknown, req: ProxyRequest): string {
  if (req.signal.aborted || err instanceof CancelledError) return 'cancelled';
  if (err instanceof StreamResetError) return 'reset';
  return 'error';
}
