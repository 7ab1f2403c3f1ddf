// HTTP/2 over node:http2 (h2c prior knowledge for http://): `connections` sessions, each request sent on the
// least busy one (so the closed loop's connections x streamsPerConnection requests put at most
// streamsPerConnection on each). A dead or GOAWAY'd session is replaced on the next request.
import http2, { type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import net, { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { classifyError, goawayClass, h2Code, rstClass, statusClass, TIMEOUT, TRUNCATED } from '../errors.js';
import { ENDPOINT_HEADER, payloadHeaders } from '../payload.js';
import { requestTimes, type Recorder, type RequestTimes } from '../statistic/recorder.js';
import type { LoadOptions } from '../types.js';
import { DEFAULT_CONN_WINDOW, DEFAULT_STREAM_WINDOW } from '../options.js';
import { failed, RequestFailed, type RequestClient } from './client.js';
import { leastBusy } from '../pool/least-busy.js';

// node:http2 refuses new streams (ENHANCE_YOUR_CALM) past maxSessionMemory (10 MB by default); at high
// concurrency with large bodies that would be the generator's limit, not the target's.
const MAX_SESSION_MEMORY_MB = 256;
// Reconnect back-off after a failed connect, so a dead target is not hammered by a spinning closed loop.
const BACKOFF_FIRST_MS = 10;
const BACKOFF_MAX_MS = 1000;
// A request finding its session unable to open streams (ids exhausted, just went away) tries a fresh one.
const MAX_ATTEMPTS = 3;

const CANCEL = h2Code('CANCEL');
const PROTOCOL_ERROR = h2Code('PROTOCOL_ERROR');

interface SessionState {
  /** The session's own TCP (or TLS) socket, kept so it can be closed for sure (see retire). */
  socket: Socket;
  /** Streams open on this session (a GOAWAY cuts those above its last-stream-id). */
  streams: Set<ClientHttp2Stream>;
  error?: Error;
  goaway?: { code: number; lastStreamID: number };
}

interface Slot {
  session?: ClientHttp2Session;
  connecting?: Promise<ClientHttp2Session>;
  /** Requests assigned to this slot (connecting or in flight). */
  active: number;
  failures: number;
  retryAt: number;
}

class ClientClosedError extends Error {
  readonly code = 'ERR_CLIENT_CLOSED';
  constructor() {
    super('the load client is closed');
  }
}

const slotActive = (slot: Slot): number => slot.active;

export function createH2Client(options: LoadOptions, recorder: Recorder): RequestClient {
  return new H2Client(options, recorder);
}

class H2Client implements RequestClient {
  readonly kind = 'request' as const;
  /** Why each closed session closed, for requests that picked it just before (weak: sessions are not kept). */
  private readonly closedWith = new WeakMap<ClientHttp2Session, Error>();
  private readonly url: URL;
  private readonly headers: http2.OutgoingHttpHeaders;
  private readonly body: Buffer | undefined;
  private readonly slots: Slot[];
  private readonly sessions = new Map<ClientHttp2Session, SessionState>();
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private closed = false;
  private cursor = 0;
  /** Tracing: each answer's x-sluice-endpoint is read. */
  private readonly readEndpoint: boolean;

  constructor(
    private readonly options: LoadOptions,
    private readonly recorder: Recorder,
  ) {
    this.url = new URL(options.url);
    this.readEndpoint = options.trace !== undefined;
    this.body = options.bodyBytes > 0 ? Buffer.alloc(options.bodyBytes, 0x78) : undefined;
    this.headers = {
      ':method': options.method,
      ':path': `${this.url.pathname}${this.url.search}`,
      ...(this.body ? { 'content-length': String(this.body.length) } : {}),
      ...Object.fromEntries(payloadHeaders(options)),
    };
    this.slots = Array.from({ length: options.connections }, () => ({ active: 0, failures: 0, retryAt: 0 }));
  }

  /** Opens every slot's session; a failure is left for the requests to record. */
  async connect(): Promise<number> {
    const sessions = await Promise.all(this.slots.map((slot) => this.sessionFor(slot).catch(() => undefined)));
    return sessions.filter((s) => s !== undefined).length;
  }

  async startRequest(intendedStart?: number): Promise<void> {
    const slot = leastBusy(this.slots, slotActive, this.cursor++);
    slot.active++;
    // Latency and the timeout run from the intended send time (open loop), else from now.
    const times = requestTimes(intendedStart, performance.now());
    try {
      for (let attempt = 1; ; attempt++) {
        const session = this.readySession(slot) ?? (await this.sessionWithin(slot, times));
        const outcome = await this.exchange(session, times, attempt < MAX_ATTEMPTS);
        if (outcome !== 'retry') return;
      }
    } finally {
      slot.active--;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.wake();
    }
    this.sleepers.clear();
    // A session leaves the map on its 'close' event, so every one still in it has yet to emit it.
    const closing = [...this.sessions.keys()].map((session) => new Promise<void>((resolve) => session.once('close', () => resolve())));
    for (const session of this.sessions.keys()) this.retire(session);
    await Promise.all(closing);
  }

  /**
   * Destroys a session and its socket. node:http2 (20.x) never closes the socket of a session it closed
   * gracefully after a GOAWAY(NO_ERROR) until the peer does, and emits no 'close' until then: destroying
   * the socket ourselves is what frees it.
   */
  private retire(session: ClientHttp2Session): void {
    const state = this.sessions.get(session);
    session.destroy();
    state?.socket.destroy();
  }

  private openSocket(): Socket {
    const host = this.url.hostname.replace(/^\[|\]$/g, '');
    if (this.url.protocol === 'https:') {
      const port = Number(this.url.port) || 443;
      return tls.connect({ host, port, ALPNProtocols: ['h2'], ...(net.isIP(host) ? {} : { servername: host }) });
    }
    return net.connect({ host, port: Number(this.url.port) || 80 });
  }

  private readySession(slot: Slot): ClientHttp2Session | undefined {
    const session = slot.session;
    return session && !session.closed && !session.destroyed && !this.closed ? session : undefined;
  }

  /** The slot's session, connecting (after any back-off) if needed; a failure or the deadline is recorded and thrown. */
  private async sessionWithin(slot: Slot, times: RequestTimes): Promise<ClientHttp2Session> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RequestFailed(TIMEOUT)), Math.max(0, times.intended + this.options.timeoutMs - performance.now()));
    });
    try {
      return await Promise.race([this.sessionFor(slot), timedOut]);
    } catch (err) {
      if (err instanceof RequestFailed) throw failed(this.recorder, err.errorClass, times);
      throw failed(this.recorder, err instanceof ClientClosedError ? 'other:closed' : classifyError(err), times);
    } finally {
      clearTimeout(timer);
    }
  }

  private async sessionFor(slot: Slot): Promise<ClientHttp2Session> {
    for (;;) {
      if (this.closed) throw new ClientClosedError();
      const ready = this.readySession(slot);
      if (ready) return ready;
      if (slot.connecting) return slot.connecting;
      const wait = slot.retryAt - performance.now();
      if (wait <= 0) break;
      await this.sleep(wait);
    }
    slot.connecting = this.openSession(slot).then(
      (session) => {
        slot.connecting = undefined;
        slot.failures = 0;
        slot.session = session;
        return session;
      },
      (err: unknown) => {
        slot.connecting = undefined;
        slot.failures++;
        slot.retryAt = performance.now() + Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (slot.failures - 1));
        throw err;
      },
    );
    return slot.connecting;
  }

  private openSession(slot: Slot): Promise<ClientHttp2Session> {
    return new Promise((resolve, reject) => {
      const socket = this.openSocket();
      // The socket's error (ECONNRESET) can close the streams before the session re-emits it: note it first,
      // before node:http2 attaches its own listener, so those streams are classified by it.
      let socketError: Error | undefined;
      socket.once('error', (err: Error) => {
        socketError = err;
        const known = this.sessions.get(session);
        if (known) known.error ??= err;
      });
      const session = http2.connect(this.url.origin, {
        settings: { initialWindowSize: this.options.h2StreamWindow ?? DEFAULT_STREAM_WINDOW, enablePush: false },
        maxSessionMemory: MAX_SESSION_MEMORY_MB,
        createConnection: () => socket,
      });
      const state: SessionState = { socket, streams: new Set(), ...(socketError ? { error: socketError } : {}) };
      this.sessions.set(session, state);
      // Before 'connect', a failure fails the requests waiting for this session (a GOAWAY as goaway:<CODE>).
      const connectFailure = (err: Error | undefined): Error =>
        state.goaway ? new RequestFailed(goawayClass(state.goaway.code)) : (err ?? new Error('session closed before connecting'));
      session.on('error', (err: Error) => {
        state.error = err;
        reject(connectFailure(err));
      });
      session.once('connect', () => {
        // 'connect' is emitted on a later tick: the peer may have reset or GOAWAY'd the session meanwhile.
        if (session.destroyed || session.closed) return;
        session.setLocalWindowSize(this.options.h2ConnWindow ?? DEFAULT_CONN_WINDOW);
        resolve(session);
      });
      session.on('goaway', (code: number, lastStreamID: number) => {
        state.goaway = { code, lastStreamID };
        this.recorder.goawayReceived(code);
        // node emits 'goaway' before it closes the cut streams, so they are still here to be counted. A stream
        // without an id was never sent: the peer will not process it either.
        let cut = 0;
        for (const stream of state.streams) if (stream.id === undefined || stream.id > lastStreamID) cut++;
        this.recorder.goawayStreamsCut(code, cut);
        // Draining: new requests go to a new session; this one goes once its streams are done.
        if (slot.session === session) slot.session = undefined;
        if (state.streams.size === 0) this.retire(session);
      });
      session.once('close', () => {
        this.sessions.delete(session);
        if (state.error) this.closedWith.set(session, state.error);
        if (slot.session === session) slot.session = undefined;
        reject(this.closed ? new ClientClosedError() : connectFailure(state.error));
      });
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.sleepers.add(sleeper);
    });
  }

  /** One stream: resolves when answered in full with a non-error status, 'retry' when the session could take no more streams. */
  private exchange(session: ClientHttp2Session, times: RequestTimes, mayRetry: boolean): Promise<void | 'retry'> {
    const state = this.sessions.get(session);
    if (!state) {
      // Closed between being picked and being used: fail it by what closed the session, when that is known.
      const why = this.closedWith.get(session);
      return mayRetry
        ? Promise.resolve('retry')
        : Promise.reject(failed(this.recorder, why ? classifyError(why) : 'other:CONNECTION_CLOSED', times));
    }
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(this.headers, { endStream: !this.body });
    } catch (err) {
      const code = (err as { code?: string }).code;
      const sessionGone = code === 'ERR_HTTP2_OUT_OF_STREAMS' || code === 'ERR_HTTP2_GOAWAY_SESSION' || code === 'ERR_HTTP2_INVALID_SESSION';
      if (sessionGone && mayRetry) {
        // Stream ids exhausted or the session just went away: not the target's failure, use a fresh session.
        for (const slot of this.slots) if (slot.session === session) slot.session = undefined;
        if (state.streams.size === 0) this.retire(session);
        return Promise.resolve('retry');
      }
      return Promise.reject(failed(this.recorder, state.goaway ? goawayClass(state.goaway.code) : classifyError(err), times));
    }
    state.streams.add(stream);
    return new Promise((resolve, reject) => {
      let status = 0;
      let contentLength: number | undefined;
      let bytes = 0;
      let endedAt: number | undefined;
      let endpoint: string | undefined;
      let timedOut = false;
      let streamError: (Error & { code?: string }) | undefined;
      const timer = setTimeout(
        () => {
          timedOut = true;
          stream.close(CANCEL);
        },
        Math.max(0, times.intended + this.options.timeoutMs - performance.now()),
      );
      stream.on('response', (headers) => {
        status = Number(headers[':status']);
        const length = headers['content-length'];
        if (length !== undefined) contentLength = Number(length);
        if (this.readEndpoint) {
          const answered = headers[ENDPOINT_HEADER];
          if (typeof answered === 'string') endpoint = answered;
        }
      });
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        this.recorder.bodyBytes(chunk.length, performance.now());
      });
      stream.on('end', () => (endedAt = performance.now()));
      stream.on('error', (err: Error) => (streamError = err));
      stream.on('close', () => {
        clearTimeout(timer);
        state.streams.delete(stream);
        if (state.goaway && state.streams.size === 0) this.retire(session);
        if (timedOut) {
          this.recorder.rstSent(CANCEL, times);
          return reject(failed(this.recorder, TIMEOUT, times));
        }
        const rstCode = stream.rstCode ?? 0;
        if (endedAt !== undefined && rstCode === 0 && !streamError) {
          const bodyExpected = this.options.method !== 'HEAD' && status !== 204 && status !== 304;
          if (bodyExpected && contentLength !== undefined && bytes < contentLength) return reject(failed(this.recorder, TRUNCATED, times));
          const errorStatus = statusClass(status);
          if (errorStatus) return reject(failed(this.recorder, errorStatus, times));
          this.recorder.success(times, endedAt, endpoint);
          return resolve();
        }
        reject(failed(this.recorder, this.classifyFailure(session, stream, state, rstCode, streamError, contentLength, bytes, times), times));
      });
      if (this.body) stream.end(this.body);
    });
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
    session: ClientHttp2Session,
    stream: ClientHttp2Stream,
    state: SessionState,
    rstCode: number,
    streamError: (Error & { code?: string }) | undefined,
    contentLength: number | undefined,
    bytes: number,
    times: RequestTimes,
  ): string {
    const goaway = state.goaway;
    if (streamError?.code === 'ERR_HTTP2_STREAM_ERROR') {
      if (goaway && stream.id !== undefined && stream.id > goaway.lastStreamID) return goawayClass(goaway.code);
      if (rstCode === PROTOCOL_ERROR && contentLength !== undefined && bytes < contentLength) {
        this.recorder.rstSent(PROTOCOL_ERROR, times);
        return TRUNCATED;
      }
      this.recorder.rstReceived(rstCode, times);
      return rstClass(rstCode);
    }
    if (streamError?.code === 'ERR_HTTP2_SESSION_ERROR') return goawayClass(goaway?.code ?? rstCode);
    if (streamError) return classifyError(streamError);
    if (!session.destroyed) {
      // node reports a RST_STREAM of NO_ERROR or CANCEL without an error event, only as rstCode.
      if (goaway && stream.id !== undefined && stream.id > goaway.lastStreamID) return goawayClass(goaway.code);
      this.recorder.rstReceived(rstCode, times);
      return rstClass(rstCode);
    }
    if (goaway) return goawayClass(goaway.code);
    if (state.error) return classifyError(state.error);
    return 'other:CONNECTION_CLOSED';
  }
}
