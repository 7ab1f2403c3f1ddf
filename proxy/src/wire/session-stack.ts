// The per-session stack of the wire engine's downstream: what is attached to each client connection, one
// concern a line in `downstreamStack` below (as ../stack.ts composes the per-request layers). The same flags as
// the node engine's downstream/h2.ts, each mapped onto H2Connection: SETTINGS and windows in
// `connectionOptions`, the rest as concerns told of the session's events.
import { H2_ERROR } from '../../../h2/errors.js';
import type { CloseReason, ConnectionOptions } from '../../../h2/connection.js';
import { MAX_WINDOW } from '../../../h2/frames.js';
import type { Sample } from '../../../h2/adaptive-window.js';
import { ConnLife } from '../downstream/conn-life.js';
import type { H2DownstreamFlags } from '../downstream/h2-common.js';
import { H2_CODE } from '../h2-codes.js';
import { Guard } from '../protect/guard.js';
import { advertisedConcurrency } from '../protect/stream-budget.js';
import { wireKeepalive } from './keepalive.js';
import type { SessionEvents, WireSession } from './session.js';

export type SessionStackConfig = H2DownstreamFlags;

/** One concern of a session (a client's here, an endpoint's in upstream-stack.ts): told of its streams and events, each hook optional. */
export interface SessionConcern {
  /** A client stream starts; false refuses it (REFUSED_STREAM), and the concerns told of it hear streamClosed. */
  streamOpened?(): boolean | void;
  /** A stream streamOpened admitted is over (closed or reset). */
  streamClosed?(): void;
  /** A RST_STREAM: `byPeer` received, else sent (ours, or the engine's answer to a stream error). */
  streamReset?(code: number, byPeer: boolean): void;
  goawayReceived?(code: number): void;
  /** The peer's first SETTINGS arrived: the session is usable (the upstream stack's keepalive starts here). */
  ready?(): void;
  pingAck?(opaque: Buffer): void;
  bdpSample?(sample: Sample, streamWindow: number, connWindow: number): void;
  /** Stop taking streams (the proxy's stop). */
  drain?(): void;
  closed?(reason: CloseReason): void;
}

/** What the concerns share of one session. */
export interface SessionContext {
  readonly session: WireSession;
  readonly config: SessionStackConfig;
  /** Counts a GOAWAY we decided to send (the engine's own, sent on a connection error, are counted at close). */
  goawaySent(code: number): void;
  /** A GOAWAY with `code` a concern counted itself (the guard's ENHANCE_YOUR_CALM): not counted again at close. */
  goawayCounted(code: number): void;
  /** Whether the GOAWAY with `code` was counted by a concern. */
  counted(code: number): boolean;
}

/** The concerns of a client session, in the order they hear each event. */
export function downstreamStack(ctx: SessionContext): SessionConcern[] {
  return [
    // Session gauge, GOAWAY received, RST_STREAM by code both ways, and the GOAWAY the engine sent on its own.
    observe(ctx),
    // The windows gauges, and their growth with --adaptive (H2Connection's BDP samples).
    windows(ctx),
    // --keepalive-interval / --keepalive-timeout: a PING after a quiet interval, closed without its ACK.
    keepalive(ctx),
    // --max-resets-per-s (GOAWAY ENHANCE_YOUR_CALM) and --max-session-buffered-bytes (REFUSED_STREAM).
    guard(ctx),
    // --downstream-idle-timeout, --max-connection-duration, drain (two-step GOAWAY), --drain-timeout.
    life(ctx),
  ];
}

/** SETTINGS, windows and bounds of each client connection, from the same flags as the node engine's. */
export function connectionOptions(config: SessionStackConfig, onBdpSample: ConnectionOptions['onBdpSample']): ConnectionOptions {
  // Lowered so that stream window × streams fits --max-session-buffered-bytes (protect/stream-budget.ts).
  const concurrency = advertisedConcurrency(config.maxConcurrentStreams, config.streamWindow, config.maxSessionBufferedBytes);
  return {
    settings: {
      initialWindowSize: config.streamWindow,
      maxConcurrentStreams: concurrency,
      maxFrameSize: config.maxFrameSize,
      maxHeaderListSize: config.maxHeaderListSize,
    },
    connectionWindow: config.connWindow,
    limits: {
      // Response DATA waiting for the client's windows: with sendBody's backpressure a stream holds one chunk
      // (a DATA frame or a socket read, at most 64 KiB); the 1 MiB default would reset streams at concurrency 256.
      maxBufferedBytes: Math.max(2 ** 20, Math.min(concurrency, 4096) * 256 * 1024),
      // Time limits are ConnLife's (--downstream-idle-timeout, --drain-timeout), as on the node engine, which
      // has no idle-stream timer: a quiet gRPC stream is not cut.
      connectionIdleTimeoutMs: Infinity,
      streamIdleTimeoutMs: Infinity,
      drainTimeoutMs: Infinity,
      // resetBurst / resetRatePerSecond stay nghttp2's (1000, 33 a second), as under the node engine; the
      // guard's --max-resets-per-s is the lower, configurable and counted one.
    },
    ...(config.adaptive && { flow: { adaptive: {} }, onBdpSample }),
  };
}

/** Runs the concerns for one session: builds the session's events and fans each out. */
export class SessionStack implements SessionContext {
  readonly session: WireSession;
  // Assigned once the session exists (the concerns attach to it); undefined only during its constructor.
  private readonly concerns: SessionConcern[] | undefined;
  private lastGoawaySent: number | undefined;
  /** The client's GOAWAY carried an error: the streams it drops are no RST_STREAM of its. */
  private peerFailed = false;

