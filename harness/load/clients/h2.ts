// HTTP/2 over node:http2 (h2c prior knowledge for http://, TLS with ALPN h2 for https://): the shared
// ConnectionPool (../pool/) with node:http2 sessions as its connections, the pool's second connection factory
// beside the wire's. The pool picks the least busy session, replaces a dead or GOAWAY'd one on the next request,
// backs off failed connects and times requests out; this file opens sessions, starts streams and classes their
// outcomes.
import http2, { type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import net, { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { classifyError, goawayClass, h2Code, rstClass, statusClass, TRUNCATED } from '../errors.js';
import { ENDPOINT_HEADER, payloadHeaders } from '../payload.js';
import { ConnectionPool, type PoolConnection, type PoolOwner, PooledRequest, type Slot } from '../pool/pool.js';
import type { Recorder, RequestTimes } from '../statistic/recorder.js';
import type { LoadOptions } from '../types.js';
import { DEFAULT_CONN_WINDOW, DEFAULT_STREAM_WINDOW } from '../options.js';
import type { RequestClient } from './client.js';

// node:http2 refuses new streams (ENHANCE_YOUR_CALM) past maxSessionMemory (10 MB by default); at high
// concurrency with large bodies that would be the generator's limit, not the target's.
const MAX_SESSION_MEMORY_MB = 256;

const PROTOCOL_ERROR = h2Code('PROTOCOL_ERROR');

/** What every session of one client sends, built once. */
interface SessionSpec {
  url: URL;
  options: LoadOptions;
  recorder: Recorder;
  headers: http2.OutgoingHttpHeaders;
  body: Buffer | undefined;
  /** Tracing: each answer's x-sluice-endpoint is read. */
  readEndpoint: boolean;
}

class NodeRequest extends PooledRequest<SessionConnection, NodeRequest> {
  /** Its stream, once started on a session. */
  stream: ClientHttp2Stream | undefined = undefined;
}

export function createH2Client(options: LoadOptions, recorder: Recorder): RequestClient {
  return new H2Client(options, recorder);
}

class H2Client extends ConnectionPool<SessionConnection, NodeRequest> {
  constructor(options: LoadOptions, recorder: Recorder) {
    const url = new URL(options.url);
    const body = options.bodyBytes > 0 ? Buffer.alloc(options.bodyBytes, 0x78) : undefined;
    const spec: SessionSpec = {
      url,
      options,
      recorder,
      body,
      readEndpoint: options.trace !== undefined,
      headers: {
        ':method': options.method,
        ':path': `${url.pathname}${url.search}`,
        ...(body ? { 'content-length': String(body.length) } : {}),
        ...Object.fromEntries(payloadHeaders(options)),
      },
    };
    super(recorder, options.connections, options.timeoutMs, { open: (owner) => new SessionConnection(spec, owner) });
  }

  protected newRequest(slot: Slot<SessionConnection, NodeRequest>, times: RequestTimes, deadline: number): NodeRequest {
    return new NodeRequest(slot, times, deadline);
  }
}

/** One node:http2 session and its socket, as a pool connection. */
class SessionConnection implements PoolConnection<NodeRequest> {
  readonly whenReady: Promise<boolean>;
  readonly whenClosed: Promise<void>;
  wasEstablished = false;
  private settleReady!: (ready: boolean) => void;
  private ready = false;
  /** No new stream may go on it: closing, or node refused one (stream ids exhausted, the session going away). */
  private refusing = false;
  private abortClass: string | undefined;
  /** The session's own TCP (or TLS) socket, kept so it can be closed for sure (see retire). */
  private readonly socket: Socket;
  private readonly session: ClientHttp2Session;
  private error: Error | undefined;
  private goaway: { code: number; lastStreamID: number } | undefined;
  /** Requests with a stream on this session (a GOAWAY cuts those above its last-stream-id). */
  private readonly inFlight = new Set<NodeRequest>();
  /** Given before the session connected. */
  private waiting: NodeRequest[] = [];

  constructor(
    private readonly spec: SessionSpec,
    private readonly owner: PoolOwner<SessionConnection, NodeRequest>,
  ) {
    this.whenReady = new Promise((resolve) => (this.settleReady = resolve));
    const { url, options } = spec;
    this.socket = openSocket(url);
    // The socket's error (ECONNRESET) can close the streams before the session re-emits it: note it first,
    // before node:http2 attaches its own listener, so those streams are classified by it.
    this.socket.once('error', (err: Error) => (this.error ??= err));
    const session = (this.session = http2.connect(url.origin, {
      settings: { initialWindowSize: options.h2StreamWindow ?? DEFAULT_STREAM_WINDOW, enablePush: false },
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
      createConnection: () => this.socket,
    }));
    this.whenClosed = new Promise((resolve) => session.once('close', () => resolve()));
    session.on('error', (err: Error) => (this.error = err));
    session.once('connect', () => {
      // 'connect' is emitted on a later tick: the peer may have reset or GOAWAY'd the session meanwhile.
      if (session.destroyed || session.closed) return;
      session.setLocalWindowSize(options.h2ConnWindow ?? DEFAULT_CONN_WINDOW);
      this.wasEstablished = this.ready = true;
      this.settleReady(true);
      const waiting = this.waiting;
      this.waiting = [];
      for (const request of waiting) if (!request.settled) this.start(request);
    });
    session.on('goaway', (code: number, lastStreamID: number) => {
      this.goaway = { code, lastStreamID };
      // node emits 'goaway' before it closes the cut streams, so they are still here to be counted. A stream
      // without an id was never sent: the peer will not process it either.
      let cut = 0;
      for (const request of this.inFlight) if (request.stream!.id === undefined || request.stream!.id > lastStreamID) cut++;
      this.owner.onGoaway(this, code, lastStreamID, cut);
      if (this.inFlight.size === 0) this.retire();
    });
    session.once('close', () => this.closed());
  }

  get acceptsStreams(): boolean {
    return !this.refusing && this.goaway === undefined && !this.session.closed && !this.session.destroyed;
  }

  open(request: NodeRequest): void {
    request.conn = this;
    if (this.ready) this.start(request);
    else this.waiting.push(request);
  }

  cancel(request: NodeRequest, code: number): boolean {
    const stream = request.stream;
    if (stream === undefined) {
      this.waiting = this.waiting.filter((r) => r !== request);
      return false;
    }
    if (stream.closed) return false;
    stream.close(code);
    return true;
  }

  close(errorClass: string): void {
    this.refusing = true;
    this.abortClass ??= errorClass;
    for (const request of [...this.waiting, ...this.inFlight]) this.owner.aborted(request, errorClass);
    this.waiting = [];
    this.retire();
  }

  /**
   * Destroys the session and its socket. node:http2 (20.x) never closes the socket of a session it closed
   * gracefully after a GOAWAY(NO_ERROR) until the peer does, and emits no 'close' until then: destroying
   * the socket ourselves is what frees it.
   */
  private retire(): void {
    this.session.destroy();
    this.socket.destroy();
  }

  private closed(): void {
    this.ready = false;
    this.settleReady(false);
    // Requests still waiting for the session fail by what closed it (a GOAWAY as goaway:<CODE>).
    const why =
      this.abortClass ?? (this.goaway ? goawayClass(this.goaway.code) : this.error ? classifyError(this.error) : 'other:CONNECTION_CLOSED');
    const waiting = this.waiting;
    this.waiting = [];
    for (const request of waiting) this.owner.aborted(request, why);
    this.owner.onClose(this);
  }

  /** One stream: the request succeeds when answered in full with a non-error status. */
  private start(request: NodeRequest): void {
    const { spec, owner } = this;
    let stream: ClientHttp2Stream;
    try {
      stream = this.session.request(spec.headers, { endStream: !spec.body });
    } catch (err) {
      const code = (err as { code?: string }).code;
      const why = this.goaway ? goawayClass(this.goaway.code) : classifyError(err);
      if (code === 'ERR_HTTP2_OUT_OF_STREAMS' || code === 'ERR_HTTP2_GOAWAY_SESSION' || code === 'ERR_HTTP2_INVALID_SESSION') {
        // Stream ids exhausted or the session just went away: not the target's failure, the pool tries a fresh one.
        this.refusing = true;
        if (this.inFlight.size === 0) this.retire();
        return owner.onUnsent(request, why);
      }
      return owner.aborted(request, why);
    }
    request.stream = stream;
    this.inFlight.add(request);
    let status = 0;
    let contentLength: number | undefined;
    let bytes = 0;
    let endedAt: number | undefined;
    let endpoint: string | undefined;
    let streamError: (Error & { code?: string }) | undefined;
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
      const length = headers['content-length'];
      if (length !== undefined) contentLength = Number(length);
      if (spec.readEndpoint) {
        const answered = headers[ENDPOINT_HEADER];
        if (typeof answered === 'string') endpoint = answered;
      }
    });
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      spec.recorder.bodyBytes(chunk.length, performance.now());
    });
    stream.on('end', () => (endedAt = performance.now()));
    stream.on('error', (err: Error) => (streamError = err));
    stream.on('close', () => {
      this.inFlight.delete(request);
      if (this.goaway && this.inFlight.size === 0) this.retire();
      // Settled already: timed out (the pool cancelled it with CANCEL) or aborted by close().
      if (request.settled) return;
      const rstCode = stream.rstCode ?? 0;
      if (endedAt !== undefined && rstCode === 0 && !streamError) {
        const bodyExpected = spec.options.method !== 'HEAD' && status !== 204 && status !== 304;
        if (bodyExpected && contentLength !== undefined && bytes < contentLength) return owner.aborted(request, TRUNCATED);
        const errorStatus = statusClass(status);
        if (errorStatus) return owner.aborted(request, errorStatus);
        return owner.answered(request, endedAt, endpoint);
      }
      owner.aborted(request, this.classifyFailure(stream, rstCode, streamError, contentLength, bytes, request.times));
    });
    if (spec.body) stream.end(spec.body);
  }

  /**
   * Why a stream closed without a full answer. node:http2 reports a RST_STREAM from the peer as an
   * ERR_HTTP2_STREAM_ERROR and rstCode; but it also synthesizes codes: REFUSED_STREAM for streams above a
   * GOAWAY's last stream id, PROTOCOL_ERROR when nghttp2 itself resets a response shorter than its
   * content-length, the GOAWAY's code on streams of a session closed by it, CANCEL or INTERNAL_ERROR on
   * streams of a session torn down. Only the first kind counts as an RST received, and so does a RST_STREAM
   * of NO_ERROR or CANCEL, which node reports with no error at all, on a session still alive.
   */
  private classifyFailure(
    stream: ClientHttp2Stream,
    rstCode: number,
    streamError: (Error & { code?: string }) | undefined,
    contentLength: number | undefined,
    bytes: number,
    times: RequestTimes,
  ): string {
    const { goaway } = this;
    const { recorder } = this.spec;
    if (streamError?.code === 'ERR_HTTP2_STREAM_ERROR') {
      if (goaway && stream.id !== undefined && stream.id > goaway.lastStreamID) return goawayClass(goaway.code);
      if (rstCode === PROTOCOL_ERROR && contentLength !== undefined && bytes < contentLength) {
        recorder.rstSent(PROTOCOL_ERROR, times);
        return TRUNCATED;
      }
      recorder.rstReceived(rstCode, times);
      return rstClass(rstCode);
    }
    if (streamError?.code === 'ERR_HTTP2_SESSION_ERROR') return goawayClass(goaway?.code ?? rstCode);
    if (streamError) return classifyError(streamError);
    if (!this.session.destroyed) {
      // node reports a RST_STREAM of NO_ERROR or CANCEL without an error event, only as rstCode.
      if (goaway && stream.id !== undefined && stream.id > goaway.lastStreamID) return goawayClass(goaway.code);
      recorder.rstReceived(rstCode, times);
      return rstClass(rstCode);
    }
    if (goaway) return goawayClass(goaway.code);
    if (this.error) return classifyError(this.error);
    return 'other:CONNECTION_CLOSED';
  }
}

function openSocket(url: URL): Socket {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (url.protocol === 'https:') {
    const port = Number(url.port) || 443;
    return tls.connect({ host, port, ALPNProtocols: ['h2'], ...(net.isIP(host) ? {} : { servername: host }) });
  }
  return net.connect({ host, port: Number(url.port) || 80 });
}

