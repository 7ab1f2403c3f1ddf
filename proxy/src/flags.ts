// Every setting of the proxy in one table: its flag, default, the reason for that default, and how a raw
// string becomes a typed value. The Config type is derived from the table (a key's type is what its parser
// returns), config.ts reads flags and SLUICE_PROXY_* variables through it, and --help is generated from it, so
// the four can never disagree. The parsers live in flag-values.ts; rules across flags in config.ts.
import { address, decimal, duration, integer, MAX_TIMER_MS, MAX_WINDOW, onOff, oneOf, RFC_INITIAL_WINDOW, serviceList } from './flag-values.js';
import { ConfigError } from './flag-values.js';

export { ConfigError } from './flag-values.js';

export const BALANCERS = ['p2c', 'round-robin', 'least-request'] as const;
export type BalancerName = (typeof BALANCERS)[number];
export const UPSTREAM_PROTOCOLS = ['auto', 'h1', 'h2'] as const;
/** HTTP/2 engines: node:http2 (nghttp2 inside Node) or our own h2/ (proxy/src/wire/). */
export const ENGINES = ['node', 'wire'] as const;
export type EngineName = (typeof ENGINES)[number];

/** One row of the table: `key` is its Config key, of the type `parse` returns; `optional` keys may be absent. */
export interface FlagSpec<K extends string = string, T = unknown, O extends boolean = boolean> {
  flag: string;
  key: K;
  /** Placeholder in --help; undefined for a switch (a flag without a value). */
  valueName?: string;
  /** undefined: required, unless `unset` says what leaving it out means. */
  default?: string;
  /** Shown in --help instead of a default for a flag that may be left out; config.ts's checkConfig decides what
   *  must be given together. */
  unset?: string;
  /** True: absent from Config when not given (no default). */
  optional?: O;
  why: string;
  parse(raw: string, where: string): T;
}

/** A row, with its key, value type and optionality kept for the Config type. */
function flag<K extends string, T, O extends boolean = false>(spec: FlagSpec<K, T, O>): FlagSpec<K, T, O> {
  return spec;
}

