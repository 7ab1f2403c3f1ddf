// HTTP/2 (h2c) downstream: advertises the configured stream window and max concurrent streams in SETTINGS,
// grows each session's connection window, turns each stream into a ProxyRequest and writes the response
// back with its trailers. A failure after the headers resets the stream with the upstream's code.
import http2 from 'node:http2';
import { H2_CODE, isPeerReset } from '../h2-codes.js';
import { attachFlow } from '../flow/attach.js';
import { SessionGuard } from '../protect/guard.js';
import { advertisedConcurrency } from '../protect/stream-budget.js';
import type { ProxyRequest, ProxyResponse, Service } from '../service.js';
import { endsWithHeaders, h2ProxyRequest, resetCodeFor, type H2DownstreamFlags } from './h2-common.js';
import { keepAlive } from '../session/keepalive.js';
import { observeSession } from '../session/observe.js';
import { sessionMemoryMb } from '../session/memory.js';
import { Cancellation } from '../cancel.js';
import { ConnLife } from './conn-life.js';

export interface H2DownstreamConfig extends H2DownstreamFlags {
  service: Service;
}

const { NGHTTP2_FLAG_END_STREAM } = http2.constants;

export class H2Downstream {
  readonly server: http2.Http2Server;
  /** Every open session with its life (conn-life.ts) and guard (protect/guard.ts): one lookup per stream. */
  private readonly sessions = new Map<http2.Http2Session, { life: ConnLife; guard: SessionGuard }>();

  constructor(private readonly config: H2DownstreamConfig) {
    this.server = http2.createServer({
      settings: {
        initialWindowSize: config.streamWindow,
        // Lowered so that stream window × streams fits --max-session-buffered-bytes (protect/stream-budget.ts).
        maxConcurrentStreams: advertisedConcurrency(config.maxConcurrentStreams, config.streamWindow, config.maxSessionBufferedBytes),
        maxFrameSize: config.maxFrameSize,
        maxHeaderListSize: config.maxHeaderListSize,
      },
      maxSessionMemory: sessionMemoryMb(config.connWindow),
    });
    this.server.on('session', (session) => {
      // The connection window starts at 65535 whatever SETTINGS say; only WINDOW_UPDATE grows it.
      session.setLocalWindowSize(config.connWindow);
      const { streamWindow, connWindow, adaptive, metrics } = config;
      attachFlow(session, { streamWindow, connWindow, adaptive, metrics, side: 'downstream' });
      this.sessions.set(session, { life: this.watchLife(session), guard: this.protect(session) });
    });
    this.server.on('stream', (stream, headers, flags) => this.handle(stream, headers, flags));
  }

  /** GOAWAY to every client: in-flight streams finish, no new ones start. */
  drain(): void {
    for (const { life } of this.sessions.values()) life.drain('drain');
  }

  /** Idle timeout, max duration and drain of one session (conn-life.ts); idle means no open stream: handle()
   *  counts the streams it serves. */
  private watchLife(session: http2.ServerHttp2Session): ConnLife {
    // Drain: session.close() sends GOAWAY with the last stream id it processed, lets open streams finish, then
    // closes. Not RFC 9113's two GOAWAYs (2^31-1 first): after a GOAWAY with no open stream Node stops reading the
    // socket, so the grace period would only hold a connection that can no longer make progress.
    const drain = (): void => {
      if (!session.closed) this.config.metrics.h2.goaway('downstream', 'sent', H2_CODE.NO_ERROR);
      session.close();
    };
    const life = new ConnLife(this.config, { drain, close: () => session.destroy() });
    session.once('goaway', () => life.closing('peer'));
    // Its streams fail on their own; one client's error is not the process's.
    session.on('error', () => life.closing('error'));
    session.once('close', () => {
      this.sessions.delete(session);
      life.closed('peer');
    });
    return life;
  }

  destroyAll(): void {
    for (const session of this.sessions.keys()) session.destroy();
  }

  /** Gauges and GOAWAY counts, keepalive PINGs, and the rapid-reset and buffered-bytes guard. */
  private protect(session: http2.ServerHttp2Session): SessionGuard {
    const { metrics, keepaliveInterval, keepaliveTimeout } = this.config;
    observeSession(session, metrics, 'downstream');
    keepAlive(session, { intervalMs: keepaliveInterval, timeoutMs: keepaliveTimeout, metrics, side: 'downstream' });
    return new SessionGuard(session, this.config);
  }

