// The generator's contract: what a load run is given and what one measured repetition yields.
// results.json stores one RepResult per repetition; `npm run load -- --json` prints one.

export type Protocol = 'h1' | 'h2' | 'grpc';

export interface LoadOptions {
  /** Target, e.g. http://127.0.0.1:4140/echo. For gRPC the path is ignored: the echo service's Unary method is called. */
  url: string;
  protocol: Protocol;
  /** TCP connections to open. */
  connections: number;
  /** Concurrent requests per connection (h2 streams; h1 pipelining is not used, so 1 for h1). */
  streamsPerConnection: number;
  /** Measured time in ms. */
  durationMs: number;
  /** Load sent before measuring, not recorded, in ms. */
  warmupMs: number;
  /** A request not answered in this time is cancelled and counted as `timeout`. */
  timeoutMs: number;
  method: string;
  /** Request body size (0 = no body). */
  bodyBytes: number;
  /** h2 only: the SETTINGS_INITIAL_WINDOW_SIZE the generator announces (its stream receive window). Default 65535, the RFC 9113 default. */
  h2StreamWindow?: number;
  /** h2 only: the generator's connection receive window, set with setLocalWindowSize after connecting. Default 1 MiB. */
  h2ConnWindow?: number;
  /** gRPC only: EchoRequest.response_bytes, the reply size asked of the echo backend. Default 0 = the backend's own --response-bytes. */
  responseBytes?: number;
}

export interface LatencySummaryMs {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface RepResult {
  rps: number;
  requests: number;
  durationS: number;
  latencyMs: LatencySummaryMs;
  /**
   * Errors by class, never lumped: `rst:<CODE_NAME>`, `goaway:<CODE_NAME>`, `ECONNRESET`, `ECONNREFUSED`,
   * `EPIPE`, `timeout`, `status:4xx`, `status:5xx`, `grpc:<STATUS_NAME>`, `truncated`, `other:<code>`.
   */
  errors: Record<string, number>;
  /** RST_STREAM frames by code name, received from the server and sent by us (cancels, timeouts). */
  rst: { received: Record<string, number>; sent: Record<string, number> };
  /** RST_STREAM received / requests sent. */
  rstRate: number;
  /** Filled by the orchestrator from the proxy's process (absent for `npm run load`). */
  proxy?: { cpuS: number; peakRssBytes: number };
  /** True when the generator used more than 90% of a core: its numbers then bound the generator, not the target. */
  generatorSaturated: boolean;
  /** Generator CPU seconds per measured second (1.0 = one full core). */
  generatorCpu: number;
  /** The latency histogram in HdrHistogram's compressed base64 form (microsecond values). */
  histogram: string;
  /**
   * GOAWAY frames received, by code name, whether or not a request failed because of them (a graceful
   * GOAWAY NO_ERROR fails nothing; the generator reconnects). h2 only; absent for h1 and gRPC.
   */
  goawayReceived?: Record<string, number>;
}
