// The per-session stack of the wire engine's upstream client: what is attached to each endpoint connection, one
// concern a line in `upstreamStack` below, as session-stack.ts composes the downstream's and ../stack.ts the
// per-request layers. The client (upstream.ts) keeps what is its own: which session takes a request, the queue
// past the peer's stream limit, and failing what waited on a session that closed.
import type { CloseReason } from '../../../h2/connection.js';
import { H2_CODE } from '../h2-codes.js';
import type { H2ClientConfig } from '../upstream/h2.js';
import { wireKeepalive } from './keepalive.js';
import type { WireSession } from './session.js';
import type { SessionConcern } from './session-stack.js';

/** What the concerns share of one endpoint session. */
export interface UpstreamSessionContext {
  readonly wire: WireSession;
  readonly config: H2ClientConfig;
  /** Open streams, as the client counts them (absorbed ones included). */
  streams(): number;
  /** Streams whose response ended while their END_STREAM waits behind the peer's window. */
  lingering(): number;
  /** Looks at the lingering streams again: those the connection has closed meanwhile are let go. */
  sweep(): void;
  /** No new streams on this session (the next request connects another). */
  retire(): void;
  /** Whether the session still takes new streams. */
  usable(): boolean;
}

/** The concerns of an endpoint session, in the order they hear each event. */
export function upstreamStack(ctx: UpstreamSessionContext): SessionConcern[] {
  return [
    // Session gauge, GOAWAY received, and the GOAWAY the engine sent on its own (a protocol error of the peer's).
    observe(ctx),
    // The windows gauges, and their growth with --adaptive (H2Connection's BDP samples).
    windows(ctx),
    // --keepalive-interval / --keepalive-timeout, from the peer's first SETTINGS: a PING after a quiet interval.
    keepalive(ctx),
    // --idle-evict: a session without open streams for idleMs is closed (GOAWAY, then FIN).
    idleEvict(ctx),
  ];
}

function observe(ctx: UpstreamSessionContext): SessionConcern {
  const { metrics } = ctx.config;
  const closed = metrics.h2.sessionOpened('upstream');
  return {
    goawayReceived: (code) => metrics.h2.goaway('upstream', 'received', code),
    closed: (reason: CloseReason) => {
      closed();
      // The engine's own GOAWAYs (a protocol error of the peer's, a flood bound): counted as the proxy's are.
      if (reason.by === 'local' && reason.code !== H2_CODE.NO_ERROR) metrics.h2.goaway('upstream', 'sent', reason.code);
    },
  };
}

function windows(ctx: UpstreamSessionContext): SessionConcern {
  const { metrics, streamWindow, connWindow } = ctx.config;
  const report = metrics.h2.windows('upstream', streamWindow, connWindow);
  return {
    // As flow/attach.ts reports the node engine's growth.
    bdpSample: (sample, stream, conn) => {
      if (sample.streamGrew) report.changed('stream', stream);
      if (sample.connGrew) report.changed('connection', conn);
    },
    closed: () => report.close(),
  };
}

function keepalive(ctx: UpstreamSessionContext): SessionConcern {
  const { keepaliveInterval: intervalMs, keepaliveTimeout: timeoutMs, metrics } = ctx.config;
  let k: ReturnType<typeof wireKeepalive> | undefined;
  return {
    ready: () => {
      k ??= wireKeepalive(ctx.wire, { intervalMs, timeoutMs, metrics, side: 'upstream' });
    },
    pingAck: (opaque) => k?.onPingAck(opaque),
    closed: () => k?.stop(),
  };
}

function idleEvict(ctx: UpstreamSessionContext): SessionConcern {
  // Once a session has had no open stream for idleMs it is closed (GOAWAY, then FIN), so an endpoint nobody
  // talks to holds no connection. The timer runs from the connect and restarts whenever the last stream
  // closes; firing while streams are open does nothing.
  const timer = setTimeout(() => {
    if (ctx.lingering() > 0) {
      ctx.sweep(); // the last of them closing restarts this timer (streamClosed)
      if (ctx.streams() > 0) timer.refresh(); // else looked at again after idleMs
      return;
    }
    if (ctx.streams() > 0 || !ctx.usable()) return;
    ctx.retire();
    ctx.wire.conn.goaway(H2_CODE.NO_ERROR);
  }, ctx.config.idleMs).unref();
  return {
    streamClosed: () => {
      if (ctx.streams() === 0) timer.refresh(); // idle from now: evicted after idleMs
    },
    closed: () => clearTimeout(timer),
  };
}