  private handle(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number): void {
    const { metrics } = this.config;
    const session = stream.session;
    const state = session && this.sessions.get(session);
    if (state && !state.guard.admit(stream)) return; // refused: over --max-session-buffered-bytes
    state?.life.started();
    const streamClosed = metrics.h2.streamOpened('downstream');
    const controller = new Cancellation();
    let complete = false;
    let resetByUs = false;
    let lastError: unknown;
    const reset = (code: number): void => {
      if (stream.closed || stream.destroyed) return;
      resetByUs = true;
      metrics.h2.rst('downstream', 'sent', code);
      stream.close(code);
    };
    stream.on('error', (err) => (lastError = err)); // the outcome is read at 'close' below
    stream.on('close', () => {
      streamClosed();
      state?.life.finished();
      const sessionDestroyed = session?.destroyed ?? true;
      if (isPeerReset(stream.rstCode, { resetByUs, sessionDestroyed, lastError })) {
        metrics.h2.rst('downstream', 'received', stream.rstCode);
        state?.guard.peerReset(); // rapid reset: too many of these close the session
      }
      if (!complete) controller.abort(); // the client left: cancel the upstream request
    });
    const req = h2ProxyRequest(headers, stream, (flags & NGHTTP2_FLAG_END_STREAM) !== 0, controller.signal);
    this.config.service(req).then(
      (res) => this.respond(req, stream, res, reset, () => (complete = true)),
      (err: unknown) => {
        complete = true;
        reset(resetCodeFor(err));
      },
    );
  }

  private respond(
    req: ProxyRequest,
    stream: http2.ServerHttp2Stream,
    res: ProxyResponse,
    reset: (code: number) => void,
    markComplete: () => void,
  ): void {
    if (stream.closed || stream.destroyed) return void res.body.destroy();
    const endStream = endsWithHeaders(req, res);
    try {
      // waitForTrailers: the stream stays open after the body until sendTrailers (or a reset with the
      // upstream's code: closing it then sends RST_STREAM with that code, never a clean END_STREAM).
      stream.respond({ ...res.headers, ':status': res.status }, endStream ? { endStream } : { waitForTrailers: true });
    } catch {
      res.body.destroy();
      return reset(H2_CODE.INTERNAL_ERROR); // a header HTTP/2 will not carry: nothing sane to send
    }
    if (endStream) {
      markComplete();
      endRequestSide(stream);
      return void res.body.resume(); // nothing to forward; let the upstream stream finish
    }
    res.trailers.catch((err: unknown) => reset(resetCodeFor(err)));
    stream.once('wantTrailers', () => {
      res.trailers.then((trailers) => {
        markComplete();
        if (stream.destroyed) return;
        try {
          stream.sendTrailers(trailers ?? {}); // empty: Node ends the stream with an empty DATA frame
          endRequestSide(stream);
        } catch {
          reset(H2_CODE.INTERNAL_ERROR);
        }
      }, () => {});
    });
    res.body.pipe(stream);
  }
}

/** The response is complete (its END_STREAM handed to Node): end the request side the proxy's way.
 *  - Never leave the request unread. Node closes a server stream whose request nobody read (a GET) with
 *    RST_STREAM NO_ERROR one turn after the response is handed over (core.js kMaybeDestroy), before nghttp2 has
 *    necessarily sent END_STREAM: the final DATA frame, even empty, waits for the client's window, and the
 *    RST_STREAM goes out in its place (issue 10). Reading it (resume) takes the stream out of that rule, and it
 *    closes when END_STREAM has been sent.
 *  - A body still arriving (an early 413 or 4xx) is read and dropped, so it holds no connection window, and
 *    stopped with RST_STREAM NO_ERROR (RFC 9113 8.1), only once our END_STREAM is on the wire. Node tells no
 *    frame as sent, so the stream's state is read as the client's DATA arrives and every STOP_POLL_MS until then:
 *    a client that sends nothing more is stopped too. */
function endRequestSide(stream: http2.ServerHttp2Stream): void {
  if (stream.closed || stream.destroyed) return;
  if (stream.readableEnded || stream.state.remoteClose === 1) {
    if (stream.readableFlowing === null) stream.resume();
    return;
  }
  stream.unpipe();
  const done = (): void => {
    clearInterval(poll);
    stream.off('data', stopOnceEnded);
  };
  const stopOnceEnded = (): void => {
    if (stream.closed || stream.destroyed) return done();
    if (stream.state.localClose !== 1) return;
    done();
    stream.close(H2_CODE.NO_ERROR);
  };
  const poll = setInterval(stopOnceEnded, STOP_POLL_MS);
  poll.unref();
  stream.once('close', done);
  stream.on('data', stopOnceEnded);
  stream.resume(); // unpipe() paused it: a 'data' listener alone would not restart the flow
}

/** How often an early-answered upload's stream is checked for our END_STREAM having left (then its client is stopped). */
const STOP_POLL_MS = 5;
