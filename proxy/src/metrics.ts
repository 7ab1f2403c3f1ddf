// The proxy's Prometheus metrics, one registry per proxy (tests run several proxies in one process).
// Names are prefixed sluice_proxy_; resets are labelled with RFC 9113 code names.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ControlWindows } from './discovery/control-client.js';
import { COMMON_H2_CODES, h2CodeName } from './h2-codes.js';
import type { Protocol } from './service.js';

export type Side = 'downstream' | 'upstream';
export type Direction = 'sent' | 'received';
export type WindowKind = 'stream' | 'connection';
/** Why a connection closed: our idle timer, max duration, a drain (stop), the peer (it closed or asked to),
 *  an early response (after its delayed close), or an error (reset, protocol error, cancelled exchange). */
export type CloseReason = 'idle' | 'max-duration' | 'drain' | 'peer' | 'early-response' | 'error';

/** One session's current local windows, reported until the session closes. */
export interface WindowReport {
  set(kind: WindowKind, bytes: number): void;
  /** A window grew (adaptive flow control). */
  changed(kind: WindowKind, bytes: number): void;
  close(): void;
}

/** What the balancer metrics read at each scrape. */
export interface BalancerReport {
  counts(): Record<string, number>;
  rtts(): { name: string; rttMs: number }[];
  /** Every endpoint the balancer knows (HOST:PORT) and its state. */
  states(): { name: string; state: string }[];
}

// Latency buckets from 0.5 ms (a loopback hop) to 10 s (a stalled window): the seconds a cell can see.
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];


