// The wire engine's HTTP/2 (h2c prior knowledge) client for one endpoint: upstream/h2.ts's H2Client (same public
// surface, same errors, same metrics) on h2/connection.ts instead of node:http2. One session per endpoint, replaced
// when it closes, errors or receives GOAWAY; receive credit is strict end to end (body.ts), so a slow downstream
// reader holds the upstream's window shut instead of the proxy buffering the response. What is attached to each
// session (metrics, windows, keepalive, idle eviction) is its per-session stack, composed in upstream-stack.ts.
//
// Streams past the peer's SETTINGS_MAX_CONCURRENT_STREAMS wait in one FIFO queue per endpoint until a stream
// closes (as nghttp2 under node:http2 and the h2 crate's SendRequest do), rather than opening a second session:
// the backend chose the limit per connection, and a second connection would side-step it. A request also waits
// until the session is usable: the socket connected and the peer's SETTINGS read, so the first streams already
// know the peer's limits (no REFUSED_STREAM burst at connect; one half round trip at connect, none after).
import net from 'node:net';
import { formatAddress, type Address } from '../address.js';
import { CancelledError, StreamResetError, upstreamError, type ProxyError } from '../errors.js';
import { H2_CODE } from '../h2-codes.js';
import { endToEnd } from '../headers.js';
import type { Headers, ProxyRequest, ProxyResponse } from '../service.js';
import { watchConnect } from '../upstream/connect-timeout.js';
import type { H2ClientConfig } from '../upstream/h2.js';
import { InboundBody, sendBody } from './body.js';
import { WireSession, type StreamHandler } from './session.js';
import type { SessionConcern } from './session-stack.js';
import { upstreamStack } from './upstream-stack.js';
import { IdMap } from '../../../h2/id-map.js';
import type { CloseReason } from '../../../h2/connection.js';

const EMPTY = Buffer.alloc(0);
/** What may wait for the peer's windows per session: a request body queues one chunk per stream (sendBody
 *  pauses on a queue), so the engine's 1 MiB default would reset streams of a busy session; node:http2 has no
 *  bound here at all. As --max-session-buffered-bytes' default. */
const MAX_BUFFERED_BYTES = 256 * 2 ** 20;
/** A session whose stream ids reach this is replaced before they run out (2^31-1 is the last one). */
const LAST_STREAM_ID = 2 ** 31 - 1 - 2 * 1024;

/** An upstream connection failure of the kind node:http2 reports as ERR_HTTP2_INVALID_SESSION (connection-closed). */
function sessionClosedError(message: string, code = 'ERR_HTTP2_INVALID_SESSION'): Error {
  return Object.assign(new Error(message), { code });
}

/** One session not yet closed. */
class Session {
  /** The peer's SETTINGS have arrived: streams may open. */
  ready = false;
  /** False once it received GOAWAY or is closing: no new streams. */
  usable = true;
  /** Open streams (absorbed ones included), as this client counts them. */
  streams = 0;
  /** Cancelled streams left to finish, their answers dropped (--absorb-cancels). */
  absorbing = 0;
  /** By stream id: an IdMap, not a Set (h2/id-map.ts: a churned Set kept finished exchanges alive into the old generation). */
  readonly active = new IdMap<Exchange>();
  /** Exchanges whose response ended while their END_STREAM still waited for the peer's window: the connection
   *  forgets such a stream silently once the END_STREAM leaves, so these are looked at again (sweep()). */
  readonly lingering = new Set<Exchange>();
  /** The socket's error (ECONNREFUSED, ECONNRESET, ETIMEDOUT): the reason its streams fail. */
  error: Error | undefined;
  goawayCode: number | undefined;
  /** Its per-session stack (upstream-stack.ts); empty until the constructor's caller attaches it. */
  concerns: SessionConcern[] = [];

  constructor(readonly wire: WireSession) {}

  each(fn: (c: SessionConcern) => void): void {
    const concerns = this.concerns;
    for (let i = 0; i < concerns.length; i++) fn(concerns[i]!);
  }

