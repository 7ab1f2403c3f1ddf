// The wire pool's connection on the h2/ library (issue 15 step 4, `wireConnection: 'h2'`): h2/'s role-agnostic
// H2Connection over a net.Socket, adapted to what the pool and the exchanges expect of connection.ts's. The
// request goes out as the pool's pre-encoded header block (requestEncoded: no HPACK per request), DATA is counted
// (onDataLength) or handed over as views (onDataPiece, server streaming), never copied, and response fields come
// as one reused flat array (onHeaderFields). Reads land in one reused buffer; the library's output is written once
// per event-loop turn (deferFlush). The modes of connection.ts: the eager and strict receivers, stalled streams,
// server streaming; the rapid-reset attacker is H2LibraryRapidReset below.
import net, { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { classifyError, goawayClass, h2Code, h2CodeName } from '../errors.js';
import { H2Connection as H2Library, type CloseReason, type H2Listener } from '../../../h2/connection.js';
import { H2_ERROR } from '../../../h2/errors.js';
import { IdMap } from '../../../h2/id-map.js';
import type { ConnectionOptions, ConnectionOwner } from './connection.js';
import { settleOnWrite } from './rapid-reset.js';
import type { WireConnection, WireStream } from './stream.js';

const MAX_STREAM_ID = 2 ** 31 - 1;
/** How long a closing socket waits for the peer's FIN after sending its own (as transport.ts). */
const END_GRACE_MS = 500;
const CANCEL = h2Code('CANCEL');
// One read buffer for every socket of this thread (as transport.ts): a read is parsed to the end before the next.
const readBuffer = Buffer.allocUnsafe(64 * 1024);
const NEVER = Number.POSITIVE_INFINITY;

export class H2LibraryConnection implements WireConnection, H2Listener {
  now = 0;
  readonly whenReady: Promise<boolean>;
  readonly whenClosed: Promise<void>;
  wasEstablished = false;
  /** Server streaming only (set in the constructor): body bytes to the stream's framer. */
  declare onDataPiece?: (streamId: number, buf: Buffer, start: number, end: number) => void;
  protected goaway: { code: number; lastStreamId: number } | undefined;
  protected readonly conn: H2Library;
  /** Open streams by id (h2's IdMap, as connection.ts: no Map churn). */
  protected readonly streams = new IdMap<WireStream>();
  private settleReady!: (ready: boolean) => void;
  private ready = false;
  private ending = false;
  private socketClosed = false;
  private error: Error | undefined;
  private abortClass: string | undefined;
  private readonly socket: Socket;
  /** Not yet sent: before the peer's first SETTINGS, or over its SETTINGS_MAX_CONCURRENT_STREAMS. */
  private waiting: WireStream[] = [];
  /** Stalled streams the peer has finished: kept (they never settle) until the connection closes. */
  private readonly parked = new Set<WireStream>();
  private opened = 0;
  private readonly eager: boolean;
  private readonly stallStreams: number;
  private flushTimer: NodeJS.Immediate | undefined;
  private readonly flushNow = (): void => this.flush();
  private readonly ticker: NodeJS.Timeout;
  /** The attacker's streams written and reset, not yet handed to the socket (here, not in H2LibraryRapidReset: the
   *  library writes its preface from this constructor, before a subclass's fields exist). */
  protected unflushed: WireStream[] = [];

  constructor(
    options: ConnectionOptions,
    protected readonly owner: ConnectionOwner,
  ) {
    this.eager = options.receiver === 'eager';
    this.stallStreams = options.stallStreams;
    if (options.readBodies) {
      this.onDataPiece = (streamId, buf, start, end) => {
        const stream = this.streams.get(streamId);
        if (stream !== undefined && !stream.stalled) stream.onBodyBytes(buf, start, end);
      };
    }
    this.whenReady = new Promise((resolve) => (this.settleReady = resolve));
    this.now = performance.now();
    this.socket = net.connect({
      host: options.host,
      port: options.port,
      noDelay: true,
      // Reads into one reused buffer (no Buffer per read through a Readable): the library keeps no view of it.
      onread: {
        buffer: readBuffer,
        callback: (bytes: number, buffer: Uint8Array): boolean => {
          this.now = performance.now();
          this.conn.receive(buffer as Buffer, bytes);
          return true;
        },
      },
    });
    this.whenClosed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.conn = new H2Library(
      'client',
      {
        write: (buf) => this.socket.write(buf, this.takeWritten()),
        writev: (bufs) => {
          const written = this.takeWritten();
          this.socket.cork();
          let ok = true;
          for (let i = 0; i < bufs.length; i++) ok = this.socket.write(bufs[i]!, i === bufs.length - 1 ? written : undefined);
          this.socket.uncork();
          return ok;
        },
        end: () => this.endSocket(),
        destroy: () => this.socket.destroy(),
      },
      this,
      {
        // No bound on a response's header list (none announced, none enforced), as connection.ts reads any.
        settings: { initialWindowSize: options.streamWindow, maxHeaderListSize: NEVER },
        connectionWindow: options.connWindow,
        // The clock read once per socket read (and by the ticker): no clock reading per request for activity stamps.
        now: () => this.now,
        // A generator reads whatever its target answers: no RFC 9113 section 8 checks on responses (connection.ts
        // makes none either); the response is judged by the client.
        validateHttp: false,
        // The generator's own deadlines govern its streams (stalled ones are exempt from them, by design); its
        // request bodies are bounded by the run's options, not by a proxy's buffer bound; what it writes in a turn
        // (an attacker's burst of RST_STREAMs) is its own doing, not a peer's flood; and it reads whatever header
        // blocks its target sends, as connection.ts does.
        limits: {
          streamIdleTimeoutMs: NEVER,
          connectionIdleTimeoutMs: NEVER,
          maxBufferedBytes: NEVER,
          maxOutboundFrames: NEVER,
          maxOutboundControlFrames: NEVER,
          maxHeaderBlockBytes: NEVER,
          maxContinuations: NEVER,
        },
        // One socket write per event-loop turn, as transport.ts: the requests started this turn join it.
        deferFlush: () => {
          this.flushTimer ??= setImmediate(this.flushNow);
        },
      },
    );
    this.ticker = setInterval(() => {
      this.now = performance.now();
      this.conn.tick();
    }, 1000);
    this.ticker.unref();
    this.socket.on('connect', () => (this.wasEstablished = true));
    this.socket.on('drain', () => this.conn.drained());
    this.socket.on('error', (err: Error) => (this.error ??= err));
    this.socket.on('close', () => this.closed());
  }

  get closedByPeer(): boolean {
    return this.wasEstablished && (this.goaway !== undefined || (!this.ending && this.abortClass === undefined));
  }

  get acceptsStreams(): boolean {
    return !this.socketClosed && !this.ending && this.goaway === undefined && this.conn.state === 'open' && this.opened * 2 + 1 <= MAX_STREAM_ID;
  }

  open(stream: WireStream): void {
    stream.conn = this;
    if (!this.ready || this.waiting.length > 0 || this.streams.size >= this.conn.peer.maxConcurrentStreams || !this.mayStart(stream)) this.waiting.push(stream);
    else this.start(stream);
  }

  cancel(stream: WireStream, code: number): boolean {
    if (stream.id === 0) {
      this.waiting = this.waiting.filter((s) => s !== stream);
      return false;
    }
    const parked = this.parked.delete(stream);
    const open = this.streams.get(stream.id) === stream;
    if (open) {
      this.streams.delete(stream.id);
      stream.resetSent = true;
      // The library gives what the stream held of the connection window back (a dropped stream's capacity).
      this.conn.reset(stream.id, code);
    }
    if (open || parked) this.afterStreamEnd();
    return open && !this.socketClosed;
  }

  streamError(stream: WireStream, code: number): boolean {
    if (this.streams.get(stream.id) === stream) return this.cancel(stream, code);
    if (!this.requestUnfinished(stream)) return false;
    stream.resetSent = true;
    this.conn.reset(stream.id, code);
    return true;
  }

  close(errorClass: string): void {
    if (this.socketClosed) return;
    this.abortClass ??= errorClass;
    this.abortAll(errorClass);
    if (this.ending) return;
    this.ending = true;
    // GOAWAY(NO_ERROR) and FIN after what is written, as connection.ts and h2load do: no written frame thrown away.
    this.conn.goaway(H2_ERROR.NO_ERROR);
    this.flush();
    this.endSocket();
  }

  // ---- the library's events ----

  onSettings(): void {
    if (!this.ready) {
      this.ready = true;
      this.settleReady(true);
    }
    this.sendWaiting();
  }

  onHeaderFields(streamId: number, fields: readonly string[], count: number, endStream: boolean): void {
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    for (let i = 0; i < count; i += 2) stream.onHeader(fields[i]!, fields[i + 1]!);
    if (endStream) this.peerEnded(stream);
    if (!stream.stalled) stream.onHeadersEnd(endStream);
    if (endStream) this.afterPeerEnded(stream);
  }

  onDataLength(streamId: number, length: number, endStream: boolean): void {
    const stream = this.streams.get(streamId);
    if (stream === undefined || !stream.stalled) {
      // Read at once: both windows' credit goes back (eager and strict alike for a stream that reads).
      this.conn.consume(streamId, length);
    } else {
      // A stalled stream never reads: eager returns the connection's credit on receipt, strict holds it.
      stream.held += length;
      if (this.eager) this.conn.consumeConnection(streamId, length);
    }
    if (stream === undefined) return;
    if (endStream) this.peerEnded(stream);
    if (!stream.stalled) stream.onData(length, endStream);
    if (endStream) this.afterPeerEnded(stream);
  }

  onReset(streamId: number, code: number, local: boolean): void {
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    this.streams.delete(streamId);
    const goaway = this.goaway;
    // The library ends our streams above a GOAWAY's last id (all of them after an error GOAWAY): the GOAWAY cut them.
    if (!local && goaway !== undefined && (streamId > goaway.lastStreamId || goaway.code !== H2_ERROR.NO_ERROR)) stream.onAbort(goawayClass(goaway.code));
    else if (local) stream.onAbort(`other:${h2CodeName(code)}`);
    else stream.onReset(code);
    this.afterStreamEnd();
  }

  onGoaway(lastStreamId: number, code: number): void {
    const last = Math.min(lastStreamId, this.goaway?.lastStreamId ?? lastStreamId);
    this.goaway = { code, lastStreamId: last };
    let cut = 0;
    for (const stream of this.streams.values()) if (stream.id > last) cut++;
    this.owner.onGoaway(this, code, last, cut);
    const unsent = this.waiting;
    this.waiting = [];
    for (const stream of unsent) this.owner.onUnsent(stream, goawayClass(code));
    // The cut streams end as the library resets them (onReset), right after this.
  }

  onClose(reason: CloseReason): void {
    // A connection error we raised (the peer broke the protocol): our streams fail as other:<CODE>.
    if (reason.by === 'local' && reason.code !== H2_ERROR.NO_ERROR) {
      this.ending = true;
      this.error ??= Object.assign(new Error(reason.message), { code: h2CodeName(reason.code) });
    }
  }

  // ---- inside ----

  /** Whether a stream may start now besides the peer's stream limit (the attacker waits for its whole body's window). */
  protected mayStart(_stream: WireStream): boolean {
    return true;
  }

  /** Writes the stream's HEADERS (and body); returns false if the library refused it (then it waits or goes back). */
  protected start(stream: WireStream): boolean {
    let id: number;
    try {
      id = this.conn.requestEncoded(stream.headerBlock, stream.body === undefined);
    } catch {
      if (this.conn.state !== 'open') {
        this.owner.onUnsent(stream, 'other:CONNECTION_CLOSED');
        return false;
      }
      // Over the peer's stream limit by the library's count (a stream it still holds open): wait for one to end.
      this.waiting.unshift(stream);
      return false;
    }
    stream.id = id;
    stream.call = this.opened++;
    stream.stalled = stream.call < this.stallStreams;
    this.streams.set(id, stream);
    if (stream.body !== undefined) this.conn.sendData(id, stream.body, true);
    if (stream.stalled) stream.onStalled();
    return true;
  }

  /** Called at each socket write (the attacker: settles the streams whose frames it carries). */
  protected takeWritten(): ((error: Error | null | undefined) => void) | undefined {
    return undefined;
  }

  protected sendWaiting(): void {
    while (this.waiting.length > 0 && this.ready && this.streams.size < this.conn.peer.maxConcurrentStreams) {
      if (this.acceptsStreams && !this.mayStart(this.waiting[0]!)) return;
      const stream = this.waiting.shift()!;
      if (!this.acceptsStreams) {
        this.owner.onUnsent(stream, 'other:CONNECTION_CLOSED');
        continue;
      }
      const before = this.waiting.length;
      this.start(stream);
      if (this.waiting.length > before) return; // the library refused it: wait for a stream to end
    }
  }

  /** The peer ended the stream: out of the table (a stalled one parked) before the owner judges it. */
  private peerEnded(stream: WireStream): void {
    this.streams.delete(stream.id);
    if (stream.stalled) this.parked.add(stream);
  }

  /** After the owner saw the end: a complete response before our request went out whole stops it (RFC 9113 8.1). */
  private afterPeerEnded(stream: WireStream): void {
    if (this.requestUnfinished(stream)) {
      stream.resetSent = true;
      this.conn.reset(stream.id, H2_ERROR.NO_ERROR);
    }
    this.afterStreamEnd();
  }

  /** Half-closed (remote) in the library: the peer ended the stream, our request has not gone out whole, no RST yet. */
  private requestUnfinished(stream: WireStream): boolean {
    return stream.body !== undefined && stream.id !== 0 && !stream.resetSent && this.conn.streamState(stream.id) === 'half-closed-remote';
  }

  private afterStreamEnd(): void {
    if (this.waiting.length > 0) this.sendWaiting();
    if (this.goaway !== undefined && this.streams.size === 0 && this.waiting.length === 0 && !this.ending) {
      // Drained after the peer's GOAWAY: our own GOAWAY; the library ends the transport once its streams are done.
      this.ending = true;
      this.conn.goaway(H2_ERROR.NO_ERROR);
      if (this.conn.state !== 'closed') {
        this.flush();
        this.endSocket();
      }
    }
  }

  private flush(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    this.conn.flushOutput();
  }

  /** FIN after what is written; the socket destroyed once the peer's FIN came, or after a grace (as transport.ts). */
  private endSocket(): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.socket.end(() => {
      const grace = setTimeout(() => this.socket.destroy(), END_GRACE_MS);
      grace.unref();
      this.socket.once('close', () => clearTimeout(grace));
    });
  }

  protected closed(): void {
    this.socketClosed = true;
    clearInterval(this.ticker);
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    this.conn.transportClosed(this.error);
    const why = this.abortClass ?? (this.goaway ? goawayClass(this.goaway.code) : this.error ? classifyError(this.error) : 'other:CONNECTION_CLOSED');
    this.abortAll(why);
    this.settleReady(false);
    this.owner.onClose(this);
  }

  private abortAll(errorClass: string): void {
    const all = [...this.streams.values(), ...this.waiting, ...this.parked];
    this.streams.clear();
    this.waiting = [];
    this.parked.clear();
    for (const stream of all) stream.onAbort(errorClass);
  }
}

