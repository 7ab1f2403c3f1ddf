// The wire pool's connection on the h2/ library (issue 15 step 4's trial, `wireConnection: 'h2'`): h2/'s
// role-agnostic H2Connection over a net.Socket, adapted to what the pool and the exchanges expect of
// connection.ts's. Behind an option until it is measured no slower in CPU per request (bench-generator has a
// row for it): eager receiver only, no stalled streams, no attacker, no server streaming (options.ts refuses
// them with it). Its HPACK is h2/'s stateful encoder, so the request's header list is decoded once from the
// pool's encoded block and re-encoded per request by the library.
import net, { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { classifyError, goawayClass, h2CodeName } from '../errors.js';
import { H2Connection as H2Library, type CloseReason, type H2Listener } from '../../../h2/connection.js';
import { H2_ERROR } from '../../../h2/errors.js';
import { HpackDecoder } from '../../../h2/hpack/decoder.js';
import type { HeaderList } from '../../../h2/hpack/encoder.js';
import type { ConnectionOptions, ConnectionOwner } from './connection.js';
import type { WireConnection, WireStream } from './stream.js';

const MAX_STREAM_ID = 2 ** 31 - 1;
/** How long a closing socket waits for the peer's FIN after sending its own (as transport.ts). */
const END_GRACE_MS = 500;

export class H2LibraryConnection implements WireConnection, H2Listener {
  now = 0;
  readonly whenReady: Promise<boolean>;
  readonly whenClosed: Promise<void>;
  wasEstablished = false;
  private settleReady!: (ready: boolean) => void;
  private ready = false;
  private ending = false;
  private socketClosed = false;
  private goaway: { code: number; lastStreamId: number } | undefined;
  private error: Error | undefined;
  private abortClass: string | undefined;
  private readonly socket: Socket;
  private readonly conn: H2Library;
  private readonly streams = new Map<number, WireStream>();
  private waiting: WireStream[] = [];
  private opened = 0;
  /** The request's header list, decoded once from the pool's encoded block (the same Buffer for every request). */
  private block: Buffer | undefined;
  private headers: HeaderList = [];
  /** Bytes the library wrote this turn: one socket write per turn, as transport.ts does. */
  private out: Buffer[] = [];
  private flushTimer: NodeJS.Immediate | undefined;
  private readonly flushNow = (): void => this.flush();
  private readonly ticker: NodeJS.Timeout;

  constructor(
    options: ConnectionOptions,
    private readonly owner: ConnectionOwner,
  ) {
    this.whenReady = new Promise((resolve) => (this.settleReady = resolve));
    this.socket = net.connect({ host: options.host, port: options.port, noDelay: true });
    this.whenClosed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.conn = new H2Library(
      'client',
      {
        write: (buf) => {
          this.out.push(buf);
          this.flushTimer ??= setImmediate(this.flushNow);
        },
        end: () => {
          this.flush();
          this.socket.end();
        },
        destroy: () => this.socket.destroy(),
      },
      this,
      // A generator reads whatever its target answers: no RFC 9113 section 8 checks on responses (the wire's own
      // connection makes none either); the response is judged by the client.
      { settings: { initialWindowSize: options.streamWindow }, connectionWindow: options.connWindow, validateHttp: false },
    );
    this.ticker = setInterval(() => this.conn.tick(), 1000);
    this.socket.on('connect', () => (this.wasEstablished = true));
    this.socket.on('data', (chunk: Buffer) => {
      this.now = performance.now();
      this.conn.receive(chunk);
    });
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
    if (!this.ready || this.waiting.length > 0 || this.streams.size >= this.conn.peer.maxConcurrentStreams) this.waiting.push(stream);
    else this.start(stream);
  }

  cancel(stream: WireStream, code: number): boolean {
    if (stream.id === 0) {
      this.waiting = this.waiting.filter((s) => s !== stream);
      return false;
    }
    if (!this.streams.delete(stream.id)) return false;
    this.conn.reset(stream.id, code);
    this.sendWaiting();
    return true;
  }

  streamError(stream: WireStream, code: number): boolean {
    // The peer ended its side; RST_STREAM may go out only while ours is still open (the body not sent whole).
    if (stream.id === 0 || this.conn.streamState(stream.id) !== 'half-closed-remote') return false;
    this.conn.reset(stream.id, code);
    return true;
  }

  close(errorClass: string): void {
    if (this.socketClosed) return;
    this.ending = true;
    this.abortClass ??= errorClass;
    const ids = [...this.streams.keys()];
    this.abortAll(errorClass);
    for (const id of ids) this.conn.reset(id, H2_ERROR.CANCEL);
    // GOAWAY(NO_ERROR), then FIN once no stream is left (none is), then the socket once the peer's FIN came.
    this.conn.goaway(H2_ERROR.NO_ERROR);
    this.flush();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), END_GRACE_MS).unref();
  }

  // ---- the library's events ----

  onSettings(): void {
    if (!this.ready) {
      this.ready = true;
      this.settleReady(true);
    }
    this.sendWaiting();
  }

  onHeaders(streamId: number, headers: Array<[string, string]>, endStream: boolean): void {
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    for (let i = 0; i < headers.length; i++) stream.onHeader(headers[i]![0], headers[i]![1]);
    if (endStream) this.streams.delete(streamId);
    stream.onHeadersEnd(endStream);
    if (endStream) this.afterStreamEnd();
  }

  onData(streamId: number, data: Buffer, endStream: boolean): void {
    const stream = this.streams.get(streamId);
    // The eager receiver: every byte is read at once, so its credit goes back at once (the library is strict).
    this.conn.consume(streamId, data.length);
    if (stream === undefined) return;
    if (endStream) this.streams.delete(streamId);
    stream.onData(data.length, endStream);
    if (endStream) this.afterStreamEnd();
  }

  onReset(streamId: number, code: number, local: boolean): void {
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    this.streams.delete(streamId);
    const goaway = this.goaway;
    // The library resets our streams above a GOAWAY's last id itself: those are cut, not reset by the peer.
    if (goaway !== undefined && streamId > goaway.lastStreamId) stream.onAbort(goawayClass(goaway.code));
    else if (local) stream.onAbort(`other:${h2CodeName(code)}`);
    else stream.onReset(code);
    this.afterStreamEnd();
  }

  onGoaway(lastStreamId: number, code: number): void {
    this.goaway = { code, lastStreamId };
    let cut = 0;
    for (const id of this.streams.keys()) if (id > lastStreamId) cut++;
    this.owner.onGoaway(this, code, lastStreamId, cut);
    const unsent = this.waiting;
    this.waiting = [];
    for (const stream of unsent) this.owner.onUnsent(stream, goawayClass(code));
    this.afterStreamEnd();
  }

  onClose(reason: CloseReason): void {
    // A connection error we raised (the peer broke the protocol): our streams fail as other:<CODE>.
    if (reason.by === 'local' && reason.code !== H2_ERROR.NO_ERROR) {
      this.ending = true;
      this.error ??= Object.assign(new Error(reason.message), { code: h2CodeName(reason.code) });
    }
  }

  // ---- inside ----

  private start(stream: WireStream): void {
    if (stream.headerBlock !== this.block) {
      this.block = stream.headerBlock;
      const headers: Array<[string, string]> = [];
      new HpackDecoder().decode(stream.headerBlock, 0, stream.headerBlock.length, { onHeader: (name, value) => headers.push([name, value]) });
      this.headers = headers;
    }
    let id: number;
    try {
      id = this.conn.request(this.headers, stream.body === undefined);
    } catch {
      if (this.conn.state !== 'open') return this.owner.onUnsent(stream, 'other:CONNECTION_CLOSED');
      // Over the peer's stream limit by the library's count (a stream it still holds open): wait for one to end.
      this.waiting.unshift(stream);
      return;
    }
    stream.id = id;
    stream.call = this.opened++;
    this.streams.set(id, stream);
    if (stream.body !== undefined) this.conn.sendData(id, stream.body, true);
  }

  private sendWaiting(): void {
    while (this.waiting.length > 0 && this.ready && this.streams.size < this.conn.peer.maxConcurrentStreams) {
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

  private afterStreamEnd(): void {
    if (this.goaway !== undefined && this.streams.size === 0 && !this.ending) {
      // Drained after the peer's GOAWAY: our own GOAWAY and FIN.
      this.ending = true;
      this.conn.goaway(H2_ERROR.NO_ERROR);
      this.flush();
      this.socket.end();
      setTimeout(() => this.socket.destroy(), END_GRACE_MS).unref();
      return;
    }
    this.sendWaiting();
  }

  private flush(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    if (this.out.length === 0 || this.socket.destroyed) return;
    const parts = this.out;
    this.out = [];
    // The turn's small writes (a request's frames each) copied into one buffer, as the wire's FrameWriter stages them.
    this.socket.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  }

  private closed(): void {
    this.socketClosed = true;
    clearInterval(this.ticker);
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.conn.transportClosed(this.error);
    const why = this.abortClass ?? (this.goaway ? goawayClass(this.goaway.code) : this.error ? classifyError(this.error) : 'other:CONNECTION_CLOSED');
    this.abortAll(why);
    this.settleReady(false);
    this.owner.onClose(this);
  }

  private abortAll(errorClass: string): void {
    const all = [...this.streams.values(), ...this.waiting];
    this.streams.clear();
    this.waiting = [];
    for (const stream of all) stream.onAbort(errorClass);
  }
}
