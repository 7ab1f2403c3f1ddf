// Metrics layer: counts every request by downstream protocol and outcome, and times it from the request
// headers to the end of the response body and trailers. It sits outermost so it sees what the client sees,
// including the 502s the rescue layer makes.
import { CancelledError, StreamResetError } from '../errors.js';
import type { ProxyMetrics } from '../metrics.js';
import type { CounterCell, HistogramCell } from '../metrics-cells.js';
import { callService, type Layer, type ProxyRequest } from '../service.js';

export interface MetricsLayerConfig {
  metrics: ProxyMetrics;
}

/** The route label of a request without a profile route. */
export const DEFAULT_ROUTE_LABEL = 'default';

export function layer({ metrics }: MetricsLayerConfig): Layer {
  // The cells of each protocol and route, found without building a key per request (metrics-cells.ts).
  const byProtocol = new Map<string, Map<string, RouteCells>>();
  const cellsOf = (protocol: string, route: string): RouteCells => {
    let byRoute = byProtocol.get(protocol);
    if (!byRoute) byProtocol.set(protocol, (byRoute = new Map()));
    let cells = byRoute.get(route);
    if (!cells) byRoute.set(route, (cells = new RouteCells(metrics, protocol, route)));
    return cells;
  };
  return (inner) => (req) => {
    const started = performance.now(); // a number: hrtime.bigint() allocates one per call
    const cells = cellsOf(protocolOf(req), req.route?.name ?? DEFAULT_ROUTE_LABEL); // route: layers/route.ts
    const response = callService(inner, req);
    // Watched beside the caller rather than chained in front of it: the caller gets the inner promise itself (a
    // microtask hop less per request), and this watch still sees the response first (its reaction is registered
    // first). The watch never rejects: a failure is recorded here, and handled by the caller.
    response.then(
      (res) => {
        const status = res.status;
        res.trailers.then(
          () => cells.answered(status, started),
          (err: unknown) => cells.failed(outcomeOf(err, req), started),
        );
      },
      (err: unknown) => cells.failed(outcomeOf(err, req), started),
    );
    return response;
  };
}

/** One protocol and route's request counts by outcome and its durations. */
class RouteCells {
  /** By status / 100 (1xx-5xx; any other class through statusCell). */
  private readonly statuses: (CounterCell | undefined)[] = [];
  private readonly outcomes = new Map<Outcome, CounterCell>();
  private readonly duration: HistogramCell;

  constructor(
    private readonly metrics: ProxyMetrics,
    private readonly protocol: string,
    private readonly route: string,
  ) {
    this.duration = metrics.duration.cell({ protocol, route });
  }

  answered(status: number, started: number): void {
    const n = Math.floor(status / 100);
    const cell = (n >= 0 && n < 10 ? this.statuses[n] : undefined) ?? this.statusCell(n);
    cell.value++;
    this.duration.observe((performance.now() - started) / 1000);
  }

  failed(outcome: Outcome, started: number): void {
    let cell = this.outcomes.get(outcome);
    if (!cell) this.outcomes.set(outcome, (cell = this.counter(outcome)));
    cell.value++;
    this.duration.observe((performance.now() - started) / 1000);
  }

  private statusCell(n: number): CounterCell {
    const cell = this.counter(`${n}xx`);
    if (n >= 0 && n < 10) this.statuses[n] = cell;
    return cell;
  }

  private counter(statusClass: string): CounterCell {
    return this.metrics.requests.cell({ protocol: this.protocol, route: this.route, status_class: statusClass });
  }
}

type Outcome = 'cancelled' | 'reset' | 'error';

/** gRPC is told apart from plain h2 by its content type, so cells of either protocol read their own series. */
function protocolOf(req: ProxyRequest): string {
  const type = req.headers['content-type'];
  if (typeof type === 'string' && type.startsWith('application/grpc')) return 'grpc';
  return req.downstreamProtocol;
}

function outcomeOf(err: unknown, req: ProxyRequest): Outcome {
  if (req.signal.aborted || err instanceof CancelledError) return 'cancelled';
  if (err instanceof StreamResetError) return 'reset';
  return 'error';
}