/**
 * The rapid-reset attacker (`attack: 'rapid-reset'`) on the h2/ library, as rapid-reset.ts on connection.ts: every
 * stream's HEADERS (and body) followed by RST_STREAM(CANCEL) in the same socket write; a stream settles when the
 * kernel took that write (its callback), and goes back to the pool as unsent when the write was dropped by a close.
 */
export class H2LibraryRapidReset extends H2LibraryConnection {

  /** The body goes whole with its HEADERS, or the stream waits for the windows (a cut body would be another attack). */
  protected override mayStart(stream: WireStream): boolean {
    if (stream.body === undefined) return true;
    const n = stream.body.length;
    return this.conn.sendWindow(0) >= n && this.conn.peer.initialWindowSize >= n;
  }

  protected override start(stream: WireStream): boolean {
    if (!super.start(stream)) return false;
    this.streams.delete(stream.id);
    stream.resetSent = true;
    this.conn.reset(stream.id, CANCEL);
    this.unflushed.push(stream);
    return true;
  }

  /** The peer's WINDOW_UPDATE on the connection: a waiting body may fit now. */
  onConnectionWindow(): void {
    this.sendWaiting();
  }

  protected override takeWritten(): ((error: Error | null | undefined) => void) | undefined {
    if (this.unflushed.length === 0) return undefined;
    const batch = this.unflushed;
    this.unflushed = [];
    return settleOnWrite(batch, this.owner, () => (this.goaway ? goawayClass(this.goaway.code) : 'other:CONNECTION_CLOSED'));
  }

  protected override closed(): void {
    const unsent = this.unflushed;
    this.unflushed = [];
    super.closed();
    const why = this.goaway ? goawayClass(this.goaway.code) : 'other:CONNECTION_CLOSED';
    for (const stream of unsent) this.owner.onUnsent(stream, why);
  }
}
