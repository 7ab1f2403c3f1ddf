// The generator's contract: what a load run is given and what one measured repetition yields.
// results.json stores one RepResult per repetition; `npm run load -- --json` prints one.
import type { TraceBucket } from '../../common/trace-bucket.js';

import type { ClientKind, Protocol } from './protocols.js';

// Declared once in protocols.ts, with each protocol's clients.
export type { ClientKind, Protocol } from './protocols.js';

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
  /**
   * The response size asked of the sluice backends (server-streaming: each message's size): gRPC sets
   * EchoRequest.response_bytes, h1 and h2 send the request header `x-sluice-response-bytes: N`. Absent (gRPC: 0),
   * the backend's own --response-bytes.
   */
  responseBytes?: number;
  /** unary (default): one request, one response; large-body: the same, named for big bodies (the caller sets bodyBytes and responseBytes); server-streaming: one request, a response of streamMessages messages of responseBytes each. */
  scenario?: 'unary' | 'large-body' | 'server-streaming';
  /** server-streaming: messages per stream (default 10). */
  streamMessages?: number;
  /**
   * Open loop: requests per second over all workers and connections, sent at fixed intervals whatever the
   * target does; latency is measured from each request's intended send time (no coordinated omission).
   * Absent: closed loop (connections x streamsPerConnection requests always in flight).
   */
  rate?: number;
  /** Worker threads, each with its own connections and histogram (connections are split among them). Default 1. */
  workers?: number;
  /**
   * h2 only. `eager` (default): connection-window credit is returned as DATA arrives (what node:http2 does).
   * `strict`: credit is returned only when the application reads the data, as the Rust h2 crate in
   * linkerd2-proxy does; with stallStreams it reproduces seed 000's window exhaustion.
   */
  receiver?: 'eager' | 'strict';
  /**
   * h2 and gRPC on the wire client: this many streams of each connection (the first ones opened) stop reading
   * their response bodies. Default 0. Up to 2^31-1: every stream stalls, a slow reader that never reads.
   */
  stallStreams?: number;
  /**
   * `wire` (default) is sluice's own HTTP/2 framing client (harness/load/wire/) for h2 and gRPC, undici for h1; `lib`
   * is node:http2, @grpc/grpc-js and (h1, closed loop only) autocannon, kept to cross-check.
   */
  client?: ClientKind;
  /**
   * The wire client's connection (issue 15): `h2` (default) is the h2/ library's H2Connection
   * (wire/h2-connection.ts), the proxy's engine, so the generator and the proxy speak HTTP/2 through one engine;
   * `wire` is wire/connection.ts, the generator's first framing, kept as the reference (1.0-1.2x less CPU per
   * request, harness/load/wire/README.md). For h2 and gRPC on the wire client, every mode on either.
   */
  wireConnection?: 'wire' | 'h2';
  /** Which engine generates the load: ours (default) or nghttp2's h2load (h2 only), parsed into the same record. */
  generator?: 'sluice' | 'h2load';
  /**
   * Record outcomes by the time they arrived, in buckets of bucketMs from the window's opening to the end of
   * the drain (RepResult.trace): what an incident scenario computes its outcome from. Our generator only.
   */
  trace?: { bucketMs: number };
  /**
   * h2 and gRPC on the wire client only. `rapid-reset` (CVE-2023-44487): every request is its HEADERS (and
   * body) followed at once by RST_STREAM(CANCEL) in the same write, and settles as soon as that is written,
   * answered or not; the closed loop then sends as fast as it can, the open loop at its rate. Such a request
   * is no latency outcome: it is counted in RepResult.attack.
   */
  attack?: 'rapid-reset';
}

/** One bucket of RepResult.trace: the outcomes that arrived in [t, t + bucketMs) ms after the window opened. */
export type { TraceBucket } from '../../common/trace-bucket.js';

