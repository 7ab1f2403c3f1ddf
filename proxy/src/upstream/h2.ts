// HTTP/2 (h2c prior knowledge) client for one endpoint: one session, reconnected when it closes, errors or
// receives GOAWAY. It advertises the configured stream window in SETTINGS and grows the connection window
// with WINDOW_UPDATE once connected, so the upstream side runs the same flow control as the downstream side.
import http2 from 'node:http2';
import net from 'node:net';
import { formatAddress, type Address } from '../address.js';
import type { Config } from '../config.js';
import { CancelledError, StreamResetError, upstreamError, type ProxyError } from '../errors.js';
import { attachFlow } from '../flow/attach.js';
import { H2_CODE, isPeerReset } from '../h2-codes.js';
import { endToEnd } from '../headers.js';
import type { ProxyMetrics } from '../metrics.js';
import type { Headers, ProxyRequest, ProxyResponse } from '../service.js';
import { watchConnect } from './connect-timeout.js';
import { keepAlive } from '../session/keepalive.js';
import { observeSession } from '../session/observe.js';
import { sessionMemoryMb } from '../session/memory.js';

/** Windows, adaptive flow control (flow/attach.ts), SETTINGS and keepalive PINGs toward the endpoint, as
 *  flags.ts documents them. */
export interface H2ClientConfig
  extends Pick<
    Config,
    'streamWindow' | 'connWindow' | 'adaptive' | 'maxFrameSize' | 'maxHeaderListSize' | 'keepaliveInterval' | 'keepaliveTimeout'
  > {
  metrics: ProxyMetrics;
  /** A session without open streams for this long is closed and reconnected on demand (--idle-evict), ms. */
  idleMs: number;
  /** ms; 0 or absent: the OS's own limit. */
  connectTimeoutMs?: number;
  /** --absorb-cancels: cancelled bodiless streams let finish (answer dropped) at once per session; 0 or absent: none. */
  absorbCancels?: number;
}

/** A session not yet closed: its open streams, and its one idle timer (restarted, never re-made). */
interface OpenSession {
  streams: number;
  /** Cancelled streams left to finish, their answers dropped (--absorb-cancels). */
  absorbing: number;
  idle: NodeJS.Timeout;
}

const { NGHTTP2_FLAG_END_STREAM } = http2.constants;


export class H2Client {
  private session: http2.ClientHttp2Session | undefined;
  private closed = false;
  /** Every session not yet closed: one current, plus any still finishing streams after a GOAWAY. */
  private readonly open = new Map<http2.ClientHttp2Session, OpenSession>();

  constructor(
    private readonly address: Address,
    private readonly config: H2ClientConfig,
  ) {}