export const FLAGS = [
  flag({
    flag: '--listen',
    key: 'listen',
    valueName: 'HOST:PORT',
    default: '127.0.0.1:4140',
    why: "linkerd's outbound port; loopback so a benchmark never exposes the proxy. Port 0 takes a free port (see the ready line).",
    parse: address(true),
  }),
  flag({
    flag: '--admin',
    key: 'admin',
    valueName: 'HOST:PORT',
    default: '127.0.0.1:4191',
    why: "linkerd's admin port (/metrics, /ready, /live); loopback because metrics are for the local harness, not the network.",
    parse: address(true),
  }),
  flag({
    flag: '--endpoints',
    key: 'endpoints',
    valueName: 'HOST:PORT,...',
    unset: 'required',
    why: 'The static upstream list the balancer spreads requests over; required unless --endpoints-file or --destination gives the endpoints instead (exactly one of the three).',
    parse: (raw, where) => {
      const items = raw.split(',').map((s) => s.trim());
      if (items.length === 0 || items.some((s) => s === '')) {
        throw new ConfigError(where, `"${raw}" is not a list of HOST:PORT; expected e.g. 127.0.0.1:9001,127.0.0.1:9002`);
      }
      return items.map((item) => address(false)(item, where));
    },
  }),
  flag({
    flag: '--endpoints-file',
    key: 'endpointsFile',
    valueName: 'FILE',
    unset: 'none',
    optional: true,
    why: 'Discovery from a file of HOST:PORT lines (or a YAML list), reloaded when it changes; a bad file keeps the last good set. Instead of --endpoints.',
    parse: (raw, where) => {
      if (raw.trim() === '') throw new ConfigError(where, 'expected a file path');
      return raw.trim();
    },
  }),
  flag({
    flag: '--destination',
    key: 'destination',
    valueName: 'HOST:PORT',
    unset: 'none',
    optional: true,
    why: "Discovery from a Destination-like gRPC control plane (workloads/destination/): endpoint Add/Remove/NoEndpoints and profiles for --service. linkerd's is on port 8086. Instead of --endpoints.",
    parse: address(false),
  }),
  flag({
    flag: '--service',
    key: 'destinationService',
    valueName: 'NAME',
    unset: 'none',
    optional: true,
    why: 'The service whose endpoints and profile --destination streams (GetDestination.path); required with --destination, and only with it.',
    parse: (raw, where) => {
      if (raw.trim() === '') throw new ConfigError(where, 'expected a service name, e.g. web.default.svc.cluster.local:8080');
      return raw.trim();
    },
  }),
  flag({
    flag: '--idle-services',
    key: 'idleServices',
    valueName: 'NAME,...',
    default: 'none',
    why: "Seed 000: with --destination, also open a GetProfile stream for each of these services on the same control-plane connection and never read it, as linkerd's router held profile watches of services nobody sent traffic to. Their updates stay unread in the stream's receive window (see --control-stream-window). Not --service itself.",
    parse: serviceList,
  }),
  flag({
    flag: '--control-stream-window',
    key: 'controlStreamWindow',
    valueName: 'BYTES',
    default: String(RFC_INITIAL_WINDOW),
    why: "linkerd2-proxy's control-plane client (its outbound connect settings: 65535, the RFC default): SETTINGS_INITIAL_WINDOW_SIZE of the --destination connection, what one unread control stream can hold.",
    parse: integer(1, MAX_WINDOW, '2^31-1 is the HTTP/2 maximum'),
  }),
  flag({
    flag: '--control-conn-window',
    key: 'controlConnWindow',
    valueName: 'BYTES',
    default: String(1_048_576),
    why: "linkerd2-proxy's control-plane client (1 MiB since seed 000's fix; 65535 before it): the connection receive window of the --destination connection. Node returns connection credit as data arrives, so unread streams do not exhaust it (see README, \"Seed 000 in node:http2\").",
    parse: integer(RFC_INITIAL_WINDOW, MAX_WINDOW, 'a connection window cannot shrink below the initial 65535'),
  }),
  flag({
    flag: '--engine',
    key: 'engine',
    valueName: 'wire|node',
    default: 'wire',
    why: "The HTTP/2 engine on both sides (and the control-plane client): wire is sluice's own h2/ library (proxy/src/wire/), the default since it passes the whole proxy suite, the interop tests and the hostile-input tests at under half node:http2's CPU per request, with strict flow control as linkerd's h2; node is node:http2 (nghttp2 under Node's stream layer), the reference. HTTP/1.1 is Node's either way.",
    parse: oneOf(ENGINES),
  }),
  flag({
    flag: '--parallel-scavenge',
    key: 'parallelScavenge',
    valueName: 'on|off',
    default: 'off',
    why: "V8's parallel young-generation GC (its default), set at start with v8.setFlagsFromString. off: the proxy scavenges on its main thread alone. A proxy's young generation is nearly all garbage (about 5 KB of ~3 MB survives a scavenge), so helper threads have almost nothing to share, and on a host with fewer free cores than busy processes the scavenge waits for them to be scheduled: measured at h2 concurrency 8 on 2 cores, the scavenge's parallel phase took 0.12 ms median, 0.35 p90, 1.5-2.8 p99 with them and 0.03-0.06, 0.09-0.12, 0.7 without, and every scavenge holds a whole batch of requests (proxy/README.md, \"HTTP/2 engines\"). on: V8's default.",
    parse: onOff,
  }),
  flag({
    flag: '--upstream-protocol',
    key: 'upstreamProtocol',
    valueName: 'auto|h1|h2',
    default: 'auto',
    why: 'auto speaks upstream what the client spoke (gRPC is h2), so each cell measures one protocol end to end.',
    parse: oneOf(UPSTREAM_PROTOCOLS),
  }),
  flag({
    flag: '--stream-window',
    key: 'streamWindow',
    valueName: 'BYTES',
    default: String(RFC_INITIAL_WINDOW),
    why: "linkerd's default and the RFC 9113 initial window: SETTINGS_INITIAL_WINDOW_SIZE on both sides. 0 stalls every body.",
    parse: integer(0, MAX_WINDOW, '2^31-1 is the HTTP/2 maximum'),
  }),
  flag({
    flag: '--conn-window',
    key: 'connWindow',
    valueName: 'BYTES',
    default: String(1_048_576),
    why: "linkerd's default (1 MiB), so one stalled stream cannot exhaust the connection for the others (seed 000).",
    parse: integer(RFC_INITIAL_WINDOW, MAX_WINDOW, 'a connection window cannot shrink below the initial 65535'),
  }),
  flag({
    flag: '--max-concurrent-streams',
    key: 'maxConcurrentStreams',
    valueName: 'N',
    default: '1024',
    why: 'Above the largest matrix concurrency (256 streams on one connection), so the limit is never what a cell measures, yet bounded (Node would allow 2^32-1).',
    parse: integer(1, 2 ** 32 - 1, 'SETTINGS_MAX_CONCURRENT_STREAMS'),
  }),
  flag({
    flag: '--max-resets-per-s',
    key: 'maxResetsPerS',
    valueName: 'N',
    default: '100',
    why: "Rapid reset (CVE-2023-44487): a client resetting more streams than this a second (a burst of N, then N a second) gets GOAWAY ENHANCE_YOUR_CALM and is closed; 0: off. linkerd's h2 allows 20 reset streams not yet accepted; Node's nghttp2 allows a burst of 1000, then 33 a second (GOAWAY INTERNAL_ERROR). 100 stops an attacker after 100 wasted upstream requests, 10x sooner than nghttp2, and no client cancelling its own work gets near it.",
    parse: integer(0, 2 ** 31 - 1, '0 turns the limit off'),
  }),
  flag({
    flag: '--max-frame-size',
    key: 'maxFrameSize',
    valueName: 'BYTES',
    default: '16384',
    why: "RFC 9113's initial SETTINGS_MAX_FRAME_SIZE, also linkerd's (hyper) and Node's: the largest frame payload a peer may send us, on both sides.",
    parse: integer(16_384, 16_777_215, 'RFC 9113 6.5.2 allows 2^14 to 2^24-1'),
  }),
  flag({
    flag: '--max-header-list-size',
    key: 'maxHeaderListSize',
    valueName: 'BYTES',
    default: '16384',
    why: "linkerd's (hyper: 16 KiB; Envoy: 60 KiB; Node: 65535): SETTINGS_MAX_HEADER_LIST_SIZE on both sides. A larger h2 request is reset with ENHANCE_YOUR_CALM before it reaches an endpoint; gRPC metadata is far smaller.",
    parse: integer(1024, 2 ** 32 - 1, 'SETTINGS_MAX_HEADER_LIST_SIZE; below 1 KiB not even a bare request fits'),
  }),
  flag({
    flag: '--keepalive-interval',
    key: 'keepaliveInterval',
    valueName: 'DURATION',
    default: '10s',
    why: "linkerd's (its injector sets 10s; hyper and Node: off): PING an HTTP/2 session, either side, after this long without a byte from the peer; 0s: off. A session busy with traffic is never pinged.",
    parse: duration(0),
  }),
  flag({
    flag: '--keepalive-timeout',
    key: 'keepaliveTimeout',
    valueName: 'DURATION',
    default: '3s',
    why: "linkerd's (its injector sets 3s; hyper: 20s): a session whose keepalive PING is not acknowledged within this is closed, so a dead peer frees its streams instead of holding them until TCP gives up.",
    parse: duration(1),
  }),
  flag({
    flag: '--max-session-buffered-bytes',
    key: 'maxSessionBufferedBytes',
    valueName: 'BYTES',
    default: String(256 * 2 ** 20),
    why: 'Bound on what one client session can make the proxy hold (stream window x open streams; Node returns the connection window at once, so it bounds nothing): the advertised max concurrent streams is lowered to fit, and a stream beyond it (windows grown by --adaptive) is refused with REFUSED_STREAM; 0: off. 256 MiB fits the h2 matrix\'s largest fixed cell (1 MiB windows x 256 streams). linkerd needs none: its h2 returns connection window only as data is read, so its connection window is the bound.',
    parse: integer(0, Number.MAX_SAFE_INTEGER, 'bytes; 0 turns the bound off'),
  }),
  flag({
    flag: '--balancer',
    key: 'balancer',
    valueName: 'p2c|round-robin|least-request',
    default: 'p2c',
    why: "linkerd's balancer (linkerd: p2c): power of two choices over PeakEWMA, so a slow or loaded endpoint gets less traffic; round-robin and least-request are there to compare.",
    parse: oneOf(BALANCERS),
  }),
  flag({
    flag: '--ewma-decay',
    key: 'ewmaDecay',
    valueName: 'DURATION',
    default: '10s',
    why: "linkerd's PeakEWMA decay (linkerd: 10s): the time constant with which an RTT estimate forgets a peak.",
    parse: duration(0.001),
  }),
  flag({
    flag: '--ewma-default-rtt',
    key: 'ewmaDefaultRtt',
    valueName: 'DURATION',
    default: '30ms',
    why: "linkerd's default RTT (linkerd: 30ms): the PeakEWMA estimate of an endpoint before its first response.",
    parse: duration(0),
  }),
  flag({
    flag: '--adaptive',
    key: 'adaptive',
    default: 'off',
    why: 'Fixed windows unless asked: a cell measures exactly the windows it names. On: BDP estimation with PING grows both windows from --stream-window/--conn-window (doubling, up to 16 MiB, never shrinking).',
    parse: (raw, where) => {
      const value = raw.trim();
      if (/^(0|false|off|no)?$/i.test(value)) return false; // empty: as if unset
      if (/^(1|true|on|yes)$/i.test(value)) return true;
      throw new ConfigError(where, `"${raw}" is not allowed; expected a switch: --adaptive, or true|false|on|off|1|0|yes|no`);
    },
  }),
  flag({
    flag: '--failfast',
    key: 'failfast',
    valueName: 'DURATION',
    default: '3s',
    why: "linkerd's outbound fail-fast timeout (linkerd: 3s): after this long without a ready endpoint, queued and new requests get 503 x-sluice-error: fail-fast at once (gRPC: UNAVAILABLE) until one is ready again. 0ms: at once.",
    parse: duration(0),
  }),
  flag({
    flag: '--queue-capacity',
    key: 'queueCapacity',
    valueName: 'N',
    default: '10000',
    why: "linkerd's outbound HTTP queue capacity (linkerd: 10000): requests that wait for a ready endpoint; beyond it a request is shed at once with 503 x-sluice-error: load-shed. 0: no queue.",
    parse: integer(0, 2 ** 31 - 1, 'requests held while no endpoint is ready'),
  }),
  flag({
    flag: '--idle-evict',
    key: 'idleEvict',
    valueName: 'DURATION',
    default: '5s',
    why: "linkerd's outbound discovery idle timeout (linkerd: 5s): an upstream connection (h1 keep-alive socket, h2 session) without requests for this long is closed and reopened on demand.",
    parse: duration(1),
  }),
  flag({
    flag: '--request-timeout',
    key: 'requestTimeout',
    valueName: 'DURATION|off',
    default: 'off',
    why: "None, as linkerd's HTTPRoutes (its old ServiceProfile default was 10s, Envoy's route timeout 15s): a cell measures stalls and long streams, it must not cut them. Set: 504 before the response headers, CANCEL after.",
    parse: (raw, where) => (/^(off|0)$/i.test(raw.trim()) ? 0 : duration(0)(raw, where)), // 0ms: off too
  }),
  flag({
    flag: '--connect-timeout',
    key: 'connectTimeout',
    valueName: 'DURATION',
    default: '1s',
    why: "linkerd's outbound connect timeout (linkerd: 1s): an endpoint that does not accept within it is failed (connect-timeout) and the request may be retried elsewhere.",
    parse: duration(1),
  }),
  flag({
    flag: '--retries',
    key: 'retries',
    valueName: 'N',
    default: '2',
    why: 'Retries per request at most; 0 turns retries off. Envoy and linkerd routes allow 1; 2 lets a request survive a refused connection and then a REFUSED_STREAM (an endpoint restarting); the budget bounds the load either way.',
    parse: integer(0, 100, 'retries after the first attempt'),
  }),
  flag({
    flag: '--retry-budget-ratio',
    key: 'retryBudgetRatio',
    valueName: 'RATIO',
    default: '0.2',
    why: "linkerd's retry budget (linkerd: 0.2): retries add at most 20% to the requests of the last --retry-budget-ttl.",
    parse: decimal(0, 1000, "tower's budget allows up to 1000"),
  }),
  flag({
    flag: '--retry-budget-min-per-s',
    key: 'retryBudgetMinPerS',
    valueName: 'N',
    default: '10',
    why: "linkerd's retry budget (linkerd: 10): retries always allowed per second (averaged over the ttl), so thin traffic can still retry.",
    parse: integer(0, 1_000_000, 'retries per second'),
  }),
  flag({
    flag: '--retry-budget-ttl',
    key: 'retryBudgetTtl',
    valueName: 'DURATION',
    default: '10s',
    why: "linkerd's retry budget (linkerd: 10s): how long a request counts toward the ratio; tower allows 1s to 60s.",
    parse: (raw, where) => {
      const ms = duration(1000)(raw, where);
      if (ms > 60_000) throw new ConfigError(where, `"${raw}" is too long; expected at most 60s`);
      return ms;
    },
  }),
  flag({
    flag: '--retry-backoff-base',
    key: 'retryBackoffBase',
    valueName: 'DURATION',
    default: '25ms',
    why: "Envoy's retry backoff (Envoy: 25ms base, full jitter): retry n waits a random time below (2^n - 1) x base. 0ms retries at once.",
    parse: duration(0),
  }),
  flag({
    flag: '--retry-backoff-max',
    key: 'retryBackoffMax',
    valueName: 'DURATION',
    default: '250ms',
    why: "Envoy's default cap (Envoy: 10 x base = 250ms): no retry waits longer.",
    parse: duration(0),
  }),
  flag({
    flag: '--retry-buffer-bytes',
    key: 'retryBufferBytes',
    valueName: 'BYTES',
    default: String(65_536),
    why: "linkerd's limit (linkerd: 64 KiB): a request body up to this size is kept to be sent again; a larger one streams and is never retried.",
    parse: integer(0, 2 ** 30, 'bytes kept per request'),
  }),
  flag({
    flag: '--retryable-routes',
    key: 'retryableRoutes',
    valueName: 'PATH-PREFIX,...',
    default: 'none',
    why: "None: only GET, HEAD, OPTIONS and TRACE are retried after a reset. A listed path prefix (e.g. /pkg.Service/) is retryable whatever the method, as a linkerd profile's isRetryable route.",
    parse: (raw, where) => {
      if (/^(none)?$/i.test(raw.trim())) return [];
      const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const bad = items.find((s) => !s.startsWith('/'));
      if (bad !== undefined) throw new ConfigError(where, `"${bad}" is not a path prefix; expected e.g. /api/,/pkg.Service/`);
      return items;
    },
  }),
  flag({
    flag: '--h1-pool-idle-timeout',
    key: 'h1PoolIdleTimeout',
    valueName: 'DURATION',
    default: '3s',
    why: "linkerd's HTTP/1 pool idle timeout (linkerd: 3s): an idle upstream keep-alive connection is closed by the proxy before a typical upstream idle timeout (Node 5s, nginx 75s) closes it under a request. Keep it below the upstream's; an upstream's Keep-Alive: timeout=N hint caps it at N-1 s. 0: never.",
    parse: duration(0, MAX_TIMER_MS),
  }),
  flag({
    flag: '--h1-reuse-guard',
    key: 'h1ReuseGuard',
    valueName: 'on|off',
    default: 'on',
    why: "Envoy's fix for its keep-alive reuse race (seeds 001/003, Envoy #2715): a released upstream keep-alive connection becomes reusable only after the event loop has polled for I/O once more, so a FIN that came with the response is seen first. off: reused at once, in the same turn, as Node's http.Agent does (the race is then possible).",
    parse: onOff,
  }),
  flag({
    flag: '--h1-reissue',
    key: 'h1Reissue',
    valueName: 'on|off',
    default: 'on',
    why: "Envoy's and hyper's pools (seeds 001/003): a bodiless request of an idempotent method that fails on a reused keep-alive connection the upstream reset or closed, before any response byte, is sent once more on a new connection. off: it fails (502 connection-reset; the retry layer may still retry a GET).",
    parse: onOff,
  }),
  flag({
    flag: '--absorb-cancels',
    key: 'absorbCancels',
    valueName: 'N',
    default: '0',
    why: "Rapid reset through a proxy (CVE-2023-44487): every RST_STREAM a client sends is passed upstream, where the backend's own reset budget (nghttp2's, in Node) closes the shared upstream connection with GOAWAY and fails the well-behaved requests on it. With N > 0, a cancelled request whose request side was complete (no body left to send) is not reset upstream: it finishes there and its answer is dropped, at most N at once per upstream HTTP/2 session (beyond that, RST_STREAM(CANCEL) as before). 0: every cancel is passed on.",
    parse: integer(0, 100_000, 'cancelled streams let finish at once per upstream session'),
  }),
  flag({
    flag: '--downstream-idle-timeout',
    key: 'downstreamIdleTimeout',
    valueName: 'DURATION',
    default: '1h',
    why: "Envoy's idle_timeout (Envoy: 1h; linkerd has none): a client connection without requests is closed (HTTP/1.1) or drained with GOAWAY (h2). Long, so the client's own idle timeout fires first and no request races the close. 0: never.",
    parse: duration(0, MAX_TIMER_MS),
  }),
  flag({
    flag: '--max-connection-duration',
    key: 'maxConnectionDuration',
    valueName: 'DURATION',
    default: '0s',
    why: "Off, as in Envoy and linkerd: a cell measures connections the client chose to keep. Set: after this long a client connection drains (GOAWAY on h2, Connection: close on the next HTTP/1.1 response).",
    parse: duration(0, MAX_TIMER_MS),
  }),
  flag({
    flag: '--drain-timeout',
    key: 'drainTimeout',
    valueName: 'DURATION',
    default: '5s',
    why: "Envoy's drain_timeout value (Envoy: 5s, there the wait between its two GOAWAYs): here how long a draining client connection (idle, max duration) may keep in-flight requests before it is closed.",
    parse: duration(1, MAX_TIMER_MS),
  }),
  flag({
    flag: '--delayed-close',
    key: 'delayedClose',
    valueName: 'DURATION',
    default: '1s',
    why: "Envoy's delayed_close_timeout (Envoy: 1s): after a response sent before the request body was read (413, early 4xx), half-close and keep reading until the client closes or this passes, so the client reads the response instead of a reset (seed 001). 0: close at once.",
    parse: duration(0, MAX_TIMER_MS),
  }),
  flag({
    flag: '--max-request-body-bytes',
    key: 'maxRequestBodyBytes',
    valueName: 'BYTES',
    default: String(16 * 2 ** 20),
    why: 'Above every workload body (the largest test upload is 8 MiB) yet bounded; linkerd and Envoy set none by default. A larger Content-Length gets 413 at once (delayed close on HTTP/1.1); a body that grows past it is cut. A gRPC stream counts all its messages. 0: no limit.',
    parse: integer(0, Number.MAX_SAFE_INTEGER, '0 turns the limit off'),
  }),
] as const;

type Row = (typeof FLAGS)[number];
type Value<R extends Row> = ReturnType<R['parse']>;

/** The proxy's settings, one key per row of FLAGS (flags.ts's `why` says what each is for). */
export type Config = { [R in Row as R extends FlagSpec<string, unknown, true> ? never : R['key']]: Value<R> } & {
  [R in Row as R extends FlagSpec<string, unknown, true> ? R['key'] : never]?: Value<R>;
};
