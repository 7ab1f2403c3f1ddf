// Keepalive PINGs on a wire session, either side: session/keepalive.ts's loop over H2Connection's ping() and the
// session's socket (bytes read prove the peer alive), one keepalive PING in flight, told of its ACK by opaque
// data of its own (an adaptive BDP PING's ACK is not it). No ACK in time: GOAWAY NO_ERROR, then closed at once, so
// the session's streams fail now (as node:http2's destroy() does on the node engine).
import type { ProxyMetrics, Side } from '../metrics.js';
import { keepAliveOn } from '../session/keepalive.js';
import type { WireSession } from './session.js';

const KEEPALIVE_PING = Buffer.from('sluiceka', 'latin1');

export interface WireKeepalive {
  /** Every PING ACK of the session: the keepalive's own completes its wait. */
  onPingAck(opaque: Buffer): void;
  stop(): void;
}

/** Starts the loop once the session can send frames; an interval of 0 is off. */
export function wireKeepalive(
  session: WireSession,
  config: { intervalMs: number; timeoutMs: number; metrics: ProxyMetrics; side: Side },
): WireKeepalive {
  const { conn, socket } = session;
  let onAck: (() => void) | undefined;
  const handle = keepAliveOn(
    {
      alive: () => !conn.closed,
      bytesRead: () => socket.bytesRead,
      ping: (ack) => {
        if (onAck !== undefined) return false; // one keepalive PING in flight
        onAck = ack;
        conn.ping(KEEPALIVE_PING);
        return true;
      },
      close: () => {
        conn.goaway(); // GOAWAY NO_ERROR (counted by the keepalive loop), then close: the peer is gone
        conn.close();
      },
    },
    config,
  );
  return {
    onPingAck: (opaque) => {
      if (!opaque.equals(KEEPALIVE_PING)) return;
      const ack = onAck;
      onAck = undefined;
      ack?.();
    },
    stop: () => handle.stop(),
  };
}