  request(req: ProxyRequest): Promise<ProxyResponse> {
    return new Promise((resolve, reject) => {
      const { metrics } = this.config;
      if (this.closed) return reject(upstreamError(Object.assign(new Error('client closed'), { code: 'ERR_HTTP2_INVALID_SESSION' })));
      let stream: http2.ClientHttp2Stream;
      const session = this.currentSession();
      try {
        stream = session.request(
          {
            ':method': req.method,
            ':path': req.path,
            ':authority': req.authority || formatAddress(this.address),
            ':scheme': req.scheme || 'http',
            ...req.headers,
          },
          { endStream: req.endStream },
        );
      } catch (err) {
        this.drop(session); // a session that cannot open streams (closing, out of ids) is replaced
        reject(upstreamError(err));
        return;
      }
      const entry = this.open.get(session);
      if (entry) entry.streams++; // Node emits no 'stream' event for a client's own streams: counted here
      const streamClosed = metrics.h2.streamOpened('upstream');
      let resetByUs = false;
      /** Reset by us after a complete answer, the request still being sent: a success, not a cancel. */
      let letGo = false;
      let lastError: unknown;
      let trailers: Headers | undefined;
      let settle: { resolve: (t: Headers | undefined) => void; reject: (e: unknown) => void } | undefined;

      const onAbort = (): void => {
        if (stream.closed || stream.destroyed) return;
        if (entry && req.endStream && entry.absorbing < (this.config.absorbCancels ?? 0)) {
          // Not passed upstream: a reset there spends the backend's reset budget, shared by every request on
          // this session. The stream finishes and its answer is read and dropped; the caller is let go now.
          entry.absorbing++;
          metrics.upstream.cancelsAbsorbed.inc();
          stream.once('close', () => entry.absorbing--);
          stream.resume();
          const cancelled = new CancelledError();
          if (settle) settle.reject(cancelled);
          else reject(cancelled);
          return;
        }
        resetByUs = true;
        metrics.h2.rst('upstream', 'sent', H2_CODE.CANCEL);
        stream.close(H2_CODE.CANCEL);
      };
      req.signal.addEventListener('abort', onAbort, { once: true });

      stream.on('error', (err) => (lastError = err)); // the outcome is read at 'close' below
      stream.on('trailers', (t) => (trailers = endToEnd(t)));
      stream.on('response', (headers, flags) => {
        const done = new Promise<Headers | undefined>((res, rej) => (settle = { resolve: res, reject: rej }));
        done.catch(() => {}); // observed by whoever reads the response; never an unhandled rejection
        resolve({
          status: Number(headers[':status']),
          headers: endToEnd(headers),
          body: stream,
          trailers: done,
          endStream: (flags & NGHTTP2_FLAG_END_STREAM) !== 0,
        });
      });
      // The answer is complete (END_STREAM read) while the request is still being sent: the rest will never come
      // (the downstream stops its client, RFC 9113 8.1) or is not wanted, so the stream is let go with CANCEL
      // instead of being left half open on the session. Only a request with a body can be caught so: one ended by
      // its headers gets no listener (no closure per GET).
      if (!req.endStream) stream.once('end', () => {
        if (stream.writableEnded || stream.closed || stream.destroyed) return;
        letGo = true;
        req.body.unpipe(stream);
        metrics.h2.rst('upstream', 'sent', H2_CODE.CANCEL);
        stream.close(H2_CODE.CANCEL);
      });
      stream.on('close', () => {
        streamClosed();
        if (entry && --entry.streams === 0) entry.idle.refresh(); // idle from now: evicted after idleMs
        req.signal.removeEventListener('abort', onAbort);
        const code = stream.rstCode;
        let failure: ProxyError | undefined;
        if (resetByUs || req.signal.aborted) failure = new CancelledError();
        else if (letGo) failure = undefined;
        else if (isPeerReset(code, { resetByUs, sessionDestroyed: session.destroyed, lastError })) {
          metrics.h2.rst('upstream', 'received', code);
          failure = new StreamResetError(code);
        } else if (lastError !== undefined || code !== H2_CODE.NO_ERROR || !settle) {
          failure = upstreamError(lastError ?? Object.assign(new Error('stream closed'), { code: 'ERR_HTTP2_INVALID_SESSION' }));
        }
        if (!settle) reject(failure);
        else if (failure) settle.reject(failure);
        else settle.resolve(trailers);
      });
      if (!req.endStream) req.body.pipe(stream);
    });
  }

  /** Closes the sessions: in-flight streams finish unless `force`. */
  close(force = false): void {
    this.closed = true;
    for (const session of this.open.keys()) {
      if (force) session.destroy();
      else session.close();
    }
  }

  /** Open sessions (0 once idle ones are evicted). */
  openSessions(): number {
    return this.open.size;
  }

  private currentSession(): http2.ClientHttp2Session {
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return s;
    return (this.session = this.connect());
  }

  private connect(): http2.ClientHttp2Session {
    const { streamWindow, connWindow, adaptive, metrics, maxFrameSize, maxHeaderListSize, connectTimeoutMs = 0 } = this.config;
    const session = http2.connect(`http://${formatAddress(this.address)}`, {
      settings: { initialWindowSize: streamWindow, enablePush: false, maxFrameSize, maxHeaderListSize },
      maxSessionMemory: sessionMemoryMb(connWindow),
      // The socket Node would make itself, made here so the connect can be timed.
      createConnection: () => {
        const socket = net.connect({ host: this.address.host, port: this.address.port });
        watchConnect(socket, connectTimeoutMs, () => metrics.timeout('connect'));
        return socket;
      },
    });
    observeSession(session, metrics, 'upstream');
    session.once('connect', () => {
      // The connection window starts at 65535 whatever SETTINGS say; only WINDOW_UPDATE grows it.
      if (session.destroyed) return;
      session.setLocalWindowSize(connWindow);
      attachFlow(session, { streamWindow, connWindow, adaptive, metrics, side: 'upstream' });
      const { keepaliveInterval: intervalMs, keepaliveTimeout: timeoutMs } = this.config;
      keepAlive(session, { intervalMs, timeoutMs, metrics, side: 'upstream' });
    });
    session.on('error', () => {}); // every stream on it fails with its own error; the next request reconnects
    session.on('goaway', () => this.drop(session));
    // Once a session has had no open stream for idleMs it is closed (GOAWAY, then FIN), so an endpoint nobody
    // talks to holds no connection; a new request reconnects. The timer runs from the connect and restarts
    // whenever the last stream closes; firing while streams are open does nothing.
    const entry: OpenSession = {
      streams: 0,
      absorbing: 0,
      idle: setTimeout(() => {
        if (entry.streams > 0) return;
        this.drop(session);
        session.close();
      }, this.config.idleMs).unref(),
    };
    this.open.set(session, entry);
    session.on('close', () => {
      this.drop(session);
      clearTimeout(entry.idle);
      this.open.delete(session);
    });
    return session;
  }

  private drop(session: http2.ClientHttp2Session): void {
    if (this.session === session) this.session = undefined;
  }
}