  /** Why its streams fail now that it closed (or is closing under them). */
  failure(reason: CloseReason | undefined): ProxyError {
    if (this.error) return upstreamError(this.error);
    if (reason && reason.by === 'local' && reason.code !== H2_CODE.NO_ERROR) {
      return upstreamError(sessionClosedError(reason.message, 'ERR_HTTP2_ERROR'));
    }
    return upstreamError(sessionClosedError(reason?.message ?? 'session closed'));
  }

  /** Streams the connection closed without telling anyone (see `lingering`). */
  sweep(): void {
    if (this.lingering.size === 0) return;
    for (const ex of this.lingering) if (this.wire.conn.streamState(ex.id) === 'closed') ex.closed();
  }
}

/** One request on its way: queued, then one stream. Implements the stream's handler itself (no closures per event). */
class Exchange implements StreamHandler {
  session: Session | undefined;
  id = 0;
  private body: InboundBody | undefined;
  private trailers: Headers | undefined;
  private settle: { resolve: (t: Headers | undefined) => void; reject: (e: unknown) => void } | undefined;
  private sender: ReturnType<typeof sendBody> | undefined;
  private responseDone = false;
  private isClosed = false;
  private resetByUs = false;
  private absorbed = false;
  private failed = false;
  private streamClosedMetric: (() => void) | undefined;
  readonly onAbort = (): void => this.client.cancel(this);

  constructor(
    private readonly client: WireH2Client,
    readonly req: ProxyRequest,
    private readonly resolve: (res: ProxyResponse) => void,
    private readonly reject: (err: unknown) => void,
  ) {}

  /** The stream is open on `session` as `id`. */
  opened(session: Session, id: number, streamClosed: () => void): void {
    this.session = session;
    this.id = id;
    this.streamClosedMetric = streamClosed;
    session.streams++;
    session.active.set(id, this);
    if (this.req.endStream) return;
    const { conn } = session.wire;
    this.sender = sendBody(conn, id, this.req.body, {
      onEnd: () => {
        conn.sendData(id, EMPTY, true);
        this.maybeClosed();
      },
      onError: () => this.cancelStream(),
    });
  }

  onHeaders(list: Array<[string, string]>, endStream: boolean): void {
    if (this.settle === undefined && !this.failed) {
      const status = list[0]![1]; // the connection checked the response: :status first, three digits
      if (status.charCodeAt(0) === 49 /* '1' */) return; // informational: the final response follows
      const body = new InboundBody(this.session!.wire.conn, this.id);
      const trailers = new Promise<Headers | undefined>((res, rej) => (this.settle = { resolve: res, reject: rej }));
      trailers.catch(() => {}); // observed by whoever reads the response; never an unhandled rejection
      this.body = body;
      this.resolve({ status: Number(status), headers: endToEnd(toObject(list)), body, trailers, endStream });
      if (endStream) body.deliver(EMPTY, true);
    } else if (endStream) {
      this.trailers = endToEnd(toObject(list));
      this.body?.deliver(EMPTY, true);
    }
    this.ended(endStream);
  }

  onData(data: Buffer, endStream: boolean): void {
    const body = this.body;
    if (body !== undefined && !body.destroyed) body.deliver(data, endStream);
    else if (data.length > 0) this.session!.wire.conn.consume(this.id, data.length); // nobody reads it: drop, credit
    this.ended(endStream);
  }

  onWritable(): void {
    this.sender?.onWritable();
  }

  onReset(code: number, local: boolean): void {
    const session = this.session!;
    this.sender?.stop(false);
    if (this.responseDone && code === H2_CODE.NO_ERROR) return this.closed(); // RFC 9113 8.1: stop sending, answer complete
    if (this.resetByUs || this.req.signal.aborted) {
      this.fail(new CancelledError());
      return this.closed();
    }
    if (!local) {
      if (session.goawayCode !== undefined && session.goawayCode !== H2_CODE.NO_ERROR && code === session.goawayCode) {
        this.fail(session.failure(undefined)); // the connection ended with an error GOAWAY, not this stream
      } else {
        this.client.metrics.h2.rst('upstream', 'received', code);
        this.fail(new StreamResetError(code));
      }
      return this.closed();
    }
    // Ours: a stream error (a malformed response, a bound) leaves the connection open; a connection error resets
    // every stream first and closes right after, so which it was is known a moment later.
    queueMicrotask(() => {
      const { conn } = session.wire;
      if (conn.closed) this.fail(session.failure(conn.closeReason));
      else {
        this.client.metrics.h2.rst('upstream', 'sent', code);
        this.fail(new StreamResetError(code));
      }
      this.closed();
    });
  }

