// Wires flow control to one HTTP/2 session: reports its local windows to /metrics and, with --adaptive,
// runs the BDP PING loop of h2/adaptive-window.ts on it until the session closes.
//
// Bytes received are read from the session's socket (bytesRead, counted by the TCP handle as nghttp2
// reads them), so no 'data' listener ever changes a stream's flowing mode or backpressure. It counts frame
// headers and HEADERS too, a few per cent on bulk DATA.
// Rules kept here: one PING in flight (Node kills a session with more than 10 unacknowledged), one SETTINGS
// in flight (a growth while one is pending is sent once it is acknowledged), PINGs only while bytes arrive.
import type http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { ProxyMetrics, Side } from '../metrics.js';
import { AdaptiveWindow } from '../../../h2/adaptive-window.js';

export interface FlowConfig {
  streamWindow: number;
  connWindow: number;
  adaptive: boolean;
  metrics: ProxyMetrics;
  side: Side;
  /** For tests: PING interval bounds (see h2/adaptive-window.ts). */
  minIntervalMs?: number;
  maxIntervalMs?: number;
}

export interface FlowHandle {
  readonly estimator: AdaptiveWindow | undefined;
  stop(): void;
}

/** Call once the session can send frames (server: on 'session'; client: on 'connect'), after the
 *  fixed connection window is set. Stops by itself when the session closes. */
export function attachFlow(session: http2.Http2Session, config: FlowConfig): FlowHandle {
  const report = config.metrics.h2.windows(config.side, config.streamWindow, config.connWindow);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    report.close();
  };
  session.once('close', stop);
  if (!config.adaptive) return { estimator: undefined, stop };

  const est = new AdaptiveWindow({
    streamWindow: config.streamWindow,
    connWindow: config.connWindow,
    ...(config.minIntervalMs !== undefined && { minIntervalMs: config.minIntervalMs }),
    ...(config.maxIntervalMs !== undefined && { maxIntervalMs: config.maxIntervalMs }),
  });
  const alive = (): boolean => !stopped && !session.closed && !session.destroyed;
  const bytesRead = (): number => session.socket?.bytesRead ?? 0;

  let settingsSent = config.streamWindow;
  const pushSettings = (): void => {
    if (!alive() || est.streamWindow <= settingsSent) return;
    if (session.pendingSettingsAck) {
      session.once('localSettings', pushSettings); // the pending one first: never two unacknowledged
      return;
    }
    const window = est.streamWindow;
    try {
      // SETTINGS_INITIAL_WINDOW_SIZE also grows every open stream's window by the difference (RFC 9113 6.9.2).
      session.settings({ initialWindowSize: window }, (err) => {
        if (err) return;
        report.changed('stream', window);
        pushSettings(); // grew again while this one was in flight
      });
      settingsSent = window;
    } catch {
      // the session is closing
    }
  };

  const schedule = (ms: number): void => {
    if (!alive()) return;
    timer = setTimeout(tick, ms);
    timer.unref();
  };

  const tick = (): void => {
    timer = undefined;
    if (!alive()) return;
    if (!est.shouldPing(performance.now(), bytesRead())) return schedule(est.intervalMs);
    est.pingSent(performance.now(), bytesRead());
    let sent = false;
    try {
      sent = session.ping((err) => {
        if (err) {
          est.pingFailed();
          return schedule(est.intervalMs);
        }
        const sample = est.pingAcked(performance.now(), bytesRead());
        if (sample?.connGrew && alive()) {
          try {
            session.setLocalWindowSize(est.connWindow);
            report.changed('connection', est.connWindow);
          } catch {
            // the session is closing
          }
        }
        if (sample?.streamGrew) pushSettings();
        schedule(est.intervalMs);
      });
    } catch {
      sent = false;
    }
    if (!sent) {
      est.pingFailed();
      schedule(est.intervalMs);
    }
  };
  schedule(est.intervalMs);
  return { estimator: est, stop };
}
