// What /metrics says of HTTP/2 sessions, either side and either engine: RST_STREAM and GOAWAY by code, sessions
// and streams open and opened, rapid-reset closes, keepalive timeouts, and the local flow-control windows. The
// session concerns (downstream/h2.ts, upstream/h2.ts, wire/, session/, protect/, flow/) report here through
// ProxyMetrics.h2; registered on the proxy's registry by ProxyMetrics (metrics.ts).
import { Counter, Gauge, type Registry } from 'prom-client';
import { COMMON_H2_CODES, h2CodeName } from '../h2-codes.js';
import { CellCounter, type CounterCell } from '../metrics-cells.js';

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
  /** RST_STREAM and GOAWAY by side, direction and code, counted in cells (metrics-cells.ts): a reset flood is cheap to count. */
  private readonly rstStreams: CodeCounter;
  private readonly goaways: CodeCounter;
  private readonly rapidResets: Counter;
  private readonly keepaliveTimeouts: Counter<'side'>;
  private readonly windowChanges: Counter<'side' | 'kind'>;
  private readonly openWindows = new Set<{ side: Side; windows: Record<WindowKind, number> }>();
  private readonly lastWindow = new Map<string, number>();
  // Sessions and streams opened and closed: opened for a harness to read how many a repetition used (their
  // increase), open ones as the difference. Plain numbers on the per-stream path, copied into the counters and
  // gauges at each scrape: cheaper than any label lookup.
  private readonly counts: Record<Side, Counts> = { downstream: new Counts(), upstream: new Counts() };

  constructor(registry: Registry) {
    const registers = [registry];
    this.rstStreams = new CodeCounter(
      new CellCounter({
        name: 'sluice_proxy_rst_stream_total',
        help: 'RST_STREAM frames by side (downstream: clients, upstream: endpoints), direction and error code name.',
        labelNames: ['side', 'direction', 'code'] as const,
        registers,
      }),
    );
    this.goaways = new CodeCounter(
      new CellCounter({
        name: 'sluice_proxy_goaway_total',
        help: "GOAWAY by side, direction and error code name. Received: every frame. Sent: the proxy's own decisions (drain, rapid reset, keepalive timeout), one each, and on the wire engine the engine's own (a peer's protocol error); nghttp2 sends others itself that Node does not report.",
        labelNames: ['side', 'direction', 'code'] as const,
        registers,
      }),
    );
    const counts = this.counts;
    // Both sides from the start, so a dashboard shows an idle side as 0 rather than as no data.
    for (const [name, help, key] of [
      ['sluice_proxy_sessions', 'Open HTTP/2 sessions by side (downstream: clients, upstream: endpoints).', 'sessions'],
      ['sluice_proxy_streams', 'Open HTTP/2 streams by side.', 'streams'],
    ] as const) {
      new Gauge({
        name,
        help,
        labelNames: ['side'] as const,
        registers,
        collect() {
          for (const side of ['downstream', 'upstream'] as const) this.set({ side }, counts[side].open(key));
        },
      });
    }
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
          for (const side of ['downstream', 'upstream'] as const) this.inc({ side }, counts[side].opened[key]);
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
          this.rstStreams.zero(side, direction, code);
          this.goaways.zero(side, direction, code);
        }
      }
    }
  }

  rst(side: Side, direction: Direction, code: number): void {
    this.rstStreams.cell(side, direction, code).value++;
  }

  goaway(side: Side, direction: Direction, code: number): void {
    this.goaways.cell(side, direction, code).value++;
  }

  /** Counts one open session until the returned function is called (once; later calls do nothing). */
  sessionOpened(side: Side): () => void {
    return this.counts[side].opening('sessions');
  }

  /** Counts one open stream until the returned function is called (once). */
  streamOpened(side: Side): () => void {
    return this.counts[side].opening('streams');
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

/** One side's sessions and streams opened and closed. */
class Counts {
  readonly opened = { sessions: 0, streams: 0 };
  private readonly closed = { sessions: 0, streams: 0 };

  open(what: 'sessions' | 'streams'): number {
    return this.opened[what] - this.closed[what];
  }

  /** Counts one opened until the returned function is called (once; later calls do nothing). */
  opening(what: 'sessions' | 'streams'): () => void {
    this.opened[what]++;
    const closed = this.closed;
    let open = true;
    return () => {
      if (open) closed[what]++;
      open = false;
    };
  }
}

/** A counter by side, direction and code name, its cells kept by code number. */
class CodeCounter {
  private readonly cells: Record<Side, Record<Direction, Map<number, CounterCell>>> = {
    downstream: { sent: new Map(), received: new Map() },
    upstream: { sent: new Map(), received: new Map() },
  };

  constructor(private readonly counter: CellCounter<'side' | 'direction' | 'code'>) {}

  cell(side: Side, direction: Direction, code: number): CounterCell {
    const byCode = this.cells[side][direction];
    let cell = byCode.get(code);
    if (!cell) byCode.set(code, (cell = this.counter.cell({ side, direction, code: h2CodeName(code) })));
    return cell;
  }

  /** Shows the code at 0 until counted. */
  zero(side: Side, direction: Direction, code: string): void {
    this.counter.zero({ side, direction, code });
  }
}