  /** The session closed with this stream still open (a transport close drops streams without onReset). */
  sessionClosed(reason: CloseReason | undefined): void {
    if (this.isClosed) return;
    this.sender?.stop(false);
    this.fail(this.resetByUs || this.req.signal.aborted ? new CancelledError() : this.session!.failure(reason));
    this.closed();
  }

  /** The downstream went away. */
  cancel(): boolean {
    if (this.isClosed || this.failed) return false;
    const session = this.session!;
    if (this.req.endStream && !this.absorbed && session.absorbing < this.client.absorbCancels) {
      // Not passed upstream: a reset there spends the backend's reset budget, shared by every request on this
      // session. The stream finishes and its answer is read and dropped; the caller is let go now.
      this.absorbed = true;
      session.absorbing++;
      this.client.metrics.upstream.cancelsAbsorbed.inc();
      this.body?.destroy(); // its credit goes back; later DATA is credited as it comes (onData)
      this.fail(new CancelledError());
      return true;
    }
    this.cancelStream();
    return true;
  }

  /** RST_STREAM(CANCEL) from us (the downstream left, or the request body failed). */
  private cancelStream(): void {
    if (this.isClosed || this.session!.wire.conn.streamState(this.id) === 'closed') return; // gone already
    this.resetByUs = true;
    this.client.metrics.h2.rst('upstream', 'sent', H2_CODE.CANCEL);
    this.session!.wire.conn.reset(this.id, H2_CODE.CANCEL); // onReset follows at once
  }

  /** Fails the request: before its response (the request's promise) or after (the trailers' promise). */
  fail(err: unknown): void {
    if (this.failed || (this.responseDone && this.settle !== undefined)) return;
    this.failed = true;
    if (this.session === undefined) this.req.signal.removeEventListener('abort', this.onAbort); // never opened
    this.body?.destroy();
    if (this.settle !== undefined) this.settle.reject(err);
    else this.reject(err);
  }

  private ended(endStream: boolean): void {
    if (!endStream) return;
    this.responseDone = true;
    if (!this.failed) {
      if (this.settle !== undefined) this.settle.resolve(this.trailers);
      else this.fail(upstreamError(sessionClosedError('stream ended without a response'))); // only 1xx, then END_STREAM
    }
    this.maybeClosed();
  }

  /** Both sides ended: the connection forgot the stream. */
  private maybeClosed(): void {
    const session = this.session!;
    if (session.wire.conn.streamState(this.id) === 'closed') this.closed();
    else if (this.responseDone) session.lingering.add(this); // our END_STREAM waits for window
  }

  /** The stream is gone from the connection: let its slot go. Once. */
  closed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const session = this.session!;
    session.lingering.delete(this);
    session.active.delete(this.id);
    session.wire.release(this.id);
    if (this.absorbed) session.absorbing--;
    this.streamClosedMetric?.();
    this.req.signal.removeEventListener('abort', this.onAbort);
    this.client.streamClosed(session);
  }
}

/** Header fields as node:http2 hands them over (what headers.ts's endToEnd reads): repeated names as arrays. */
function toObject(list: Array<[string, string]>): NodeJS.Dict<string | string[]> {
  const out: NodeJS.Dict<string | string[]> = Object.create(null) as NodeJS.Dict<string | string[]>;
  for (let i = 0; i < list.length; i++) {
    const [name, value] = list[i]!;
    const had = out[name];
    if (had === undefined) out[name] = value;
    else if (Array.isArray(had)) had.push(value);
    else out[name] = [had, value];
  }
  return out;
}

