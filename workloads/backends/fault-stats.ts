// Per-endpoint counters of what the backend did (GET /stats on the admin listener): plain integer fields,
// incremented in place on every path, healthy or not, so counting costs an add.

export interface ConnectionCounts {
  /** Connections handed to the endpoint's server. */
  accepted: number;
  /** Connections accepted only to be reset at once (refuse: reset). A closed port's refusals happen in the kernel and are not seen. */
  refused: number;
  /** Served connections reset by a request's fault (HTTP/1.1 --reset-share). */
  reset: number;
  /** Connections destroyed when the endpoint went down. */
  dropped: number;
  /** HTTP/1.1 keep-alive connections closed for being idle (--idle-close). */
  idleClosed: number;
}

export interface RequestCounts {
  /** Requests (streams, calls) that arrived. */
  total: number;
  /** Answers by HTTP status (h1, h2) or gRPC status name (gRPC), fault answers included. */
  answered: Record<string, number>;
  /** Answered with --fail-status / --fail-grpc. */
  failed: number;
  /** Answered with a reset (RST_STREAM, or the HTTP/1.1 connection reset). */
  reset: number;
  /** Answered --early-status before their body was read. */
  early: number;
  /** Never read nor answered (--stall-read). */
  stalled: number;
}

export interface EndpointStats {
  connections: ConnectionCounts;
  requests: RequestCounts;
}

export function newStats(): EndpointStats {
  return {
    connections: { accepted: 0, refused: 0, reset: 0, dropped: 0, idleClosed: 0 },
    requests: { total: 0, answered: {}, failed: 0, reset: 0, early: 0, stalled: 0 },
  };
}

/** Counts one answer with this status (a number for HTTP, a name for gRPC). */
export function countAnswer(stats: EndpointStats, status: number | string): void {
  const answered = stats.requests.answered;
  answered[status] = (answered[status] ?? 0) + 1;
}
