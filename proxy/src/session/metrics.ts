// What /metrics says of HTTP/2 sessions, either side and either engine: RST_STREAM and GOAWAY by code, sessions
// and streams open and opened, rapid-reset closes, keepalive timeouts, and the local flow-control windows. The
// session concerns (downstream/h2.ts, upstream/h2.ts, wire/, session/, protect/, flow/) report here through
// ProxyMetrics.h2; registered on the proxy's registry by ProxyMetrics (metrics.ts).
import { Counter, Gauge, type Registry } from 'prom-client';
import { COMMON_H2_CODES, h2CodeName } from '../h2-codes.js';

export type Side = 'downstream' | 'upstream';
export type Direction = 'sent' | 'received';
export type WindowKind = 'stream' | 'connection';

/** One session's current local windows, reported until the session closes. */
export interface WindowReport {
  set(kind: WindowKind, bytes: number): void;
  /** A window grew (adaptive flow control). */
  changed(kind: WindowKind, bytes: number): void;
  close(): void;
}

export class H2SessionMetrics {
  private readonly rstStreams: Counter<'side' | 'direction' | 'code'>;
  private readonly goaways: Counter<'side' | 'direction' | 'code'>;
  private readonly openSessions: Gauge<'side'>;
  private readonly openStreams: Gauge<'side'>;
  private readonly rapidResets: Counter;
  private readonly keepaliveTimeouts: Counter<'side'>;
  private readonly windowChanges: Counter<'side' | 'kind'>;
  private readonly openWindows = new Set<{ side: Side; windows: Record<WindowKind, number> }>();
  private readonly lastWindow = new Map<string, number>();
  // Sessions and streams opened, for a harness to read how many a repetition used (their increase). Plain
  // numbers on the per-stream path, copied into the counters at each scrape: cheaper than any label lookup.
  private readonly opened: Record<Side, { sessions: number; streams: number }> = {
    downstream: { sessions: 0, streams: 0 },
    upstream: { sessions: 0, streams: 0 },
  };

  constructor(registry: Registry) {
    const registers = [registry];
    this.rstStreams = new Counter({
      name: 'sluice_proxy_rst_stream_total',
      help: 'RST_STREAM frames by side (downstream: clients, upstream: endpoints), direction and error code name.',
      labelNames: ['side', 'direction', 'code'] as const,
      registers,
    });
    this.goaways = new Counter({
      name: 'sluice_proxy_goaway_total',
      help: "GOAWAY by side, direction and error code name. Received: every frame. Sent: the proxy's own decisions (drain, rapid reset, keepalive timeout), one each, and on the wire engine the engine's own (a peer's protocol error); nghttp2 sends others itself that Node does not report.",
      labelNames: ['side', 'direction', 'code'] as const,
      registers,
    });
    this.openSessions = bothSides(
      new Gauge({ name: 'sluice_proxy_sessions', help: 'Open HTTP/2 sessions by side (downstream: clients, upstream: endpoints).', labelNames: ['side'] as const, registers }),
    );
    this.openStreams = bothSides(new Gauge({ name: 'sluice_proxy_streams', help: 'Open HTTP/2 streams by side.', labelNames: ['side'] as const, registers }));
    this.rapidResets = new Counter({
      name: 'sluice_proxy_rapid_reset_total',
      help: 'Downstream sessions sent GOAWAY ENHANCE_YOUR_CALM and closed for resetting more streams than --max-resets-per-s allows.',
      registers,
    });
    this.keepaliveTimeouts = new Counter({
      name: 'sluice_proxy_keepalive_timeouts_total',
      help: 'HTTP/2 sessions closed by side because a keepalive PING was not acknowledged within --keepalive-timeout.',
      labelNames: ['side'] as const,
      registers,
    });
    this.windowChanges = new Counter({
      name: 'sluice_proxy_adaptive_window_changes_total',
      help: 'Adaptive flow control: times a session grew its local window, by side and kind (stream: SETTINGS_INITIAL_WINDOW_SIZE, connection: WINDOW_UPDATE).',
      labelNames: ['side', 'kind'] as const,
      registers,
    });
    const opened = this.opened;
    for (const [name, what, key] of [
      ['sluice_proxy_sessions_opened_total', 'HTTP/2 sessions', 'sessions'],
      ['sluice_proxy_streams_opened_total', 'HTTP/2 streams', 'streams'],
    ] as const) {
      new Counter({
        name,
        help: `${what} opened since the start, by side (downstream: clients, upstream: endpoints).`,
        labelNames: ['side'] as const,
        registers,
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
      registers,
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