/** A request's header list: pseudo-headers first, then its fields (an array value as repeated fields). */
function requestHeaders(req: ProxyRequest, authority: string): Array<[string, string]> {
  const list: Array<[string, string]> = [
    [':method', req.method],
    [':path', req.path],
    [':authority', req.authority || authority],
    [':scheme', req.scheme || 'http'],
  ];
  const { headers } = req;
  for (const name in headers) {
    const value = headers[name]!;
    if (typeof value === 'string') list.push([name, value]);
    else for (const v of value) list.push([name, v]);
  }
  return list;
}

export class WireH2Client {
  private current: Session | undefined;
  private isClosed = false;
  /** Every session not yet closed: one current, plus any still finishing streams after a GOAWAY. */
  private readonly open = new Set<Session>();
  /** Requests waiting for a usable session or for a stream slot, oldest first. */
  private queue: Exchange[] = [];
  private dispatchQueued = false;
  private readonly authority: string;
  readonly metrics: H2ClientConfig['metrics'];
  readonly absorbCancels: number;

  constructor(
    private readonly address: Address,
    private readonly config: H2ClientConfig,
  ) {
    this.authority = formatAddress(address);
    this.metrics = config.metrics;
    this.absorbCancels = config.absorbCancels ?? 0;
  }

  request(req: ProxyRequest): Promise<ProxyResponse> {
    if (this.isClosed) return Promise.reject(upstreamError(sessionClosedError('client closed')));
    if (req.signal.aborted) return Promise.reject(new CancelledError());
    return new Promise((resolve, reject) => {
      const ex = new Exchange(this, req, resolve, reject);
      req.signal.addEventListener('abort', ex.onAbort, { once: true });
      const s = this.current;
      // The common case first: a ready session with a free slot and nobody waiting.
      if (this.queue.length === 0 && s !== undefined && s.ready && s.usable && s.streams < s.wire.conn.peer.maxConcurrentStreams) {
        if (this.start(s, ex)) return;
      }
      this.queue.push(ex);
      this.dispatch();
    });
  }

  /** Closes the sessions: in-flight streams finish unless `force`. Queued requests fail. */
  close(force = false): void {
    this.isClosed = true;
    const waiting = this.queue;
    this.queue = [];
    for (const ex of waiting) ex.fail(upstreamError(sessionClosedError('client closed')));
    for (const s of this.open) {
      s.usable = false;
      if (force || !s.ready) s.wire.conn.close();
      else s.wire.conn.goaway(H2_CODE.NO_ERROR);
    }
    this.current = undefined;
  }

  /** Open sessions (0 once idle ones are evicted). */
  openSessions(): number {
    return this.open.size;
  }

  /** Called by an exchange whose downstream went away. */
  cancel(ex: Exchange): void {
    if (ex.session !== undefined) {
      ex.cancel();
      return;
    }
    const at = this.queue.indexOf(ex);
    if (at >= 0) this.queue.splice(at, 1);
    ex.fail(new CancelledError());
  }

  /** A stream of `session` closed: its slot may take a waiting request; the session may go idle. */
  streamClosed(session: Session): void {
    session.streams--;
    session.each((c) => c.streamClosed?.());
    // Not from inside the connection's event: it forgets the stream only after its listener returns, and until then
    // request() would count it against the peer's limit.
    if (this.queue.length > 0) this.dispatchSoon();
  }

  private dispatchSoon(): void {
    if (this.dispatchQueued) return;
    this.dispatchQueued = true;
    queueMicrotask(() => {
      this.dispatchQueued = false;
      this.dispatch();
    });
  }

  /** Opens streams for waiting requests while the current session has room; connects one if there is none. */
  private dispatch(): void {
    while (this.queue.length > 0 && !this.isClosed) {
      let s = this.current;
      if (s === undefined || !s.usable) s = this.current = this.connect();
      if (!s.ready) return; // dispatched again at its SETTINGS
      if (s.streams >= s.wire.conn.peer.maxConcurrentStreams) {
        s.sweep();
        if (s.streams >= s.wire.conn.peer.maxConcurrentStreams) return; // again when a stream closes
      }
      const ex = this.queue.shift()!;
      if (!this.start(s, ex)) {
        this.queue.unshift(ex);
        if (s.usable) return void setImmediate(() => this.dispatch()); // a slot not yet free in the connection's count
      }
    }
  }

