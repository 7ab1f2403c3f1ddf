// One HTTP/2 client connection (h2c, prior knowledge): the stream table, SETTINGS, PING, GOAWAY, the frames
// in and out (the socket in transport.ts, flow control in flow.ts, header blocks in header-blocks.ts).
// Streams are the owner's WireStream subclasses, called back as their response arrives.
import { performance } from 'node:perf_hooks';
import { classifyError, goawayClass, h2CodeName } from '../errors.js';
import { ReceiveFlow, SendFlow, type ReceiverMode } from './flow.js';
import { FLAG, FRAME, FrameReader, goawayFrame, H2ProtocolError, MAX_WINDOW, PREFACE, SETTING, settingsFrame, SETTINGS_ACK, type FrameHandler } from '../../../h2/frames.js';
import { HeaderBlocks } from './header-blocks.js';
import { HpackDecoder } from '../../../h2/hpack/decoder.js';
import type { WireConnection, WireStream } from './stream.js';
import type { PoolOwner } from '../pool/pool.js';
import { IdMap } from '../../../h2/id-map.js';
import { Transport, type TransportEvents } from './transport.js';

export { WireStream, type WireConnection } from './stream.js';
export type { ReceiverMode } from './flow.js';

const NO_ERROR = 0x0;
const PROTOCOL_ERROR = 0x1;
const FRAME_SIZE_ERROR = 0x6;
const MAX_STREAM_ID = 2 ** 31 - 1;

export interface ConnectionOptions {
  host: string;
  port: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE we announce: each stream's receive window. */
  streamWindow: number;
  /** Our connection receive window (at least the RFC's 65 535, which it starts at). */
  connWindow: number;
  receiver: ReceiverMode;
  /** The first this-many streams of the connection never read their bodies. */
  stallStreams: number;
  /** Server streaming: DATA bytes are handed to the streams (WireStream.onBodyBytes); else only counted. */
  readBodies?: boolean;
}

/** What the connection tells the pool that opened it (../pool/pool.ts's PoolOwner, for wire streams). */
export type ConnectionOwner = PoolOwner<WireConnection, WireStream>;

export class H2Connection implements FrameHandler, TransportEvents, WireConnection {
  /** performance.now() when the chunk being parsed was read: one clock read for every response in it. */
  now = 0;
  goaway: { code: number; lastStreamId: number } | undefined;
  readonly whenClosed: Promise<void>;
  private settleReady!: (ready: boolean) => void;
  /** Resolves true once the peer's first SETTINGS arrived (streams may go out), false if it closed first. */
  readonly whenReady = new Promise<boolean>((resolve) => (this.settleReady = resolve));
  /**
   * The peer's first SETTINGS arrived. Streams wait for it: sent earlier they may exceed a low
   * SETTINGS_MAX_CONCURRENT_STREAMS and be refused, a reset the generator would have caused, not the target.
   */
  private ready = false;
  private ending = false;
  private error: Error | undefined;
  private abortClass: string | undefined;
  private readonly transport: Transport;
  private readonly reader: FrameReader;
  // Unbounded decoded lists, as before h2/ bounded them: the generator reads whatever its target answers.
  private readonly decoder = new HpackDecoder(undefined, Number.POSITIVE_INFINITY);
  private readonly blocks = new HeaderBlocks((id, flags, buf, start, end) => this.headerBlock(id, flags, buf, start, end));
  private readonly receive: ReceiveFlow;
  private readonly send: SendFlow;
  private readonly wrote = (): void => this.transport.flushSoon();
  /** Open streams by id: h2's IdMap (no Map churn: a Map's replaced tables kept finished streams alive through
   *  scavenges, see h2/id-map.ts). */
  private readonly streams = new IdMap<WireStream>();
  /** Not yet sent: before the peer's first SETTINGS, or over its SETTINGS_MAX_CONCURRENT_STREAMS. */
  private waiting: WireStream[] = [];
  /** Stalled streams the peer has finished: kept so that (strict) their unread bytes still hold the window. */
  private readonly parked = new Set<WireStream>();
  private nextStreamId = 1;
  private opened = 0;
  private peerMaxStreams = Number.MAX_SAFE_INTEGER;

