// What the proxy says happened in one repetition: its /metrics scraped before and after, counters turned into
// increases, gauges read at the end. The harness knows the metrics by name only (proxy/README.md lists them),
// never by importing proxy/, so any proxy exposing these names can stand in; one that lacks some reads as 0.
import { increases, type Sample } from './metrics-scrape.js';

/** Counts by one label's value, e.g. RST_STREAM by code: `{CANCEL: 3, REFUSED_STREAM: 1}`. */
export type Counts = Partial<Record<string, number>>;
/** Counts grouped by one more label first, e.g. by side: `{downstream: {idle: 2}, upstream: {peer: 1}}`. */
export type Grouped = Partial<Record<string, Counts>>;

/**
 * One repetition as the proxy counted it. Counters are increases from the scrape before to the scrape after
 * (a counter that went down was restarted: its value after is taken); a zero is left out, and so is a group
 * left empty, to keep the record short: read `delta.rst.downstream?.received?.CANCEL ?? 0`. Gauges are
 * values at the end, zeros kept (a stream window of 0 is a setting, and 0 open sessions is news).
 * Sides: `downstream` (clients), `upstream` (endpoints). Directions: `sent`, `received` (by the proxy).
 */
export interface ProxyMetricsDelta {
  /** RST_STREAM frames by side, direction and RFC 9113 code name: `{downstream: {sent: {CANCEL: 3}}}`. */
  rst: Partial<Record<string, Grouped>>;
  /** GOAWAY frames by side, direction and code name; sent: the proxy's own decisions (drain, rapid reset,
   *  keepalive timeout), not the ones nghttp2 sends by itself. */
  goaway: Partial<Record<string, Grouped>>;
  /** Requests the proxy finished, by outcome (`2xx`..`5xx`, `reset`, `cancelled`, `error`), summed over
   *  protocols and routes: the proxy's count beside the generator's. */
  requests: Counts;
  /** Retries sent, by the failure retried (`connect-refused`, `upstream-reset:REFUSED_STREAM`, ...). */
  retries: Counts;
  /** Retryable failures passed on to the client because the retry budget was spent. */
  retryBudgetExhausted: number;
  /** Requests answered 503 (gRPC UNAVAILABLE) without reaching an endpoint, by reason (`fail-fast`, `queue-full`). */
  sheds: Counts;
  /** Timeouts by kind: `request`, `connect`. */
  timeouts: Counts;
  /** Seconds the proxy spent in fail-fast (no ready endpoint for longer than --failfast) during the repetition. */
  failFastS: number;
  /** Times adaptive flow control grew a session's window, by side and kind (`stream`, `connection`). */
  adaptiveWindowChanges: Grouped;
  /** Connections closed, by side and reason (`idle`, `max-duration`, `drain`, `peer`, `early-response`, `error`). */
  connectionsClosed: Grouped;
  /** Client sessions closed with GOAWAY ENHANCE_YOUR_CALM for resetting too many streams. */
  rapidResets: number;
  /** HTTP/2 sessions closed for an unanswered keepalive PING, by side. */
  keepaliveTimeouts: Counts;
  /** HTTP/2 sessions by side: opened during the repetition, and open at its end. */
  sessions: { opened: Counts; atEnd: Counts };
  /** HTTP/2 streams by side: opened during the repetition, and open at its end. */
  streams: { opened: Counts; atEnd: Counts };
  /** The local flow-control window at the end, bytes, by side and kind (`stream`, `connection`): the largest
   *  over open sessions, or the last one seen when none is open; with --adaptive, what it grew to. */
  windowsAtEnd: Grouped;
}

