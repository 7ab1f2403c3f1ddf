// HTTP/2 keepalive for one session, either side, as hyper does it (src/proto/h2/ping.rs, KeepAlive): once
// `intervalMs` pass without a byte from the peer, send a PING; if its ACK does not come within `timeoutMs`,
// the peer is gone (a dead host, a silent middlebox, a stalled process) and the session is closed, so its
// streams fail now instead of hanging until TCP gives up, or for ever. A session with traffic is never pinged:
// bytes read from the socket prove the peer alive, and at load the PINGs would only cost.
//
// Liveness is read from the socket's bytesRead (as flow/attach.ts does), so no 'data' listener changes a
// stream's flowing mode. One keepalive PING at most is in flight; --adaptive may have one of its own, well
// under Node's limit of 10 unacknowledged.
import type http2 from 'node:http2';
import { H2_CODE } from '../h2-codes.js';
import type { ProxyMetrics, Side } from '../metrics.js';

export interface KeepaliveConfig {
  intervalMs: number;
  timeoutMs: number;
  metrics: ProxyMetrics;
  side: Side;
}

export interface KeepaliveHandle {
  stop(): void;
}

/** What a keepalive needs of a session, whatever its engine (node:http2 below, proxy/src/wire/ over H2Connection). */
export interface KeepaliveTarget {
  /** Open and able to send frames. */
  alive(): boolean;
  /** Bytes read from the peer so far (the socket's bytesRead): any change proves it alive. */
  bytesRead(): number;
  /** Sends one PING; `onAck` runs at its ACK only (never when the session fails). False: not sent this time. */
  ping(onAck: () => void): boolean;
  /** The ACK did not come in time: GOAWAY NO_ERROR, then close the socket. */
  close(): void;
}

/** Call once the session can send frames (server: on 'session'; client: on 'connect'). An interval of 0 is
 *  off. Stops by itself when the session closes. */
export function keepAlive(session: http2.Http2Session, config: KeepaliveConfig): KeepaliveHandle {
  if (config.intervalMs <= 0) return { stop: () => {} };
  const handle = keepAliveOn(
    {
      alive: () => !session.closed && !session.destroyed,
      bytesRead: () => session.socket?.bytesRead ?? 0,
      ping: (onAck) => {
        try {
          return session.ping((err) => {
            if (!err) onAck(); // an error: cancelled with the session
          });
        } catch {
          return false; // the session is closing
        }
      },
      close: () => session.destroy(), // writes GOAWAY NO_ERROR (hyper closes the same way), then closes the socket
    },
    config,
  );
  session.once('close', handle.stop);
  return handle;
}

/** The keepalive loop over any session; the owner calls stop() when the session closes. */
export function keepAliveOn(target: KeepaliveTarget, config: KeepaliveConfig): KeepaliveHandle {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const stop = (): void => {
    stopped = true;
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  if (config.intervalMs <= 0) return { stop };

  const alive = (): boolean => !stopped && target.alive();
  let seen = target.bytesRead();

  const arm = (ms: number, fn: () => void): void => {
    if (!alive()) return;
    timer = setTimeout(fn, ms);
    timer.unref(); // a session never keeps the process alive on its own
  };

  const idleCheck = (): void => {
    timer = undefined;
    if (!alive()) return;
    const now = target.bytesRead();
    if (now !== seen) {
      seen = now; // the peer spoke during the interval
      return arm(config.intervalMs, idleCheck);
    }
    let acked = false;
    const expire = (): void => {
      timer = undefined;
      if (acked || !alive()) return;
      stop();
      config.metrics.h2.keepaliveTimeout(config.side);
      config.metrics.h2.goaway(config.side, 'sent', H2_CODE.NO_ERROR);
      target.close();
    };
    const sent = target.ping(() => {
      if (!alive()) return;
      acked = true;
      if (timer) clearTimeout(timer);
      seen = target.bytesRead();
      arm(config.intervalMs, idleCheck);
    });
    if (!sent) return arm(config.intervalMs, idleCheck); // too many PINGs in flight, or closing: try next interval
    arm(config.timeoutMs, expire);
  };
  arm(config.intervalMs, idleCheck);
  return { stop };
}