  constructor(
    private readonly options: ConnectionOptions,
    protected readonly owner: ConnectionOwner,
  ) {
    this.reader = new FrameReader(this, undefined, options.readBodies === true);
    this.transport = new Transport(options.host, options.port, this);
    this.whenClosed = this.transport.whenClosed;
    this.receive = new ReceiveFlow(options.receiver, this.out, this.wrote);
    this.send = new SendFlow(this.out, (stream) => this.streams.get(stream.id) === stream);
    // Written at once: net.Socket holds writes until connected, and the preface must come first.
    this.out.bytes(PREFACE);
    this.out.bytes(settingsFrame([[SETTING.ENABLE_PUSH, 0], [SETTING.INITIAL_WINDOW_SIZE, options.streamWindow]]));
    this.receive.open(options.connWindow);
    this.transport.flushSoon();
  }

  private get out(): Transport['out'] {
    return this.transport.out;
  }

  private get closed(): boolean {
    return this.transport.closed;
  }

  /** The socket connected at some point (a connection that never did is a failed connect). */
  get wasEstablished(): boolean {
    return this.transport.connected;
  }

  /** Once closed: the peer ended the connection (it sent GOAWAY, or closed or reset the socket before we closed our side). */
  get closedByPeer(): boolean {
    return this.wasEstablished && (this.goaway !== undefined || (!this.ending && this.abortClass === undefined));
  }

  /** New streams may be opened: not closing, no GOAWAY, stream ids left. */
  get acceptsStreams(): boolean {
    return !this.closed && !this.ending && this.goaway === undefined && this.nextStreamId <= MAX_STREAM_ID;
  }

  /** Sends the stream's HEADERS (and body) now, or once the peer's SETTINGS have come and its limit allows. */
  open(stream: WireStream): void {
    stream.conn = this;
    if (!this.ready || this.streams.size >= this.peerMaxStreams || this.waiting.length > 0 || !this.mayStart(stream)) this.waiting.push(stream);
    else this.start(stream);
  }

  /** Whether a stream may start now besides the peer's stream limit; rapid-reset.ts waits for its whole body's window. */
  protected mayStart(_stream: WireStream): boolean {
    return true;
  }

  /** Whether `bytes` of body fit the peer's connection window and a new stream's initial window, in one go. */
  protected bodyFits(bytes: number): boolean {
    return this.send.fits(bytes);
  }

  /**
   * Ends a stream from our side: RST_STREAM with `code` if it was open on the wire. Its unread bytes go back
   * to the connection window, as h2 releases a dropped stream's capacity. Returns whether a RST was sent.
   */
  cancel(stream: WireStream, code: number): boolean {
    if (stream.id === 0) {
      this.waiting = this.waiting.filter((s) => s !== stream);
      return false;
    }
    const parked = this.parked.delete(stream);
    const open = this.streams.get(stream.id) === stream;
    if (open) this.streams.delete(stream.id);
    if (!this.closed) this.receive.drop(stream);
    if (open && !this.closed) this.writeRst(stream, code);
    if (open || parked) this.afterStreamEnd();
    return open && !this.closed;
  }

  /**
   * The owner found the response malformed (RFC 9113 section 8.1.1: e.g. shorter than its content-length), a
   * stream error of type `code`. RST_STREAM goes out only while the stream is not closed. Judged at the peer's
   * END_STREAM, a stream whose request we had finished is closed, and nothing but PRIORITY may be sent on a
   * closed stream (section 5.1); nghttp2 (node:http2) resets it anyway, and a server counts every RST_STREAM
   * against its rapid-reset limit (nghttp2 >= 1.57: 1000, then 33 a second, per session), past which it answers
   * GOAWAY(INTERNAL_ERROR): a GOAWAY the generator would have caused. Returns whether a RST was sent.
   */
  streamError(stream: WireStream, code: number): boolean {
    if (this.streams.get(stream.id) === stream) return this.cancel(stream, code);
    if (!this.requestUnfinished(stream)) return false;
    this.writeRst(stream, code);
    return true;
  }

