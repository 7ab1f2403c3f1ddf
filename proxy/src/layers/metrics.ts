// Metrics layer: counts every request by downstream protocol and outcome, and times it from the request
// headers to the end of the response body and trailers. It sits outermost so it sees what the client sees,
// including the 502s the rescue layer makes.
import { CancelledError, StreamResetError } from '../errors.js';
import type { ProxyMetrics } from '../metrics.js';
import type { Layer, ProxyRequest } from '../service.js';

export interface MetricsLayerConfig {
  metrics: ProxyMetrics;
}

export function layer({ metrics }: MetricsLayerConfig): Layer {
  return (inner) => async (req) => {
    const started = process.hrtime.bigint();
    const protocol = protocolOf(req);
    const record = (statusClass: string): void => {
      metrics.requests.inc({ protocol, status_class: statusClass });
      metrics.duration.observe({ protocol }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    let res;
    try {
      res = await inner(req);
    } catch (err) {
      record(outcomeOf(err, req));
      throw err;
    }
    const status = res.status;
    res.trailers.then(
      () => record(`${Math.floor(status / 100)}xx`),
      (err: unknown) => record(outcomeOf(err, req)),
    );
    return res;
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