  constructor(
    readonly config: SessionStackConfig,
    open: (events: SessionEvents, opts: ConnectionOptions) => WireSession,
    onStream: SessionEvents['onStream'],
  ) {
    this.session = open(
      {
        onStream,
        onStreamReset: (_id, code, local) => {
          if (!local && this.peerFailed) return;
          this.each((c) => c.streamReset?.(code, !local));
        },
        onGoaway: (_last, code) => {
          this.peerFailed ||= code !== H2_ERROR.NO_ERROR;
          this.each((c) => c.goawayReceived?.(code));
        },
        onPingAck: (opaque) => this.each((c) => c.pingAck?.(opaque)),
        onClose: (reason) => this.each((c) => c.closed?.(reason)),
      },
      connectionOptions(config, (sample, s, c) => this.each((k) => k.bdpSample?.(sample, s, c))),
    );
    this.concerns = downstreamStack(this);
  }

  /** A client stream: false when refused (the caller resets it REFUSED_STREAM). */
  streamOpened(): boolean {
    const concerns = this.concerns!;
    for (let i = 0; i < concerns.length; i++) {
      if (concerns[i]!.streamOpened?.() === false) {
        for (let j = 0; j <= i; j++) concerns[j]!.streamClosed?.();
        return false;
      }
    }
    return true;
  }

  streamClosed(): void {
    this.each((c) => c.streamClosed?.());
  }

  drain(): void {
    this.each((c) => c.drain?.());
  }

  goawaySent(code: number): void {
    this.lastGoawaySent = code;
    this.config.metrics.h2.goaway('downstream', 'sent', code);
  }

  goawayCounted(code: number): void {
    this.lastGoawaySent = code;
  }

  counted(code: number): boolean {
    return this.lastGoawaySent === code;
  }

  private each(fn: (c: SessionConcern) => void): void {
    // Events of the constructor's own writes come before the concerns exist: nothing to tell yet.
    if (this.concerns) for (const c of this.concerns) fn(c);
  }
}

function observe(ctx: SessionContext): SessionConcern {
  const { metrics } = ctx.config;
  const closed = metrics.h2.sessionOpened('downstream');
  const conn = ctx.session.conn;
  return {
    streamReset: (code, byPeer) => {
      if (byPeer) return metrics.h2.rst('downstream', 'received', code);
      // A connection closing drops its streams through the same event before it is closed: only a RST_STREAM
      // on a connection still open after this turn was a frame of its own.
      queueMicrotask(() => {
        if (!conn.closed || conn.closeReason?.by === 'transport') metrics.h2.rst('downstream', 'sent', code);
      });
    },
    goawayReceived: (code) => metrics.h2.goaway('downstream', 'received', code),
    closed: (reason) => {
      closed();
      // The engine's own GOAWAY (a connection error of the client's: PROTOCOL_ERROR, a flood bound's
      // ENHANCE_YOUR_CALM, nghttp2's reset bucket), unless a concern decided and counted it.
      if (reason.by === 'local' && reason.code !== H2_ERROR.NO_ERROR && !ctx.counted(reason.code)) {
        metrics.h2.goaway('downstream', 'sent', reason.code);
      }
    },
  };
}

function windows(ctx: SessionContext): SessionConcern {
  const { metrics, streamWindow, connWindow } = ctx.config;
  const report = metrics.h2.windows('downstream', streamWindow, connWindow);
  return {
    bdpSample: (sample, stream, conn) => {
      if (sample.connGrew) report.changed('connection', Math.min(conn, MAX_WINDOW));
      if (sample.streamGrew) report.changed('stream', Math.min(stream, MAX_WINDOW));
    },
    closed: () => report.close(),
  };
}

function keepalive(ctx: SessionContext): SessionConcern {
  const { config } = ctx;
  const k = wireKeepalive(ctx.session, { intervalMs: config.keepaliveInterval, timeoutMs: config.keepaliveTimeout, metrics: config.metrics, side: 'downstream' });
  return { pingAck: (opaque) => k.onPingAck(opaque), closed: () => k.stop() };
}

function guard(ctx: SessionContext): SessionConcern {
  const { conn } = ctx.session;
  const g = new Guard(
    {
      streamWindow: () => conn.local.initialWindowSize,
      // GOAWAY ENHANCE_YOUR_CALM and close at once (counted by the guard).
      calm: (err) => {
        ctx.goawayCounted(H2_CODE.ENHANCE_YOUR_CALM);
        conn.goaway(H2_CODE.ENHANCE_YOUR_CALM, err.message);
      },
    },
    ctx.config,
  );
  return {
    streamOpened: () => g.opened(),
    streamClosed: () => g.closed(),
    streamReset: (_code, byPeer) => {
      if (byPeer) g.peerReset();
    },
  };
}

function life(ctx: SessionContext): SessionConcern {
  const { conn } = ctx.session;
  const l = new ConnLife(ctx.config, {
    // RFC 9113's two-step GOAWAY (H2Connection.goaway): 2^31-1 and a PING, then the last stream id at its ACK;
    // the connection ends once its streams are done. ConnLife closes it after --drain-timeout regardless.
    drain: () => {
      if (conn.state === 'open') ctx.goawaySent(H2_CODE.NO_ERROR);
      conn.goaway();
    },
    close: () => conn.close(),
  });
  return {
    streamOpened: () => l.started(),
    streamClosed: () => l.finished(),
    goawayReceived: () => l.closing('peer'),
    drain: () => l.drain('drain'),
    closed: (reason) => {
      if (reason.code !== H2_ERROR.NO_ERROR) l.closing('error');
      l.closed('peer');
    },
  };
}