  /** Half-closed (remote): the peer has ended the stream, our request has not gone out whole and we have not reset it. */
  private requestUnfinished(stream: WireStream): boolean {
    return !this.closed && stream.id !== 0 && !stream.resetSent && stream.body !== undefined && stream.sent < stream.body.length;
  }

  private writeRst(stream: WireStream, code: number): void {
    stream.resetSent = true;
    this.out.u32Frame(FRAME.RST_STREAM, stream.id, code);
    this.transport.flushSoon();
  }

  /**
   * Closes at the run's end: every stream left is aborted with `errorClass`, then GOAWAY(NO_ERROR) and FIN after
   * what is already written, as h2load does; unlike destroy(), no written frame is thrown away.
   */
  close(errorClass: string): void {
    if (this.closed) return;
    this.abortClass ??= errorClass;
    this.abortAll(errorClass);
    if (this.ending) return;
    this.end(NO_ERROR);
  }

  /** Closes at once: every stream is aborted with `errorClass`. */
  destroy(errorClass: string): void {
    this.abortClass ??= errorClass;
    this.abortAll(errorClass);
    this.reader.stop();
    this.transport.destroy();
  }

  onFrame(type: number, flags: number, streamId: number, buf: Buffer, start: number, end: number): void {
    if (this.blocks.pending && type !== FRAME.CONTINUATION) throw new H2ProtocolError(PROTOCOL_ERROR, 'expected CONTINUATION');
    const length = end - start;
    switch (type) {
      case FRAME.HEADERS:
        return this.blocks.headers(flags, streamId, buf, start, end);
      case FRAME.CONTINUATION:
        return this.blocks.continuation(flags, streamId, buf, start, end);
      case FRAME.RST_STREAM: {
        if (streamId === 0) throw new H2ProtocolError(PROTOCOL_ERROR, 'RST_STREAM on stream 0');
        if (length !== 4) throw new H2ProtocolError(FRAME_SIZE_ERROR, 'RST_STREAM length');
        const stream = this.streams.get(streamId);
        if (!stream) return;
        this.streams.delete(streamId);
        this.receive.drop(stream);
        stream.onReset(buf.readUInt32BE(start));
        return this.afterStreamEnd();
      }
      case FRAME.SETTINGS:
        return this.onSettings(flags, streamId, buf, start, end);
      case FRAME.PING:
        if (length !== 8) throw new H2ProtocolError(FRAME_SIZE_ERROR, 'PING length');
        if ((flags & FLAG.ACK) === 0) {
          this.out.frame(FRAME.PING, FLAG.ACK, 0, buf, start, end);
          this.transport.flushSoon();
        }
        return;
      case FRAME.GOAWAY:
        if (length < 8) throw new H2ProtocolError(FRAME_SIZE_ERROR, 'GOAWAY length');
        return this.onGoaway(buf.readUInt32BE(start) & MAX_WINDOW, buf.readUInt32BE(start + 4));
      case FRAME.WINDOW_UPDATE: {
        if (length !== 4) throw new H2ProtocolError(FRAME_SIZE_ERROR, 'WINDOW_UPDATE length');
        const increment = buf.readUInt32BE(start) & MAX_WINDOW;
        if (streamId === 0 && increment === 0) throw new H2ProtocolError(PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
        this.send.grow(streamId === 0 ? undefined : this.streams.get(streamId), increment);
        if (this.send.resume()) this.transport.flushSoon();
        if (streamId === 0 && this.waiting.length > 0) this.sendWaiting();
        return;
      }
      case FRAME.PUSH_PROMISE:
        throw new H2ProtocolError(PROTOCOL_ERROR, 'PUSH_PROMISE after SETTINGS_ENABLE_PUSH 0');
      default:
      // PRIORITY and unknown types are ignored (RFC 9113 section 5.5).
    }
  }

  onData(streamId: number, flags: number, flowBytes: number, dataBytes: number): void {
    if (this.blocks.pending) throw new H2ProtocolError(PROTOCOL_ERROR, 'expected CONTINUATION');
    if (streamId === 0) throw new H2ProtocolError(PROTOCOL_ERROR, 'DATA on stream 0');
    const stream = this.streams.get(streamId);
    const endStream = (flags & FLAG.END_STREAM) !== 0;
    const read = this.receive.onData(stream, flowBytes, dataBytes, endStream);
    if (!stream) return;
    if (endStream) this.peerEnded(stream);
    if (read) stream.onData(dataBytes, endStream);
    if (endStream) this.afterPeerEnded(stream);
  }

  /** Only with readBodies (the reader calls nothing otherwise): body bytes for a stream that reads them. */
  onDataBytes(streamId: number, buf: Buffer, start: number, end: number): void {
    if (this.blocks.pending) throw new H2ProtocolError(PROTOCOL_ERROR, 'expected CONTINUATION');
    const stream = this.streams.get(streamId);
    if (stream !== undefined && !stream.stalled) stream.onBodyBytes(buf, start, end);
  }

  /** Writes the stream's HEADERS (and what its body's windows allow) now; rapid-reset.ts resets it right after. */
  protected start(stream: WireStream): void {
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    stream.id = id;
    stream.recvWindow = this.options.streamWindow;
    this.send.opened(stream);
    stream.call = this.opened++;
    stream.stalled = stream.call < this.options.stallStreams;
    this.streams.set(id, stream);
    this.out.frame(FRAME.HEADERS, FLAG.END_HEADERS | (stream.body ? 0 : FLAG.END_STREAM), id, stream.headerBlock);
    if (stream.body) this.send.send(stream);
    this.transport.flushSoon();
    if (stream.stalled) stream.onStalled();
  }

  /**
   * RST_STREAM(code) on a stream start() just wrote, into the same socket write; the stream leaves the table
   * (what the peer still sends on it is then ignored, its DATA credited back to the connection). Nothing else
   * follows, so a burst of these started from sendWaiting does not recurse.
   */
  protected resetStarted(stream: WireStream, code: number): void {
    this.streams.delete(stream.id);
    this.writeRst(stream, code);
  }

  private sendWaiting(): void {
    while (this.waiting.length > 0 && this.ready && this.streams.size < this.peerMaxStreams) {
      if (this.acceptsStreams && !this.mayStart(this.waiting[0]!)) return;
      const stream = this.waiting.shift()!;
      if (this.acceptsStreams) this.start(stream);
      else this.owner.onUnsent(stream, 'other:CONNECTION_CLOSED');
    }
  }

  private headerBlock(streamId: number, flags: number, buf: Buffer, start: number, end: number): void {
    const stream = this.streams.get(streamId);
    // Decoded even when nobody waits for it: the dynamic table must follow every block.
    this.decoder.decode(buf, start, end, stream);
    if (!stream) return;
    const endStream = (flags & FLAG.END_STREAM) !== 0;
    if (endStream) this.peerEnded(stream);
    if (!stream.stalled) stream.onHeadersEnd(endStream);
    if (endStream) this.afterPeerEnded(stream);
  }

  /**
   * The peer ended its side: the stream leaves the table (a stalled one stays parked, holding what it holds)
   * before the owner is told, so that the owner's judgement (streamError) sees it ended.
   */
  private peerEnded(stream: WireStream): void {
    this.streams.delete(stream.id);
    if (stream.stalled) this.parked.add(stream);
  }

  /** After the owner has seen the end of the response (and may have reset it as malformed). */
  private afterPeerEnded(stream: WireStream): void {
    // A complete response before the whole request was sent: stop sending (RFC 9113 section 8.1), unless the
    // owner's PROTOCOL_ERROR already did (one RST_STREAM per stream: none may follow it, section 5.1).
    if (this.requestUnfinished(stream)) this.writeRst(stream, NO_ERROR);
    this.afterStreamEnd();
  }

  private onSettings(flags: number, streamId: number, buf: Buffer, start: number, end: number): void {
    if (streamId !== 0) throw new H2ProtocolError(PROTOCOL_ERROR, 'SETTINGS on a stream');
    if (flags & FLAG.ACK) {
      if (end !== start) throw new H2ProtocolError(FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload');
      return;
    }
    if ((end - start) % 6 !== 0) throw new H2ProtocolError(FRAME_SIZE_ERROR, 'SETTINGS length');
    for (let at = start; at < end; at += 6) {
      const id = buf.readUInt16BE(at);
      const value = buf.readUInt32BE(at + 2);
      if (id === SETTING.MAX_CONCURRENT_STREAMS) {
        this.peerMaxStreams = value;
      } else if (id === SETTING.INITIAL_WINDOW_SIZE) {
        this.send.setInitialWindow(value, this.streams.values());
      } else if (id === SETTING.MAX_FRAME_SIZE) {
        if (value < 16_384 || value > 16_777_215) throw new H2ProtocolError(PROTOCOL_ERROR, 'SETTINGS_MAX_FRAME_SIZE out of range');
        this.send.maxFrame = value;
      } else if (id === SETTING.ENABLE_PUSH && value > 1) {
        throw new H2ProtocolError(PROTOCOL_ERROR, 'SETTINGS_ENABLE_PUSH above 1');
      }
      // HEADER_TABLE_SIZE needs nothing: our encoder never uses the peer's dynamic table.
    }
    this.out.bytes(SETTINGS_ACK);
    this.transport.flushSoon();
    if (!this.ready) this.settleReady(true);
    this.ready = true;
    this.sendWaiting();
    this.send.resume();
  }

  private onGoaway(lastStreamId: number, code: number): void {
    const last = Math.min(lastStreamId, this.goaway?.lastStreamId ?? lastStreamId);
    this.goaway = { code, lastStreamId: last };
    // Streams above the last id were never processed: the GOAWAY cut them.
    const cut: WireStream[] = [];
    for (const stream of this.streams.values()) {
      const id = stream.id;
      if (id <= last) continue;
      this.streams.delete(id);
      this.receive.drop(stream);
      cut.push(stream);
    }
    this.owner.onGoaway(this, code, last, cut.length);
    for (const stream of cut) stream.onAbort(goawayClass(code));
    const unsent = this.waiting;
    this.waiting = [];
    for (const stream of unsent) this.owner.onUnsent(stream, goawayClass(code));
    this.afterStreamEnd();
  }

  /** After a stream left: start waiting ones, and close a draining connection once it is idle. */
  private afterStreamEnd(): void {
    if (this.waiting.length > 0) this.sendWaiting();
    if (!this.acceptsStreams && !this.ending && this.streams.size === 0 && this.waiting.length === 0) this.end(NO_ERROR);
  }

  /** Closes our side: GOAWAY with `code` (and why), then FIN; the socket is destroyed once that is flushed. */
  private end(code: number, debug = ''): void {
    if (this.ending || this.closed) return;
    this.ending = true;
    this.out.bytes(goawayFrame(0, code, debug));
    this.transport.end();
  }

  onBytes(chunk: Buffer, bytes: number): void {
    this.now = performance.now();
    try {
      this.reader.push(chunk, bytes);
    } catch (err) {
      if (!(err instanceof H2ProtocolError)) throw err;
      // A connection error (RFC 9113 section 5.4.1): our streams fail as other:<CODE>.
      this.reader.stop();
      this.error ??= Object.assign(new Error(err.message), { code: h2CodeName(err.h2Code) });
      this.end(err.h2Code, err.message);
    }
  }

  onTransportClose(error: Error | undefined): void {
    this.error ??= error;
    this.reader.stop();
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
    for (const stream of all) {
      stream.heldCredit = 0;
      stream.onAbort(errorClass);
    }
  }
}