export class ProxyMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'sluice_proxy_requests_total',
    help: 'Requests by downstream protocol (h1, h2, grpc), route (a --destination profile route, else default) and outcome: 1xx-5xx, reset, cancelled or error.',
    labelNames: ['protocol', 'route', 'status_class'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'sluice_proxy_request_duration_seconds',
    help: 'From the request headers to the end of the response (body and trailers), by downstream protocol and route.',
    labelNames: ['protocol', 'route'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly rstStreams = new Counter({
    name: 'sluice_proxy_rst_stream_total',
    help: 'RST_STREAM frames by side (downstream: clients, upstream: endpoints), direction and error code name.',
    labelNames: ['side', 'direction', 'code'] as const,
    registers: [this.registry],
  });
  // Session protection and observability (downstream/h2.ts, upstream/h2.ts, session/, protect/).
  private readonly goaways = new Counter({
    name: 'sluice_proxy_goaway_total',
    help: 'GOAWAY by side, direction and error code name. Received: every frame. Sent: the proxy\'s own decisions (drain, rapid reset, keepalive timeout), one each; nghttp2 sends others itself that Node does not report.',
    labelNames: ['side', 'direction', 'code'] as const,
    registers: [this.registry],
  });
  private readonly openSessions = bothSides(
    new Gauge({
      name: 'sluice_proxy_sessions',
      help: 'Open HTTP/2 sessions by side (downstream: clients, upstream: endpoints).',
      labelNames: ['side'] as const,
      registers: [this.registry],
    }),
  );
  private readonly openStreams = bothSides(
    new Gauge({
      name: 'sluice_proxy_streams',
      help: 'Open HTTP/2 streams by side.',
      labelNames: ['side'] as const,
      registers: [this.registry],
    }),
  );
  private readonly rapidResets = new Counter({
    name: 'sluice_proxy_rapid_reset_total',
    help: 'Downstream sessions sent GOAWAY ENHANCE_YOUR_CALM and closed for resetting more streams than --max-resets-per-s allows.',
    registers: [this.registry],
  });
  private readonly keepaliveTimeouts = new Counter({
    name: 'sluice_proxy_keepalive_timeouts_total',
    help: 'HTTP/2 sessions closed by side because a keepalive PING was not acknowledged within --keepalive-timeout.',
    labelNames: ['side'] as const,
    registers: [this.registry],
  });

  private readonly openWindows = new Set<{ side: Side; windows: Record<WindowKind, number> }>();
  private readonly lastWindow = new Map<string, number>();
  private readonly windowChanges = new Counter({
    name: 'sluice_proxy_adaptive_window_changes_total',
    help: 'Adaptive flow control: times a session grew its local window, by side and kind (stream: SETTINGS_INITIAL_WINDOW_SIZE, connection: WINDOW_UPDATE).',
    labelNames: ['side', 'kind'] as const,
    registers: [this.registry],
  });


  readonly retries = new Counter({
    name: 'sluice_proxy_retries_total',
    help: 'Retries sent, by the failure that caused them (connect-refused, upstream-reset:REFUSED_STREAM, ...).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly retryBudgetExhausted = new Counter({
    name: 'sluice_proxy_retry_budget_exhausted_total',
    help: 'Retryable failures passed on to the client because the retry budget was exhausted.',
    registers: [this.registry],
  });
  private readonly timeouts = new Counter({
    name: 'sluice_proxy_timeouts_total',
    help: 'Timeouts by kind: request (--request-timeout ran out), connect (an upstream TCP connect, --connect-timeout).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  /** The balancer reported by the two gauges below (set once by proxy.ts; absent in tests without one). */
  private balancer: BalancerReport | undefined;
  private readonly balancerEndpoints = new Gauge({
    name: 'sluice_proxy_balancer_endpoints',
    help: 'Endpoints of the balancer by state: pending (not connected yet), ready, failed (retried with backoff).',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: () => {
      if (!this.balancer) return;
      for (const [state, n] of Object.entries(this.balancer.counts())) this.balancerEndpoints.set({ state }, n);
    },
  });
  // One series per endpoint, so a harness polling /metrics sees the moment discovery's change was applied: a new
  // address appears (pending, then ready), a removed one is gone. Built at the scrape: nothing on the request path.
  private readonly balancerEndpoint = new Gauge({
    name: 'sluice_proxy_balancer_endpoint',
    help: 'Each endpoint the balancer knows, by address (HOST:PORT) and state (pending, ready, failed): 1; gone once removed.',
    labelNames: ['address', 'state'] as const,
    registers: [this.registry],
    collect: () => {
      if (!this.balancer) return;
      this.balancerEndpoint.reset();
      for (const { name, state } of this.balancer.states()) this.balancerEndpoint.set({ address: name, state }, 1);
    },
  });
  private readonly endpointRtt = new Gauge({
    name: 'sluice_proxy_endpoint_rtt_seconds',
    help: "Each endpoint's PeakEWMA RTT estimate (the latest one, not decayed by the scrape), seconds.",
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
    collect: () => {
      if (!this.balancer) return;
      this.endpointRtt.reset(); // an endpoint discovery removed is no longer reported
      for (const { name, rttMs } of this.balancer.rtts()) this.endpointRtt.set({ endpoint: name }, rttMs / 1000);
    },
  });

  // Fail-fast and load shedding (layers/queue.ts, layers/fail-fast.ts).
  private readonly failfast = new Gauge({
    name: 'sluice_proxy_failfast',
    help: '1 while in fail-fast (no ready endpoint for --failfast: every request is answered 503 at once), else 0.',
    registers: [this.registry],
  });
  /** Up to when (this.now(), ms) the running fail-fast period is in the counter below; undefined when not failing. */
  private failingCountedTo: number | undefined;
  // A harness reads the time of a repetition as the counter's increase, so a period still running at the scrape
  // is counted up to the scrape, not only when it ends.
  private readonly failfastSeconds = new Counter({
    name: 'sluice_proxy_failfast_seconds_total',
    help: 'Seconds spent in fail-fast (see sluice_proxy_failfast), a period still running counted up to the scrape.',
    registers: [this.registry],
    collect: () => this.countFailing(),
  });
  readonly queueLength = new Gauge({
    name: 'sluice_proxy_queue_length',
    help: 'Requests waiting in front of the balancer for a ready endpoint (at most --queue-capacity).',
    registers: [this.registry],
  });
  readonly shed = new Counter({
    name: 'sluice_proxy_shed_total',
    help: 'Requests answered 503 (gRPC: UNAVAILABLE) without reaching an endpoint, by reason: fail-fast, queue-full.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** Open upstream connections by protocol, read at each scrape (set once by proxy.ts). */
  private upstream: (() => Record<Protocol, number>) | undefined;
  private readonly upstreamSessions = new Gauge({
    name: 'sluice_proxy_upstream_sessions',
    help: 'Open upstream connections by protocol: h1 keep-alive sockets (busy or idle), h2 sessions. Idle ones close after --idle-evict.',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
    collect: () => {
      if (!this.upstream) return;
      for (const [protocol, n] of Object.entries(this.upstream())) this.upstreamSessions.set({ protocol }, n);
    },
  });

  /** Reports `count` in sluice_proxy_upstream_sessions. */
  watchUpstream(count: () => Record<Protocol, number>): void {
    this.upstream = count;
  }

  private readonly discoveryUpdates = new Counter({
    name: 'sluice_proxy_discovery_updates_total',
    help: 'Discovery updates applied, by source (static, file, destination), service (--service; empty for static and file) and kind (add, remove, no-endpoints; profile: a Destination profile).',
    labelNames: ['source', 'service', 'kind'] as const,
    registers: [this.registry],
  });
  private readonly discoveryErrors = new Counter({
    name: 'sluice_proxy_discovery_errors_total',
    help: 'Discovery failures, by source: an unreadable or bad endpoints file (the last good set is kept), a lost or refused Destination stream (reconnected with backoff).',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  // The control-plane connection's receive windows (--destination), read at the scrape: seed 000's evidence, what
  // the control plane may still send on the connection and on each stream, and what waits unread.
  private control: (() => ControlWindows) | undefined;
  private readonly controlConnectionWindow = new Gauge({
    name: 'sluice_proxy_control_connection_window_bytes',
    help: 'The --destination connection\'s receive window left: bytes the control plane may still send on it before a WINDOW_UPDATE (absent while not connected).',
    registers: [this.registry],
    collect: () => {
      this.controlConnectionWindow.reset();
      const connection = this.readControl()?.connection;
      if (connection !== undefined) this.controlConnectionWindow.set(connection);
    },
  });
  private readonly controlStreamWindow = new Gauge({
    name: 'sluice_proxy_control_stream_window_bytes',
    help: 'Each open --destination stream\'s receive window left, by rpc (Get, GetProfile), service and read (false: an --idle-services stream, never read).',
    labelNames: ['rpc', 'service', 'read'] as const,
    registers: [this.registry],
    collect: () => {
      this.controlStreamWindow.reset();
      for (const s of this.readControl()?.streams ?? []) {
        this.controlStreamWindow.set({ rpc: s.rpc, service: s.service, read: String(s.read) }, s.window);
      }
    },
  });
  private readonly controlUnread = new Gauge({
    name: 'sluice_proxy_control_unread_bytes',
    help: 'Bytes received on --idle-services streams and never read (held by the stream, counted against its window only).',
    labelNames: ['rpc', 'service'] as const,
    registers: [this.registry],
    collect: () => {
      this.controlUnread.reset();
      for (const s of this.readControl()?.streams ?? []) {
        if (!s.read) this.controlUnread.set({ rpc: s.rpc, service: s.service }, s.unreadBytes);
      }
    },
  });

  /** Reports the control connection's windows in the sluice_proxy_control_* gauges. */
  watchControl(read: () => ControlWindows): void {
    this.control = read;
  }

  private readControl(): ControlWindows | undefined {
    return this.control?.();
  }

  discoveryUpdate(source: string, kind: string, service = ''): void {
    this.discoveryUpdates.inc({ source, service, kind });
  }

  discoveryError(source: string): void {
    this.discoveryErrors.inc({ source });
  }

  /** Open upstream HTTP/1.1 connections of every endpoint's pool, read at each scrape. */
  private readonly h1Pools = new Set<() => { idle: number; active: number }>();
  private readonly upstreamH1Connections = new Gauge({
    name: 'sluice_proxy_upstream_h1_connections',
    help: 'Open upstream HTTP/1.1 connections by state: active (carrying a request), idle (in the keep-alive pool).',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: () => {
      let idle = 0;
      let active = 0;
      for (const counts of this.h1Pools) {
        const c = counts();
        idle += c.idle;
        active += c.active;
      }
      this.upstreamH1Connections.set({ state: 'idle' }, idle);
      this.upstreamH1Connections.set({ state: 'active' }, active);
    },
  });
  private readonly connectionsClosed = new Counter({
    name: 'sluice_proxy_connections_closed_total',
    help: 'Closed connections by side (downstream: clients, upstream: endpoints) and reason: idle, max-duration, drain, peer, early-response, error.',
    labelNames: ['side', 'reason'] as const,
    registers: [this.registry],
  });
  readonly delayedCloses = new Counter({
    name: 'sluice_proxy_delayed_close_total',
    help: 'Client connections half-closed after a response sent before the request body was read, then read until the client closed or --delayed-close passed.',
    registers: [this.registry],
  });
  readonly cancelsAbsorbed = new Counter({
    name: 'sluice_proxy_upstream_cancels_absorbed_total',
    help: 'Cancelled requests let finish upstream with their answer dropped instead of reset (--absorb-cancels).',
    registers: [this.registry],
  });
  readonly h1Reissued = new Counter({
    name: 'sluice_proxy_upstream_h1_reissued_total',
    help: 'Requests without a body of an idempotent method reissued once on a new upstream HTTP/1.1 connection after a reused one was closed before any response byte.',
    registers: [this.registry],
  });

  /** Reports one pool in sluice_proxy_upstream_h1_connections until the returned function is called. */
  watchH1Pool(counts: () => { idle: number; active: number }): () => void {
    this.h1Pools.add(counts);
    return () => this.h1Pools.delete(counts);
  }

  connectionClosed(side: Side, reason: CloseReason): void {
    this.connectionsClosed.inc({ side, reason });
  }

  /** Reports `balancer` in sluice_proxy_balancer_endpoints and sluice_proxy_endpoint_rtt_seconds. */
  watchBalancer(balancer: BalancerReport): void {
    this.balancer = balancer;
  }

  // Sessions and streams opened, for a harness to read how many a repetition used (their increase). Plain
  // numbers on the per-stream path, copied into the counters at each scrape: cheaper than any label lookup.
  private readonly opened: Record<Side, { sessions: number; streams: number }> = {
    downstream: { sessions: 0, streams: 0 },
    upstream: { sessions: 0, streams: 0 },
  };

  /** `now`: a monotonic clock in ms (performance.now; tests inject a fake one to time fail-fast). */
  constructor(private readonly now: () => number = () => performance.now()) {
    const opened = this.opened;
    for (const [name, what, key] of [
      ['sluice_proxy_sessions_opened_total', 'HTTP/2 sessions', 'sessions'],
      ['sluice_proxy_streams_opened_total', 'HTTP/2 streams', 'streams'],
    ] as const) {
      new Counter({
        name,
        help: `${what} opened since the start, by side (downstream: clients, upstream: endpoints).`,
        labelNames: ['side'] as const,
        registers: [this.registry],
        collect() {
          this.reset();
          for (const side of ['downstream', 'upstream'] as const) this.inc({ side }, opened[side][key]);
        },
      });
    }
    const windows = this.openWindows;
    const last = this.lastWindow;
    new Gauge({
      name: 'sluice_proxy_window_bytes',
      help: 'The largest current local flow-control window over open HTTP/2 sessions, by side and kind (stream, connection); the last one seen when none is open.',
      labelNames: ['side', 'kind'] as const,
      registers: [this.registry],
      collect() {
        for (const side of ['downstream', 'upstream'] as const) {
          for (const kind of ['stream', 'connection'] as const) {
            let value: number | undefined;
            for (const w of windows) if (w.side === side) value = Math.max(value ?? 0, w.windows[kind]);
            value ??= last.get(`${side}/${kind}`);
            if (value !== undefined) this.set({ side, kind }, value);
          }
        }
      },
    });
    // process_cpu_seconds_total and process_resident_memory_bytes: the harness reads the proxy's cost here.
    collectDefaultMetrics({ register: this.registry });
    // The codes a proxy sends and meets most exist at 0 from the start, so a dashboard shows 0 rather than no
    // data (Prometheus's instrumentation guide: initialise the label values you know of).
    for (const side of ['downstream', 'upstream'] as const) {
      for (const direction of ['sent', 'received'] as const) {
        for (const code of COMMON_H2_CODES) {
          this.rstStreams.inc({ side, direction, code }, 0);
          this.goaways.inc({ side, direction, code }, 0);
        }
      }
    }
  }

  timeout(kind: 'request' | 'connect'): void {
    this.timeouts.inc({ kind });
  }

  rst(side: Side, direction: Direction, code: number): void {
    this.rstStreams.inc({ side, direction, code: h2CodeName(code) });
  }

  goaway(side: Side, direction: Direction, code: number): void {
    this.goaways.inc({ side, direction, code: h2CodeName(code) });
  }

  /** Counts one open session until the returned function is called (once; later calls do nothing). */
  sessionOpened(side: Side): () => void {
    this.opened[side].sessions++;
    return openUntil(this.openSessions, side);
  }

  /** Counts one open stream until the returned function is called (once). */
  streamOpened(side: Side): () => void {
    this.opened[side].streams++;
    return openUntil(this.openStreams, side);
  }

  /** The fail-fast gate's state, on every change (layers/queue.ts): the gauge, and the time in the counter. */
  failFast(failing: boolean): void {
    this.countFailing();
    this.failfast.set(failing ? 1 : 0);
    this.failingCountedTo = failing ? (this.failingCountedTo ?? this.now()) : undefined;
  }

  /** Adds the running fail-fast period's time since it was last counted. */
  private countFailing(): void {
    if (this.failingCountedTo === undefined) return;
    const now = this.now();
    this.failfastSeconds.inc(Math.max(0, now - this.failingCountedTo) / 1000);
    this.failingCountedTo = now;
  }

  rapidReset(): void {
    this.rapidResets.inc();
  }

  keepaliveTimeout(side: Side): void {
    this.keepaliveTimeouts.inc({ side });
  }

  /** Reports one session's local windows until `close()`. */
  windows(side: Side, stream: number, connection: number): WindowReport {
    const entry = { side, windows: { stream, connection } };
    this.openWindows.add(entry);
    const set = (kind: WindowKind, bytes: number): void => {
      entry.windows[kind] = bytes;
      this.lastWindow.set(`${side}/${kind}`, bytes);
    };
    set('stream', stream);
    set('connection', connection);
    return {
      set,
      changed: (kind, bytes) => {
        set(kind, bytes);
        this.windowChanges.inc({ side, kind });
      },
      close: () => this.openWindows.delete(entry),
    };
  }
}

/** Both sides start at 0, so a dashboard shows an idle side as 0 rather than as no data. */
function bothSides(gauge: Gauge<'side'>): Gauge<'side'> {
  for (const side of ['downstream', 'upstream'] as const) gauge.set({ side }, 0);
  return gauge;
}

// prom-client hashes a label set on every inc/dec; a gauge moved once per stream keeps its children.
const sideChildren = new WeakMap<Gauge<'side'>, Map<Side, { inc(): void; dec(): void }>>();

function openUntil(gauge: Gauge<'side'>, side: Side): () => void {
  let children = sideChildren.get(gauge);
  if (!children) sideChildren.set(gauge, (children = new Map()));
  let child = children.get(side);
  if (!child) children.set(side, (child = gauge.labels({ side })));
  const counted = child;
  counted.inc();
  let open = true;
  return () => {
    if (open) counted.dec();
    open = false;
  };
}