  /** Opens `ex`'s stream on `s`; false if the session refused (it is then no longer used). */
  private start(s: Session, ex: Exchange): boolean {
    let id: number;
    try {
      id = s.wire.request(requestHeaders(ex.req, this.authority), ex.req.endStream, ex);
    } catch {
      // Open, it is the peer's stream limit counting a stream that just closed (we are inside its last event):
      // the request waits a turn. Draining or closed: a new session takes it.
      if (s.wire.conn.state !== 'open') this.retire(s);
      return false;
    }
    ex.opened(s, id, this.metrics.h2.streamOpened('upstream'));
    if (id >= LAST_STREAM_ID) this.retire(s); // stream ids run out: the next request goes to a new session
    return true;
  }

  /** No new streams on `s`: the next request connects another session. */
  private retire(s: Session): void {
    s.usable = false;
    if (this.current === s) this.current = undefined;
  }

  private connect(): Session {
    const { streamWindow, connWindow, adaptive, metrics, maxFrameSize, maxHeaderListSize, connectTimeoutMs = 0 } = this.config;
    const socket = net.connect({ host: this.address.host, port: this.address.port });
    watchConnect(socket, connectTimeoutMs, () => metrics.timeout('connect'));
    let session: Session | undefined;
    // Before the session's own listeners: the error is the reason its streams fail (connect-refused, ...).
    socket.once('error', (err) => {
      if (session) session.error = err;
    });
    const wire = new WireSession(
      socket,
      'client',
      {
        onSettings: () => this.onSettings(session!),
        onGoaway: (_last, code) => this.onGoaway(session!, code),
        onPingAck: (opaque) => session?.each((c) => c.pingAck?.(opaque)),
        onClose: (reason) => this.onClose(session!, reason),
      },
      {
        settings: { initialWindowSize: streamWindow, enablePush: false, maxFrameSize, maxHeaderListSize },
        connectionWindow: connWindow,
        ...(adaptive && {
          flow: { adaptive: {} },
          onBdpSample: (sample, stream, conn) => session?.each((c) => c.bdpSample?.(sample, stream, conn)),
        }),
        // The proxy's own timers decide instead: --idle-evict, --request-timeout (off: a stall is measured, not
        // cut), and close() without force lets streams finish however long they take, as node:http2 does.
        limits: { maxBufferedBytes: MAX_BUFFERED_BYTES, streamIdleTimeoutMs: Infinity, connectionIdleTimeoutMs: Infinity, drainTimeoutMs: Infinity },
      },
    );
    const s = (session = new Session(wire));
    s.concerns = upstreamStack({
      wire,
      config: this.config,
      streams: () => s.streams,
      lingering: () => s.lingering.size,
      sweep: () => s.sweep(),
      retire: () => this.retire(s),
      usable: () => s.usable,
    });
    this.open.add(s);
    return s;
  }

  private onSettings(s: Session): void {
    if (!s.ready) {
      s.ready = true;
      s.each((c) => c.ready?.());
    }
    if (this.queue.length > 0) this.dispatch(); // usable now, or the stream limit changed
  }

  private onGoaway(s: Session, code: number): void {
    s.each((c) => c.goawayReceived?.(code));
    s.goawayCode = code;
    this.retire(s);
    // Streams above its last id come back REFUSED_STREAM (onReset), which the retry layer retries.
    if (this.queue.length > 0) this.dispatchSoon();
  }

  private onClose(s: Session, reason: CloseReason): void {
    this.retire(s);
    this.open.delete(s);
    s.each((c) => c.closed?.(reason));
    for (const ex of s.active.values()) ex.sessionClosed(reason);
    if (this.queue.length === 0) return;
    if (!s.ready) {
      // It never became usable (refused, timed out, not HTTP/2): what waited for it fails with its reason, and
      // the retry layer may send it elsewhere.
      const waiting = this.queue;
      this.queue = [];
      const err = s.failure(reason);
      for (const ex of waiting) ex.fail(err);
      return;
    }
    this.dispatch();
  }
}
