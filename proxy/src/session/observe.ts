// What /metrics says about one HTTP/2 session, either side: it is open (sluice_proxy_sessions) until it
// closes, and every GOAWAY its peer sends is counted by code (sluice_proxy_goaway_total, direction
// "received"). Streams (sluice_proxy_streams) are counted where each side already handles them, with no
// listener of their own: downstream/h2.ts handle() and upstream/h2.ts request().
import type http2 from 'node:http2';
import type { ProxyMetrics, Side } from '../metrics.js';

/** Call as soon as the session exists (server: on 'session'; client: right after connect()). */
export function observeSession(session: http2.Http2Session, metrics: ProxyMetrics, side: Side): void {
  const closed = metrics.h2.sessionOpened(side);
  session.once('close', closed);
  session.on('goaway', (code: number) => metrics.h2.goaway(side, 'received', code));
}