// The proxy's metric names: the contract between harness and proxy (proxy/README.md, "Admin and metrics").
const METRIC = {
  rst: 'sluice_proxy_rst_stream_total',
  goaway: 'sluice_proxy_goaway_total',
  requests: 'sluice_proxy_requests_total',
  retries: 'sluice_proxy_retries_total',
  retryBudgetExhausted: 'sluice_proxy_retry_budget_exhausted_total',
  sheds: 'sluice_proxy_shed_total',
  timeouts: 'sluice_proxy_timeouts_total',
  failFastSeconds: 'sluice_proxy_failfast_seconds_total',
  windowChanges: 'sluice_proxy_adaptive_window_changes_total',
  connectionsClosed: 'sluice_proxy_connections_closed_total',
  rapidResets: 'sluice_proxy_rapid_reset_total',
  keepaliveTimeouts: 'sluice_proxy_keepalive_timeouts_total',
  sessionsOpened: 'sluice_proxy_sessions_opened_total',
  streamsOpened: 'sluice_proxy_streams_opened_total',
  sessions: 'sluice_proxy_sessions',
  streams: 'sluice_proxy_streams',
  windows: 'sluice_proxy_window_bytes',
} as const;

/**
 * The repetition between two scrapes of the proxy's /metrics (`before` just before the measured window,
 * `after` just after it). Both must be real scrapes: `scrape()` gives [] when the proxy did not answer, and
 * an empty `before` would make every counter's whole life look like one repetition.
 */
export function proxyMetricsDelta(before: Sample[], after: Sample[]): ProxyMetricsDelta {
  const inc = (name: string): Sample[] => increases(before, after, name);
  const end = (name: string): Sample[] => after.filter((s) => s.name === name);
  const bySideDirectionCode = (name: string) =>
    groupBy(inc(name), 'side', (side) => groupBy(side, 'direction', (dir) => countsBy(dir, 'code')));
  return {
    rst: bySideDirectionCode(METRIC.rst),
    goaway: bySideDirectionCode(METRIC.goaway),
    requests: countsBy(inc(METRIC.requests), 'status_class'),
    retries: countsBy(inc(METRIC.retries), 'reason'),
    retryBudgetExhausted: total(inc(METRIC.retryBudgetExhausted)),
    sheds: countsBy(inc(METRIC.sheds), 'reason'),
    timeouts: countsBy(inc(METRIC.timeouts), 'kind'),
    failFastS: total(inc(METRIC.failFastSeconds)),
    adaptiveWindowChanges: groupBy(inc(METRIC.windowChanges), 'side', (s) => countsBy(s, 'kind')),
    connectionsClosed: groupBy(inc(METRIC.connectionsClosed), 'side', (s) => countsBy(s, 'reason')),
    rapidResets: total(inc(METRIC.rapidResets)),
    keepaliveTimeouts: countsBy(inc(METRIC.keepaliveTimeouts), 'side'),
    sessions: { opened: countsBy(inc(METRIC.sessionsOpened), 'side'), atEnd: countsBy(end(METRIC.sessions), 'side', true) },
    streams: { opened: countsBy(inc(METRIC.streamsOpened), 'side'), atEnd: countsBy(end(METRIC.streams), 'side', true) },
    windowsAtEnd: groupBy(end(METRIC.windows), 'side', (s) => countsBy(s, 'kind', true)),
  };
}

/** Sums by the value of `label` (other labels are summed over); zero sums are left out unless `keepZeros`. */
function countsBy(samples: Sample[], label: string, keepZeros = false): Counts {
  const sums = new Map<string, number>();
  for (const s of samples) {
    const key = s.labels[label] ?? '';
    sums.set(key, (sums.get(key) ?? 0) + s.value);
  }
  return Object.fromEntries([...sums].filter(([, v]) => keepZeros || v !== 0));
}

/** Splits by the value of `label` and applies `inner` to each part; parts that come out empty are left out. */
function groupBy<T extends object>(samples: Sample[], label: string, inner: (part: Sample[]) => T): Partial<Record<string, T>> {
  const parts = new Map<string, Sample[]>();
  for (const s of samples) {
    const key = s.labels[label] ?? '';
    const part = parts.get(key);
    if (part) part.push(s);
    else parts.set(key, [s]);
  }
  const out: Partial<Record<string, T>> = {};
  for (const [key, part] of parts) {
    const value = inner(part);
    if (Object.keys(value).length > 0) out[key] = value;
  }
  return out;
}

function total(samples: Sample[]): number {
  return samples.reduce((acc, s) => acc + s.value, 0);
}
