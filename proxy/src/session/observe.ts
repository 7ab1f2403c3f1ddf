// What /metrics says about one HTTP/2 session, either side: it is open (sluice_proxy_sessions) until it
// closes, the streams its peer opens are open (sluice_proxy_streams) until they close, and every GOAWAY its
// peer sends is counted by code (sluice_proxy_goaway_total, direction "received"). A client session's own
// streams are counted where they are opened (upstream/h2.ts), since Node emits no event for them.
import type http2 from 'node:http2';
import type { ProxyMetrics, Side } from '../metrics.js';

/** Call as soon as the session exists (server: on 'session'; client: right after connect()). */
export function observeSession(session: http2.Http2Session, metrics: ProxyMetrics, side: Side): void {
  const closed = metrics.sessionOpened(side);
  session.once('close', closed);
  session.on('goaway', (code: number) => metrics.goaway(side, 'received', code));
  session.on('stream', (stream: http2.Http2Stream) => stream.once('close', metrics.streamOpened(side)));
}