export interface LatencySummaryMs {
  p50: number;
  p90: number;
  /** Seed 004's bench plan reports P95 too. */
  p95?: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** Which percentiles of a latency summary are only lower bounds (a timed-out request, recorded at the timeout, reached them). */
export type PercentileName = 'p50' | 'p90' | 'p95' | 'p99' | 'p999' | 'max';

export interface RepResult {
  /** Goodput: successful responses per second of the measured window (requests sent in it that succeeded). */
  rps: number;
  /** Every completed outcome (successes and failures) of the window's requests per second: requests / durationS. */
  completedRps: number;
  /** Requests sent in the measured window, every one accounted for: successes + the errors below. */
  requests: number;
  successes: number;
  /** Failed requests / requests (0 when nothing was sent). */
  errorRate: number;
  /**
   * Response body bytes that arrived inside the measured window, per second (whichever request they belonged to):
   * the byte rate, steady even where whole responses arrive in bursts longer than the window. Absent for grpc-js
   * (`client: 'lib'`), which does not show its bytes.
   */
  bodyBytesPerS?: number;
  durationS: number;
  /**
   * Latency of every request of the window, from its (intended) send to its outcome: successes and failures at
   * the time their outcome arrived, timeouts at exactly the timeout (a lower bound of their real latency).
   */
  latencyMs: LatencySummaryMs;
  /** The percentiles of latencyMs that timeouts reached: lower bounds, printed as ">=". Empty without timeouts. */
  latencyLowerBounds: PercentileName[];
  /** Latency of the successful requests only. */
  successLatencyMs: LatencySummaryMs;
  /**
   * Errors by class, never lumped: `rst:<CODE_NAME>`, `goaway:<CODE_NAME>`, `ECONNRESET`, `ECONNREFUSED`,
   * `EPIPE`, `timeout`, `status:4xx`, `status:5xx`, `grpc:<STATUS_NAME>`, `truncated`, `other:<code>`.
   */
  errors: Record<string, number>;
  /** RST_STREAM frames by code name on the window's requests, received from the server and sent by us (cancels, timeouts). */
  rst: { received: Record<string, number>; sent: Record<string, number> };
  /** RST_STREAM received / requests. */
  rstRate: number;
  /** From the window's end until the last request sent in it had its outcome (the drain). */
  drainMs?: number;
  /** How the session's connections were opened, before any window (absent when the generator could not say). */
  connect?: { ms: number; connections: number; ready: number };
  /**
   * True when the generator used more than 90% of a core (a worker's event loop busy > 90% of the time, or the
   * process over 0.9 CPU per worker, the open-loop pacer's idle polling left out): its numbers then bound the
   * generator, not the target.
   */
  generatorSaturated: boolean;
  /** Generator CPU seconds per measured second (1.0 = one full core), the pacer's polling included. */
  generatorCpu: number;
  /** The latency histogram of latencyMs in HdrHistogram's compressed base64 form (microsecond values). */
  histogram: string;
  /** The histogram of successLatencyMs. */
  successHistogram: string;
  /**
   * GOAWAY frames received, by code name, whether or not a request failed because of them (a graceful
   * GOAWAY NO_ERROR fails nothing; the generator reconnects). h2 only; absent for h1 and gRPC.
   */
  goawayReceived?: Record<string, number>;
  /** Requests a GOAWAY cut (stream ids above its last-stream-id, failed or retried elsewhere), by GOAWAY code. */
  goawayStreamsCut?: Record<string, number>;
  /**
   * One entry per whole second of the measured window, by the second each request was sent in: `rps` its
   * successes, `errors` its failures, `p99Ms` of all its requests' latencies.
   */
  timeSeries?: { t: number; rps: number; p99Ms: number; errors: number }[];
  /** Open loop only: the rate asked for and what was sent, and how late sends fell behind their schedule. */
  openLoop?: {
    targetRps: number;
    sentRps: number;
    /** Delay between a request's intended send time and its real send time: P50, P99, max, mean. */
    lagP50Ms?: number;
    lagP99Ms?: number;
    maxLagMs: number;
    meanLagMs: number;
    /** True when the generator could not keep the rate (sent < 95% of due, lag P99 > 10 ms, or any capped). */
    behind: boolean;
    /** Requests whose intended send time fell in the measured window, and how many of them were sent. */
    due?: number;
    sent?: number;
    /**
     * Due requests not sent because the safety cap on requests in flight (2 x rate x timeout) was reached:
     * counted here (and `behind` set), never silently dropped.
     */
    capped?: number;
    /** CPU seconds per measured second the pacer spent polling for punctual sends (part of generatorCpu). */
    pacerCpu?: number;
  };
  /**
   * Open loop only: latency from the real send instead of the intended one (wrk2's "uncorrected"), beside the
   * corrected latencyMs: the difference is what the generator's own lateness would have hidden.
   */
  uncorrectedLatencyMs?: LatencySummaryMs;
  uncorrectedHistogram?: string;
  /**
   * Closed loop only: Little's law, requests in flight = throughput x latency. `estimate` is completedRps x the mean
   * latency (s), `ratio` = estimate / concurrency. Near 1: the window saw a steady state. Far from it: the window
   * was short against the latency, or slots were held (stalled streams), or the generator did not keep its
   * concurrency; every report flags a ratio outside 0.75..1.25.
   */
  littlesLaw?: { concurrency: number; estimate: number; ratio: number };
  /** Per worker thread: event-loop utilisation over the measured window (1.0 = never idle), the saturation signal. */
  workers?: { elu: number; requests: number }[];
  /** Which generator produced this record. */
  generator?: 'sluice' | 'h2load';
  /** server-streaming only: messages received on the window's streams, per second, and each message's latency (from the backend's stamp to its arrival). */
  streaming?: { messages: number; messagesPerS: number; messageLatencyMs: LatencySummaryMs; messageHistogram: string };
  /** The first calls of each connection (index 0 = its first call ever, warm-up included): mean time to first byte and total time of the i-th call, over the connections whose i-th call fell in the measured window. */
  ramp?: { call: number; connections: number; ttfbMs: number; totalMs: number }[];
  /** With LoadOptions.trace: outcomes by the time they arrived, in buckets of bucketMs from the window's opening (t in ms) to the end of the drain. */
  trace?: { bucketMs: number; buckets: TraceBucket[] };
  /** attack 'rapid-reset' only: streams opened and reset, what the target did about it (GOAWAY by code, connections it closed, new connections opened). */
  attack?: { kind: 'rapid-reset'; streams: number; goaway: Record<string, number>; connectionsClosed: number; reconnects: number };
  /**
   * The wire clients (h2 and gRPC, client wire): the generator's connections from the window's opening to the
   * end of the drain. `closedByPeer`: connections the target ended (it sent GOAWAY, or closed or reset the
   * socket); `opened`: new connections that became ready (reconnections: a session opens its first ones
   * before any window).
   */
  connections?: { closedByPeer: number; opened: number };
  /**
   * stallStreams only: streams sent in the window that stalled (they never read their response and are no
   * request outcome, unless they failed before their deadline), and the RST_STREAM codes the target reset
   * any of them with, whenever before the end of the drain.
   */
  stalled?: { streams: number; resetByPeer: Record<string, number> };
}
