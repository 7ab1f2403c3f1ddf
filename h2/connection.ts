// A role-agnostic HTTP/2 connection (RFC 9113) over any byte transport: the preface, the SETTINGS exchange,
// the stream state machine of 5.1 (stream-state.ts), PING, GOAWAY (graceful in two steps, 6.8), RST_STREAM,
// fixed flow control both ways (flow.ts, strict receive credit: only what the application consumed), and the
// flood bounds of limits.ts. Bytes come in through receive(chunk); frames leave through transport.write, at
// most one write per receive() or per method call. Events go to ONE listener given at construction; nothing
// is ever thrown out of receive(): a peer's violation ends in RST_STREAM (stream error) or GOAWAY and close
// (connection error), recorded in `closeReason`.
import type { Socket } from 'node:net';
import { H2_ERROR, H2ProtocolError, H2StreamError, HeaderListTooLargeError } from './errors.js';
import { parseFrame, type Frame } from './frame-parse.js';
import { ReceiveWindow, SendWindow } from './flow.js';
import {
  DEFAULT_WINDOW,
  FLAG,
  FRAME,
  FRAME_HEADER_BYTES,
  FrameReader,
  goawayFrame,
  MAX_WINDOW,
  pingFrame,
  PREFACE,
  rstStreamFrame,
  SETTING,
  SETTINGS_ACK,
  settingsFrame,
  windowUpdateFrame,
  FrameWriter,
} from './frames.js';
import { HeaderBlockAssembler, type HeaderBlock } from './header-block.js';
import { HpackDecoder } from './hpack/decoder.js';
import { HpackEncoder, type HeaderList } from './hpack/encoder.js';
import { checkHeaders, contentLength } from './http-semantics.js';
import { AdaptiveWindow, type AdaptiveOptions, type Sample } from './adaptive-window.js';
import { DEFAULT_LIMITS, TokenBucket, type Limits } from './limits.js';
import { LOCAL_DEFAULTS, RFC_DEFAULTS, settingsEntries, type Settings } from './settings.js';
import { canReceive, canSend, nextState, type StreamState } from './stream-state.js';
import { IdMap } from './id-map.js';

const E = H2_ERROR;

/** What the connection writes to: a socket, or an array in a test. `write` returning false means "stop until drained()". */
export interface Transport {
  write(buf: Buffer): boolean | void;
  /** Optional: the queued frames as they are, large DATA payloads by reference (no copy into one buffer); the
   *  same return value as write. Without it a flush is one write of the frames joined. */
  writev?(bufs: Buffer[]): boolean | void;
  end(): void;
  destroy(): void;
}

export type Role = 'client' | 'server';

export interface CloseReason {
  /** The HTTP/2 error code (NO_ERROR for a graceful end or the transport closing). */
  code: number;
  /** Who ended it: we (a GOAWAY we sent, close()), the peer (its GOAWAY), or the transport. */
  by: 'local' | 'peer' | 'transport';
  message: string;
}

/** The events, all optional; a listener that throws closes the connection with INTERNAL_ERROR. */
export interface H2Listener {
  onHeaders?(streamId: number, headers: Array<[string, string]>, endStream: boolean): void;
  onData?(streamId: number, data: Buffer, endStream: boolean): void;
  /**
   * Instead of onHeaders when defined: the fields as one flat array, name then value (`fields[2i]`, `fields[2i + 1]`
   * for i < count / 2... that is, `count` strings), reused for every block: valid only during the call. No array
   * per field nor per block (the generator's hot path).
   */
  onHeaderFields?(streamId: number, fields: readonly string[], count: number, endStream: boolean): void;
  /**
   * Instead of onData when defined: DATA is never copied. Called where onData would be, with the octets of body the
   * frame carried (padding left out); the bytes themselves go to onDataPiece, if defined, and nowhere else.
   */
  onDataLength?(streamId: number, length: number, endStream: boolean): void;
  /**
   * With onDataLength: the body octets of a DATA frame as they are read, buf[start, end), a view of the chunk given
   * to receive(), valid only during the call (a frame split across reads comes in several pieces), all before its
   * frame's onDataLength. Only for a stream open for receiving; a frame the connection then refuses (a window or
   * content-length overrun) ends in onReset, after its pieces were handed over.
   */
  onDataPiece?(streamId: number, buf: Buffer, start: number, end: number): void;
  /** `local`: we reset it (a bound, a stream error of the peer's, reset(); also a stream refused before it opened, or
   *  one already closed: every RST_STREAM we send); else the peer's RST_STREAM or GOAWAY. */
  onReset?(streamId: number, code: number, local: boolean): void;
  onGoaway?(lastStreamId: number, code: number, debug: Buffer): void;
  onSettings?(peer: Readonly<Settings>): void;
  onPingAck?(opaque: Buffer): void;
  /** The peer's WINDOW_UPDATE grew the connection's send window to `size` (an owner holding DATA back until it fits). */
  onConnectionWindow?(size: number): void;
  /** DATA queued on the stream past the peer's windows has all gone out: the owner may send more (backpressure). */
  onWritable?(streamId: number): void;
  onClose?(reason: CloseReason): void;
}

export interface ConnectionOptions {
  /** What we announce (merged over LOCAL_DEFAULTS). */
  settings?: Partial<Settings>;
  /** The connection's receive window (opened with a WINDOW_UPDATE at start when above 65 535). */
  connectionWindow?: number;
  limits?: Partial<Limits>;
  /** A clock in ms for the rate limits (tests pass a fake one). */
  now?: () => number;
  /** Check RFC 9113 section 8's message rules on received blocks (http-semantics.ts); default true. */
  validateHttp?: boolean;
  /**
   * Receive windows: 'fixed' (default: `settings.initialWindowSize` and `connectionWindow` for good) or
   * 'adaptive': BDP estimation with PING (adaptive-window.ts, as the proxy does it) starting from the fixed ones;
   * a grown connection window goes out as WINDOW_UPDATE, a grown stream window as SETTINGS_INITIAL_WINDOW_SIZE.
   */
  flow?: 'fixed' | { adaptive: Omit<AdaptiveOptions, 'streamWindow' | 'connWindow'> };
  /** Adaptive flow: told of every BDP sample (metrics). */
  onBdpSample?: (sample: Sample, streamWindow: number, connWindow: number) => void;
  /**
   * Output made outside receive() (the application's calls: request, respond, sendData, consume...) is staged, not
   * written at once: deferFlush() is called, once until the owner calls flushOutput() (say, at the end of the event
   * loop's turn), which writes everything staged meanwhile in one go. Without it every such call writes at once.
   * Output made while reading is written at the end of receive() either way.
   */
  deferFlush?: () => void;
}

export interface ConnectionStats {
  streams: number;
  bufferedBytes: number;
  queuedControlFrames: number;
  queuedFrames: number;
  queuedOutputBytes: number;
}

/** A stream's DATA queue before it has any: shared, never pushed to (sendData replaces it). */
const NO_QUEUE: Buffer[] = [];

/**
 * A stream. Its receive window is the object itself (ReceiveWindow's size, target, receive, consume, adjust) and its
 * send window a number: one object per stream, not three (a client opens one per request).
 */
class Stream extends ReceiveWindow {
  state: StreamState = 'idle';
  /** What the peer lets us send on it (RFC 9113 6.9); past 2^31-1 is the caller's error. */
  sendWindow: number;
  /** DATA waiting for window (NO_QUEUE until the first DATA queued: most streams of a client send none); `endQueued`
   *  once the application ended the body; trailers after it. */
  queue: Buffer[] = NO_QUEUE;
  queued = 0;
  endQueued = false;
  trailers: HeaderList | undefined = undefined;
  headersReceived = false;
  /** DATA octets received and not yet consumed: their connection credit goes back if the stream is dropped. */
  unconsumed = 0;
  /** Octets consumeConnection() credited to the connection and consume() has not yet taken off the stream. */
  connCredited = 0;
  /** content-length announced by the peer (-1: none), and the DATA octets received so far. */
  expectedLength = -1;
  receivedLength = 0;

  constructor(
    public id: number,
    sendWindow: number,
    recvWindow: number,
    /** now() of the last frame on the stream, either way (the idle timeout). */
    public lastActive: number,
  ) {
    super(recvWindow, recvWindow);
    this.sendWindow = sendWindow;
  }

  /** The record of a forgotten stream made a new stream's (the connection's spares: no allocation per stream). */
  restart(id: number, sendWindow: number, recvWindow: number, lastActive: number): void {
    this.restartWindow(recvWindow);
    this.id = id;
    this.state = 'idle';
    this.sendWindow = sendWindow;
    this.queue = NO_QUEUE;
    this.queued = 0;
    this.endQueued = false;
    this.trailers = undefined;
    this.headersReceived = false;
    this.unconsumed = 0;
    this.connCredited = 0;
    this.expectedLength = -1;
    this.receivedLength = 0;
    this.lastActive = lastActive;
  }

  /** A WINDOW_UPDATE or a SETTINGS_INITIAL_WINDOW_SIZE change; false past 2^31-1 (the caller picks the error's level). */
  growSend(increment: number): boolean {
    if (this.sendWindow + increment > MAX_WINDOW) return false;
    this.sendWindow += increment;
    return true;
  }
}

const EMPTY = Buffer.alloc(0);
/** Stream records kept for reuse, at most (a steady client or server needs about its concurrency's worth). */
const SPARE_STREAMS = 128;
const GRACEFUL_PING = Buffer.from('h2-goawy', 'latin1');
const BDP_PING = Buffer.from('h2-bdp-p', 'latin1');
/** The output staging buffer: 16 KiB, not the generator's 64, as a proxy holds many mostly idle connections. */
const OUTPUT_STAGE_BYTES = 16 * 1024;
/** Streams we reset, remembered to ignore what the peer still sends on them: the h2 crate's DEFAULT_LOCAL_RESET_COUNT_MAX. */
const RESET_MEMORY = 1024;

export class H2Connection {
  readonly role: Role;
  readonly local: Settings;
  peer: Settings = { ...RFC_DEFAULTS };
  readonly limits: Limits;
  /** 'open', 'draining' (a GOAWAY sent or received; existing streams finish), 'closed'. */
  state: 'open' | 'draining' | 'closed' = 'open';
  closeReason: CloseReason | undefined;

  /** By id: an IdMap, not a Map, so closed streams are not kept alive into the old generation (id-map.ts). */
  private readonly streams = new IdMap<Stream>();
  private readonly reader: FrameReader;
  private readonly assembler: HeaderBlockAssembler;
  private readonly decoder: HpackDecoder;
  private readonly encoder = new HpackEncoder();
  private readonly connSend = new SendWindow(DEFAULT_WINDOW);
  private readonly connRecv: ReceiveWindow;
  private readonly resets: TokenBucket;
  private readonly glitches: TokenBucket;
  private readonly now: () => number;
  /** Server: the client preface still to check, octets matched so far. */
  private prefaceLeft: number;
  private peerSettingsSeen = false;
  private settingsAcksOwed = 0;
  /** now() when each unacknowledged SETTINGS of ours left, oldest first. */
  private readonly settingsSentAt: number[] = [];
  /** The INITIAL_WINDOW_SIZE each unacknowledged SETTINGS of ours carries (in effect for the peer at its ACK). */
  private readonly settingsWindows: number[] = [];
  private gracefulPingAt = 0;
  /** now() when the last stream closed (or the connection opened), and when draining began. */
  private idleSince: number;
  private drainingSince = 0;
  /** The stream receive window the peer uses: 65 535 until it acknowledges our SETTINGS (6.9.2). */
  private recvInitial = DEFAULT_WINDOW;
  private nextStreamId: number;
  /** Highest stream id the peer opened (ours: nextStreamId - 2). */
  private lastPeerStreamId = 0;
  /** The peer's GOAWAY: streams of ours above it will not be processed. */
  private peerGoawayLast = MAX_WINDOW;
  /** Our GOAWAY's last stream id (new peer streams above it are ignored). */
  private goawayLast = MAX_WINDOW;
  private gracefulPingSent = false;
  private bufferedBytes = 0;
  private emptyFrames = 0;
  /** Envoy's inbound flood counters: header blocks received, PRIORITY and WINDOW_UPDATE frames received, DATA frames sent. */
  private inboundBlocks = 0;
  private inboundPriority = 0;
  private inboundWindowUpdates = 0;
  private outboundData = 0;
  /** What the next flush writes: frames staged in one buffer (small ones copied, large payloads by reference),
   *  not a Buffer per frame joined by Buffer.concat; `outFrames` counts them against maxOutboundFrames. */
  private readonly out = new FrameWriter(OUTPUT_STAGE_BYTES);
  private outFrames = 0;
  private outBytes = 0;
  private outControl = 0;
  private blocked = false;
  private inReceive = false;
  private readonly deferFlush: (() => void) | undefined;
  /** deferFlush() was called and flushOutput() has not run since. */
  private flushDeferred = false;
  /** now() read once per receive(): the streams' activity stamps within one read share it (see stamp()). */
  private turnNow: number | undefined;
  /** Chunks given to a re-entered receive(), read after the current one. */
  private pendingInput: Buffer[] = [];
  /** DATA body of the frame being read: its first piece, and the others when it came in several (split across reads). */
  private dataPiece: Buffer | undefined;
  private dataPieces: Buffer[] | undefined;
  private readonly validateHttp: boolean;
  private readonly adaptive: AdaptiveWindow | undefined;
  private readonly onBdpSample: ConnectionOptions['onBdpSample'];
  /** Flow-controlled octets received on the connection, in all (the BDP samples' byte count). */
  private receivedBytes = 0;
  /** The last RESET_MEMORY streams we reset, oldest first. */
  private readonly resetByUs = new Set<number>();
  /** The decoder's sink, one for the connection (not a closure per block): a block's fields go to the flat, reused
   *  `fields` (name, value, name, value...), `count` strings of it; tuples only for checkHeaders and onHeaders. */
  private readonly headerSink = {
    fields: [] as string[],
    count: 0,
    onHeader(name: string, value: string): void {
      this.fields[this.count++] = name;
      this.fields[this.count++] = value;
    },
  };
  /** The listener takes DATA as lengths (and views): onDataLength defined. */
  private readonly dataViews: boolean;
  /** How many of `streams` the peer opened: kept as a count, not found by walking the map per HEADERS. */
  private peerOpen = 0;
  /** Records of forgotten streams, reused by newStream: a client opening a stream per request allocates none. */
  private readonly spares: Stream[] = [];
  /** Streams with DATA, trailers or END_STREAM waiting to go out: flush pumps these, not every stream. */
  private readonly sending = new Set<Stream>();
  /** Streams whose queued DATA went out while they were blocked: told onWritable after the write. */
  private writable: number[] = [];

  constructor(
    role: Role,
    private readonly transport: Transport,
    private readonly listener: H2Listener = {},
    opts: ConnectionOptions = {},
  ) {
    this.role = role;
    this.local = { ...LOCAL_DEFAULTS, ...opts.settings };
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.now = opts.now ?? (() => performance.now());
    this.validateHttp = opts.validateHttp ?? true;
    this.resets = new TokenBucket(this.limits.resetBurst, this.limits.resetRatePerSecond, this.now());
    this.glitches = new TokenBucket(this.limits.glitchBurst, this.limits.glitchRatePerSecond, this.now());
    this.idleSince = this.now();
    this.nextStreamId = role === 'client' ? 1 : 2;
    this.prefaceLeft = role === 'server' ? PREFACE.length : 0;
    this.decoder = new HpackDecoder(this.local.headerTableSize, this.local.maxHeaderListSize);
    this.assembler = new HeaderBlockAssembler((b) => this.onBlock(b), { maxContinuations: this.limits.maxContinuations, maxBlockBytes: this.limits.maxHeaderBlockBytes });
    const connWindow = Math.max(DEFAULT_WINDOW, Math.min(MAX_WINDOW, opts.connectionWindow ?? DEFAULT_WINDOW));
    this.connRecv = new ReceiveWindow(connWindow, connWindow);
    const flow = opts.flow ?? 'fixed';
    this.adaptive = flow === 'fixed' ? undefined : new AdaptiveWindow({ ...flow.adaptive, streamWindow: this.local.initialWindowSize, connWindow });
    this.onBdpSample = opts.onBdpSample;
    this.deferFlush = opts.deferFlush;
    this.dataViews = listener.onDataLength !== undefined;
    const pieces = listener.onDataPiece;
    this.reader = new FrameReader(
      {
        onFrame: (type, flags, streamId, payload, start, end) => this.onFrame(type, flags, streamId, payload, start, end),
        onData: (streamId, flags, flowBytes, dataBytes) => {
          try {
            this.onDataFrame(streamId, flags, flowBytes, dataBytes);
          } catch (err) {
            if (err instanceof H2StreamError) this.streamError(err.streamId, err.h2Code);
            else throw err;
          }
        },
        onDataBytes: (streamId, buf, start, end) => {
          if (this.dataViews) {
            // Views, for a stream that may receive (the frame's own checks come at its end, in onDataFrame).
            const s = this.streams.get(streamId);
            if (s === undefined || !canReceive(s.state) || this.state === 'closed') return;
            try {
              pieces!.call(listener, streamId, buf, start, end);
            } catch (err) {
              throw listenerThrew(err);
            }
            return;
          }
          // Copied: the listener keeps what onData hands it, and the caller of receive() may reuse its chunk.
          const piece = Buffer.allocUnsafe(end - start);
          buf.copy(piece, 0, start, end);
          if (this.dataPiece === undefined) this.dataPiece = piece;
          else (this.dataPieces ??= [this.dataPiece]).push(piece);
        },
      },
      this.local.maxFrameSize,
      // Lengths only (onDataLength without onDataPiece): the reader counts DATA and hands over no piece.
      !this.dataViews || pieces !== undefined,
    );
    if (role === 'client') this.queue(PREFACE, false);
    this.queue(settingsFrame(settingsEntries(this.local)), false);
    this.settingsAcksOwed++;
    this.settingsSentAt.push(this.now());
    this.settingsWindows.push(this.local.initialWindowSize);
    if (connWindow > DEFAULT_WINDOW) this.queue(windowUpdateFrame(0, connWindow - DEFAULT_WINDOW), false);
    this.flush();
  }

  // ---- input ----

  /**
   * Bytes from the transport. Never throws. Re-entered from a listener (a transport that delivers synchronously),
   * the chunk is copied and read after the current one: the frame reader is never re-entered.
   */
  receive(chunk: Buffer, end = chunk.length): void {
    if (this.state === 'closed') return;
    if (this.inReceive) {
      this.pendingInput.push(Buffer.from(chunk.subarray(0, end)));
      return;
    }
    this.inReceive = true;
    this.turnNow = this.now();
    try {
      this.read(chunk, end);
      while (this.pendingInput.length > 0 && !this.closed) {
        const next = this.pendingInput.shift()!;
        this.read(next, next.length);
      }
    } catch (err) {
      this.fail(err);
    } finally {
      if (this.pendingInput.length > 0) this.pendingInput = [];
      this.inReceive = false;
      this.turnNow = undefined;
    }
    this.flush();
  }

  /** Whether the connection is closed (a getter: TypeScript's narrowing of `state` would not see a listener close it). */
  get closed(): boolean {
    return this.state === 'closed';
  }

  private read(chunk: Buffer, end: number): void {
    {
      let at = 0;
      if (this.prefaceLeft > 0) {
        const n = Math.min(this.prefaceLeft, end);
        const from = PREFACE.length - this.prefaceLeft;
        if (!chunk.subarray(0, n).equals(PREFACE.subarray(from, from + n))) {
          // RFC 9113 3.4: a PROTOCOL_ERROR; the GOAWAY "MAY be omitted" (the peer may not speak HTTP/2), and we omit it as nghttp2 does.
          this.shut({ code: E.PROTOCOL_ERROR, by: 'local', message: 'bad client preface' }, false);
          return;
        }
        this.prefaceLeft -= n;
        at = n;
      }
      if (at < end) this.reader.push(at === 0 ? chunk : chunk.subarray(at, end), end - at);
    }
  }

  /** The transport drained what we wrote (a socket's 'drain'). */
  drained(): void {
    if (this.state === 'closed') return;
    this.blocked = false;
    this.flush();
  }

  /** The transport closed under us (a socket's 'close'). */
  transportClosed(error?: Error): void {
    if (this.state === 'closed') return;
    this.finish({ code: E.NO_ERROR, by: 'transport', message: error ? `transport closed: ${error.message}` : 'transport closed' });
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer, start: number, end: number): void {
    if (this.state === 'closed') return;
    if (type === FRAME.HEADERS && (flags & (FLAG.PADDED | FLAG.PRIORITY | FLAG.END_HEADERS)) === FLAG.END_HEADERS && streamId !== 0 && this.peerSettingsSeen && !this.assembler.pending) {
      // The common HEADERS (a whole block, no padding, no priority): no Frame, no fragment view, no HeaderBlock.
      // The same checks as the way through parseFrame and the assembler below.
      const endStream = (flags & FLAG.END_STREAM) !== 0;
      try {
        this.emptyFrame(end === start && !endStream);
        if (end - start > this.limits.maxHeaderBlockBytes) {
          throw new H2ProtocolError(E.ENHANCE_YOUR_CALM, `header block of more than ${this.limits.maxHeaderBlockBytes} encoded octets`);
        }
        this.onHeaderBlock(streamId, payload, start, end, endStream);
      } catch (err) {
        if (err instanceof H2StreamError) this.streamError(err.streamId, err.h2Code);
        else throw err;
      }
      return;
    }
    let frame: Frame;
    try {
      frame = parseFrame(type, flags, streamId, payload, start, end);
    } catch (err) {
      // A HEADERS refused by the parser (a stream depending on itself) carries a block we cannot decode: the HPACK
      // tables would be out of step, so it is the connection's error, not the stream's.
      if (err instanceof H2StreamError && type === FRAME.HEADERS) throw new H2ProtocolError(err.h2Code, err.message);
      if (err instanceof H2StreamError) return this.streamError(err.streamId, err.h2Code);
      throw err;
    }
    try {
      if (!this.peerSettingsSeen) {
        if (frame.type !== 'SETTINGS' || frame.ack) throw new H2ProtocolError(E.PROTOCOL_ERROR, `the peer's first frame is ${frame.type}, not SETTINGS (3.4)`);
      }
      this.countEmpty(frame);
      if (frame.type === 'PUSH_PROMISE') throw new H2ProtocolError(E.PROTOCOL_ERROR, 'PUSH_PROMISE, and we never enable push (8.4)');
      if (this.assembler.frame(frame)) return;
      this.handle(frame);
    } catch (err) {
      if (err instanceof H2StreamError) this.streamError(err.streamId, err.h2Code);
      else throw err;
    }
  }

  private countEmpty(frame: Frame): void {
    const empty =
      (frame.type === 'HEADERS' && frame.fragment.length === 0 && !frame.endStream) || (frame.type === 'CONTINUATION' && frame.fragment.length === 0 && !frame.endHeaders);
    this.emptyFrame(empty);
  }

  private emptyFrame(empty: boolean): void {
    if (!empty) {
      this.emptyFrames = 0;
      return;
    }
    if (++this.emptyFrames > this.limits.maxConsecutiveEmptyFrames) {
      throw new H2ProtocolError(E.ENHANCE_YOUR_CALM, `more than ${this.limits.maxConsecutiveEmptyFrames} consecutive empty frames`);
    }
  }

  private handle(frame: Frame): void {
    switch (frame.type) {
      case 'SETTINGS':
        return this.onSettingsFrame(frame.ack, frame.settings);
      case 'PING':
        if (frame.ack) {
          if (this.gracefulPingSent && frame.opaque.equals(GRACEFUL_PING)) this.secondGoaway();
          else if (this.adaptive?.pingInFlight && frame.opaque.equals(BDP_PING)) this.bdpSample();
          else this.emit(() => this.listener.onPingAck?.(Buffer.from(frame.opaque)));
        } else {
          this.queue(pingFrame(frame.opaque, true), true);
        }
        return;
      case 'GOAWAY':
        return this.onGoawayFrame(frame.lastStreamId, frame.code, frame.debug);
      case 'WINDOW_UPDATE':
        return this.onWindowUpdate(frame.streamId, frame.increment);
      case 'RST_STREAM':
        return this.onRstStream(frame.streamId, frame.code);
      case 'PRIORITY':
        // 5.3: deprecated, parsed and ignored (on any stream, idle ones included), but bounded (Envoy's rule).
        if (++this.inboundPriority > this.limits.maxPriorityPerStream * (1 + this.inboundBlocks)) {
          throw new H2ProtocolError(E.ENHANCE_YOUR_CALM, `more than ${this.limits.maxPriorityPerStream} PRIORITY frames per stream`);
        }
        return;
      default:
        return; // UNKNOWN (5.5); DATA does not come this way; HEADERS/CONTINUATION went to the assembler.
    }
  }

  private onSettingsFrame(ack: boolean, entries: Array<[number, number]>): void {
    if (ack) {
      if (this.settingsAcksOwed === 0) throw new H2ProtocolError(E.PROTOCOL_ERROR, 'SETTINGS ACK for no SETTINGS of ours');
      this.settingsAcksOwed--;
      this.settingsSentAt.shift();
      // The INITIAL_WINDOW_SIZE of the SETTINGS acknowledged takes effect for the peer now: every open stream's
      // window moves by the difference.
      const window = this.settingsWindows.shift() ?? this.recvInitial;
      const delta = window - this.recvInitial;
      if (delta !== 0) {
        this.recvInitial = window;
        for (const s of this.streams.values()) s.adjust(delta);
      }
      return;
    }
    if (entries.length > this.limits.maxSettingsEntries) {
      throw new H2ProtocolError(E.ENHANCE_YOUR_CALM, `SETTINGS with ${entries.length} entries (more than ${this.limits.maxSettingsEntries})`);
    }
    this.peerSettingsSeen = true;
    for (const [id, value] of entries) {
      switch (id) {
        case SETTING.HEADER_TABLE_SIZE:
          this.peer.headerTableSize = value;
          this.encoder.setPeerTableSize(value);
          break;
        case SETTING.ENABLE_PUSH:
          if (this.role === 'client' && value !== 0) throw new H2ProtocolError(E.PROTOCOL_ERROR, 'a server sent SETTINGS_ENABLE_PUSH = 1');
          this.peer.enablePush = value === 1;
          break;
        case SETTING.MAX_CONCURRENT_STREAMS:
          this.peer.maxConcurrentStreams = value;
          break;
        case SETTING.INITIAL_WINDOW_SIZE: {
          const delta = value - this.peer.initialWindowSize;
          this.peer.initialWindowSize = value;
          for (const s of this.streams.values()) {
            if (!s.growSend(delta)) throw new H2ProtocolError(E.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE takes stream ${s.id}'s window above 2^31-1`);
          }
          break;
        }
        case SETTING.MAX_FRAME_SIZE:
          this.peer.maxFrameSize = value;
          break;
        case SETTING.MAX_HEADER_LIST_SIZE:
          this.peer.maxHeaderListSize = value;
          break;
        default:
          break; // 6.5.2: unknown settings are ignored.
      }
    }
    this.queue(SETTINGS_ACK, true);
    const peer = { ...this.peer };
    this.emit(() => this.listener.onSettings?.(peer));
    this.pump();
  }

  private onGoawayFrame(lastStreamId: number, code: number, debug: Buffer): void {
    // 6.8: "Endpoints MUST NOT increase the value they send in the last stream identifier" (nghttp2: PROTOCOL_ERROR).
    if (lastStreamId > this.peerGoawayLast) throw new H2ProtocolError(E.PROTOCOL_ERROR, `GOAWAY's last stream id grew from ${this.peerGoawayLast} to ${lastStreamId}`);
    this.peerGoawayLast = Math.min(this.peerGoawayLast, lastStreamId);
    if (this.state === 'open') {
      this.state = 'draining';
      this.drainingSince = this.now();
    }
    const copy = Buffer.from(debug);
    this.emit(() => this.listener.onGoaway?.(lastStreamId, code, copy));
    // Our streams above its last id were not processed: refused (6.8), to be retried elsewhere.
    for (const s of this.streams.values()) {
      if (this.isOurs(s.id) && s.id > lastStreamId) this.dropStream(s, E.REFUSED_STREAM, false);
    }
    if (code !== E.NO_ERROR) {
      for (const s of this.streams.values()) this.dropStream(s, code, false);
      this.finish({ code, by: 'peer', message: `GOAWAY ${code}: ${copy.toString('latin1')}` });
      return;
    }
    this.maybeDone();
  }

  private onWindowUpdate(streamId: number, increment: number): void {
    // Envoy's bound: 1 + 2 * (header blocks received + 10 per DATA frame sent).
    if (++this.inboundWindowUpdates > 1 + 2 * (this.inboundBlocks + this.limits.maxWindowUpdatesPerDataSent * this.outboundData)) {
      throw new H2ProtocolError(E.ENHANCE_YOUR_CALM, 'more WINDOW_UPDATE frames than the DATA we sent can explain');
    }
    if (streamId === 0) {
      if (!this.connSend.grow(increment)) throw new H2ProtocolError(E.FLOW_CONTROL_ERROR, 'connection send window above 2^31-1');
      this.pump();
      if (this.listener.onConnectionWindow !== undefined) {
        const size = this.connSend.size;
        this.emit(() => this.listener.onConnectionWindow!(size));
      }
      return;
    }
    const s = this.streams.get(streamId);
    if (!s) {
      if (this.isIdle(streamId)) throw new H2ProtocolError(E.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${streamId}`);
      return; // closed: ignored (5.1).
    }
    if (!s.growSend(increment)) throw new H2StreamError(streamId, E.FLOW_CONTROL_ERROR, `stream ${streamId} send window above 2^31-1`);
    s.lastActive = this.stamp();
    this.pumpStream(s);
  }

  private onRstStream(streamId: number, code: number): void {
    if (this.role === 'server' && !this.resets.take(this.now())) {
      // Rapid reset (CVE-2023-44487): nghttp2's token bucket on incoming RST_STREAM.
      throw new H2ProtocolError(E.ENHANCE_YOUR_CALM, `RST_STREAM faster than ${this.limits.resetRatePerSecond}/s past a burst of ${this.limits.resetBurst}`);
    }
    const s = this.streams.get(streamId);
    if (!s) {
      if (this.isIdle(streamId)) throw new H2ProtocolError(E.PROTOCOL_ERROR, `RST_STREAM on idle stream ${streamId}`);
      return;
    }
    this.dropStream(s, code, false);
  }

  private onDataFrame(streamId: number, flags: number, flowBytes: number, dataBytes: number): void {
    const piece = this.dataPiece;
    const pieces = this.dataPieces;
    this.dataPiece = this.dataPieces = undefined;
    if (this.state === 'closed') return;
    if (!this.peerSettingsSeen) throw new H2ProtocolError(E.PROTOCOL_ERROR, "the peer's first frame is DATA, not SETTINGS (3.4)");
    if (this.assembler.pending) throw new H2ProtocolError(E.PROTOCOL_ERROR, 'DATA inside a header block');
    if (streamId === 0) throw new H2ProtocolError(E.PROTOCOL_ERROR, 'DATA on stream 0');
    const endStream = (flags & FLAG.END_STREAM) !== 0;
    this.emptyFrame(flowBytes === 0 && !endStream);
    // The connection window counts every DATA frame, whatever its stream's state (6.9).
    this.connRecv.receive(flowBytes);
    if (this.adaptive !== undefined) {
      this.receivedBytes += flowBytes;
      const now = this.now();
      if (this.adaptive.shouldPing(now, this.receivedBytes)) {
        this.queue(pingFrame(BDP_PING, false), false);
        this.adaptive.pingSent(now, this.receivedBytes);
      }
    }
    const s = this.streams.get(streamId);
    if (!s || !canReceive(s.state)) {
      if (!s && this.isIdle(streamId)) throw new H2ProtocolError(E.PROTOCOL_ERROR, `DATA on idle stream ${streamId}`);
      this.creditConnection(flowBytes);
      if (!s && this.resetByUs.has(streamId)) return; // in flight before our RST_STREAM: ignored
      this.streamError(streamId, E.STREAM_CLOSED);
      return;
    }
    try {
      s.receive(flowBytes);
    } catch {
      this.creditConnection(flowBytes);
      this.streamError(streamId, E.FLOW_CONTROL_ERROR);
      return;
    }
    s.unconsumed += flowBytes;
    s.lastActive = this.stamp();
    if (s.expectedLength >= 0) {
      s.receivedLength += dataBytes;
      // 8.1.1: DATA beyond content-length, or short of it at END_STREAM, makes the message malformed.
      if (s.receivedLength > s.expectedLength || (endStream && s.receivedLength !== s.expectedLength)) {
        throw new H2StreamError(streamId, E.PROTOCOL_ERROR, `stream ${streamId}: ${s.receivedLength} DATA octets against content-length ${s.expectedLength}`);
      }
    }
    // Padding is flow-controlled but never reaches the application: its credit goes back at once.
    if (flowBytes > dataBytes) this.credit(streamId, flowBytes - dataBytes);
    if (endStream) this.transition(s, 'recv-end');
    try {
      if (this.dataViews) this.listener.onDataLength!(streamId, dataBytes, endStream);
      else this.listener.onData?.(streamId, pieces !== undefined ? Buffer.concat(pieces) : (piece ?? EMPTY), endStream);
    } catch (err) {
      throw listenerThrew(err);
    }
    if (s.state === 'closed') this.forget(s);
  }

  private onBlock(block: HeaderBlock): void {
    this.onHeaderBlock(block.streamId, block.block, 0, block.block.length, block.endStream);
  }

  /** A whole header block buf[start, end) of stream `id` (HEADERS, with its CONTINUATION frames joined). */
  private onHeaderBlock(id: number, buf: Buffer, start: number, end: number, endStream: boolean): void {
    this.inboundBlocks++;
    // Decode first, always: the HPACK table must stay in step whatever becomes of the stream.
    const sink = this.headerSink;
    sink.count = 0;
    let tooLarge = false;
    try {
      this.decoder.decode(buf, start, end, sink);
    } catch (err) {
      if (!(err instanceof HeaderListTooLargeError)) throw err;
      tooLarge = true;
    }
    let s = this.streams.get(id);
    if (!s && this.resetByUs.has(id)) return; // decoded (the table stays in step), then ignored: we reset it
    if (!s) {
      if (this.isOurs(id)) {
        if (id >= this.nextStreamId) throw new H2ProtocolError(E.PROTOCOL_ERROR, `HEADERS on idle stream ${id} of ours`);
        this.streamError(id, E.STREAM_CLOSED);
        return;
      }
      if (this.role === 'client') throw new H2ProtocolError(E.PROTOCOL_ERROR, `HEADERS opening stream ${id} at a client`);
      if (id <= this.lastPeerStreamId) throw new H2ProtocolError(E.STREAM_CLOSED, `HEADERS on closed stream ${id}`);
      this.lastPeerStreamId = id;
      if (id > this.goawayLast) return; // after our GOAWAY: ignored (6.8).
      if (this.peerStreams() >= this.local.maxConcurrentStreams) {
        this.streamError(id, E.REFUSED_STREAM);
        return;
      }
      s = this.newStream(id);
      this.transition(s, 'recv-headers');
    } else {
      if (!canReceive(s.state)) {
        this.streamError(id, E.STREAM_CLOSED);
        return;
      }
      // A second block is trailers: it must end the stream (8.1).
      if (s.headersReceived && !endStream) throw new H2StreamError(id, E.PROTOCOL_ERROR, `HEADERS without END_STREAM after the headers of stream ${id}`);
    }
    if (tooLarge) {
      if (this.role === 'server' && !s.headersReceived) {
        // README: a server answers 431; the rest of the request is not read.
        if (endStream) this.transition(s, 'recv-end');
        this.sendHeaders(id, [[':status', '431']], true);
        if (this.streams.has(id)) this.streamError(id, E.NO_ERROR);
      } else {
        this.streamError(id, E.CANCEL);
      }
      return;
    }
    // An informational response (1xx) may be followed by the final one (8.1).
    const fields = sink.fields;
    const count = sink.count;
    const status = count > 0 && fields[0] === ':status' ? fields[1]! : '';
    // Tuples only for what needs them: the section 8 checks and a listener without onHeaderFields.
    const flat = this.listener.onHeaderFields;
    let headers: Array<[string, string]> | undefined;
    if (this.validateHttp || flat === undefined) {
      headers = new Array<[string, string]>(count >> 1);
      for (let i = 0; i < count; i += 2) headers[i >> 1] = [fields[i]!, fields[i + 1]!];
    }
    if (this.validateHttp) {
      headers = headers!;
      const kind = s.headersReceived ? 'trailers' : this.role === 'server' ? 'request' : 'response';
      const wrong = checkHeaders(headers, kind);
      if (wrong !== undefined) throw new H2StreamError(id, E.PROTOCOL_ERROR, `malformed ${kind} on stream ${id}: ${wrong}`);
      if (kind !== 'trailers' && !(status.length === 3 && status[0] === '1')) {
        const length = contentLength(headers);
        if (length === -1) throw new H2StreamError(id, E.PROTOCOL_ERROR, `malformed content-length on stream ${id}`);
        // A response ended by its headers may carry a content-length (HEAD, 304): only a request's is held to it.
        if (length !== undefined && kind === 'request' && endStream && length !== 0) {
          throw new H2StreamError(id, E.PROTOCOL_ERROR, `content-length ${length} on a request ended by its headers`);
        }
        if (length !== undefined && !endStream) s.expectedLength = length;
      }
    }
    if (!(this.role === 'client' && status.length === 3 && status[0] === '1')) s.headersReceived = true;
    s.lastActive = this.stamp();
    if (endStream) this.transition(s, 'recv-end');
    try {
      if (flat !== undefined) flat.call(this.listener, id, fields, count, endStream);
      else this.listener.onHeaders?.(id, headers!, endStream);
    } catch (err) {
      throw listenerThrew(err);
    }
    if (s.state === 'closed') this.forget(s);
  }

  // ---- output (the application's calls) ----

  /** Client: opens a stream with a request's headers; returns its id. */
  request(headers: HeaderList, endStream = false): number {
    const s = this.openRequest();
    this.writeHeaders(s, headers, endStream);
    return s.id;
  }

  private openRequest(): Stream {
    if (this.role !== 'client') throw new Error('request() is a client call');
    if (this.state !== 'open') throw new Error(`request() on a ${this.state} connection`);
    if (this.nextStreamId > MAX_WINDOW) throw new Error('stream ids exhausted');
    if (this.ourStreams() >= this.peer.maxConcurrentStreams) throw new Error(`the peer allows ${this.peer.maxConcurrentStreams} concurrent streams`);
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const s = this.newStream(id);
    this.transition(s, 'send-headers');
    return s;
  }

  /**
   * Client: opens a stream with a header block encoded beforehand, without the dynamic table (h2/hpack/encoder.ts's
   * encodeHeaderBlock: static table and literals without indexing), so the same bytes are valid on any connection
   * and for every request: no encoding per request. A dynamic table size update the encoder owes the peer goes in
   * front of it. The block must fit the peer's SETTINGS_MAX_FRAME_SIZE with CONTINUATION (as request() splits it);
   * the connection does not decode or check it. Returns the stream's id.
   */
  requestEncoded(block: Buffer, endStream = false): number {
    const s = this.openRequest();
    this.queueBlock(s.id, block, endStream, false);
    this.afterHeaders(s, endStream);
    return s.id;
  }

  /** Server: a response's headers (or any HEADERS on an open stream of ours to send on). */
  sendHeaders(streamId: number, headers: HeaderList, endStream = false): void {
    // guarded() spelled out on the per-request calls (here, sendData, sendTrailers, consume): no closure per call.
    if (this.state === 'closed') return;
    try {
      const s = this.sendable(streamId);
      if (s) this.writeHeaders(s, headers, endStream);
    } catch (err) {
      this.fail(err);
    }
    this.flushIfIdle();
  }

  respond(streamId: number, headers: HeaderList, endStream = false): void {
    this.sendHeaders(streamId, headers, endStream);
  }

  /**
   * DATA on a stream, as far as the windows allow; the rest waits in the stream's queue. Returns false if the
   * stream is gone, or if queueing would pass maxBufferedBytes: then the stream is reset ENHANCE_YOUR_CALM.
   */
  sendData(streamId: number, data: Buffer, endStream = false): boolean {
    const s = this.sendable(streamId);
    if (!s || s.endQueued) return false;
    let ok = true;
    try {
      if (data.length > 0) {
        if (s.queue === NO_QUEUE) s.queue = [data];
        else s.queue.push(data);
        s.queued += data.length;
        this.bufferedBytes += data.length;
      }
      s.endQueued = endStream;
      this.pumpStream(s);
      if (this.bufferedBytes > this.limits.maxBufferedBytes && this.streams.has(streamId)) {
        ok = false;
        this.streamError(streamId, E.ENHANCE_YOUR_CALM, false);
      }
    } catch (err) {
      this.fail(err);
    }
    this.flushIfIdle();
    return ok && this.state !== 'closed';
  }

  /** Trailers: HEADERS with END_STREAM, after the queued DATA. */
  sendTrailers(streamId: number, headers: HeaderList): void {
    const s = this.sendable(streamId);
    if (!s || s.endQueued) return;
    try {
      s.trailers = headers;
      s.endQueued = true;
      this.pumpStream(s);
    } catch (err) {
      this.fail(err);
    }
    this.flushIfIdle();
  }

  /** RST_STREAM(code) on a stream. */
  reset(streamId: number, code: number = E.CANCEL): void {
    const s = this.streams.get(streamId);
    if (!s) return;
    this.guarded(() => {
      // Ours, not owed to the peer's input: outside the outbound flood bound (a client may cancel 1 000 at once).
      this.queue(rstStreamFrame(streamId, code), false);
      this.rememberReset(streamId);
      this.dropStream(s, code, true);
    });
  }

  /** The application consumed n octets of a stream's DATA: credit goes back to the peer (strict flow control). */
  consume(streamId: number, n: number): void {
    if (n <= 0 || this.state === 'closed') return;
    try {
      this.credit(streamId, n);
    } catch (err) {
      this.fail(err);
    }
    this.flushIfIdle();
  }

  /**
   * The application took n octets of a stream's DATA off the connection but not (yet) off the stream: credit goes
   * back to the connection window only (an "eager" receiver, as nghttp2 consumes the connection window on receipt,
   * while a stream that does not read keeps its own window shut). A later consume() of the same octets credits the
   * stream alone, and a reset does not give them back twice.
   */
  consumeConnection(streamId: number, n: number): void {
    if (n <= 0 || this.state === 'closed') return;
    const s = this.streams.get(streamId);
    if (s !== undefined) {
      const taken = Math.min(n, s.unconsumed);
      s.unconsumed -= taken;
      s.connCredited += taken;
    }
    try {
      this.creditConnection(n);
    } catch (err) {
      this.fail(err);
    }
    this.flushIfIdle();
  }

  private credit(streamId: number, n: number): void {
    const s = this.streams.get(streamId);
    // Octets consumeConnection() already credited to the connection: the stream's credit alone.
    let connN = n;
    if (s !== undefined && s.connCredited > 0) {
      const already = Math.min(n, s.connCredited);
      s.connCredited -= already;
      connN -= already;
    }
    if (s) s.unconsumed = Math.max(0, s.unconsumed - connN);
    if (s && canReceive(s.state)) {
      const inc = s.consume(n);
      if (inc > 0) this.queue(windowUpdateFrame(streamId, inc), false);
    }
    if (connN > 0) this.creditConnection(connN);
  }

  ping(opaque: Buffer = Buffer.alloc(8)): void {
    const payload = Buffer.alloc(8);
    opaque.copy(payload, 0, 0, 8);
    this.guarded(() => this.queue(pingFrame(payload, false), false));
  }

  /**
   * GOAWAY. With NO_ERROR, graceful (RFC 9113 6.8): a server sends GOAWAY(2^31-1) and a PING, and on its ACK
   * GOAWAY(last stream the peer opened); a client sends one GOAWAY(0). The connection closes (transport.end)
   * when the remaining streams are done. Any other code: GOAWAY(last, code) and close at once.
   */
  goaway(code: number = E.NO_ERROR, debug = ''): void {
    if (this.state === 'closed') return;
    if (code !== E.NO_ERROR) {
      this.shut({ code, by: 'local', message: debug || `GOAWAY ${code}` }, true, debug);
      return;
    }
    if (this.gracefulPingSent || this.goawayLast !== MAX_WINDOW) return;
    this.guarded(() => {
      this.state = 'draining';
      this.drainingSince = this.now();
      if (this.role === 'client') {
        // A client's GOAWAY names the last stream the server opened (none: we refuse push), in one step:
        // nghttp2 refuses a last stream id that is not one of the receiver's own (2^31-1 is odd) as a PROTOCOL_ERROR.
        this.goawayLast = this.lastPeerStreamId;
        this.queue(goawayFrame(this.goawayLast, E.NO_ERROR, debug), false);
        this.maybeDone();
        return;
      }
      this.queue(goawayFrame(MAX_WINDOW, E.NO_ERROR, debug), false);
      this.queue(pingFrame(GRACEFUL_PING, false), false);
      this.gracefulPingSent = true;
      this.gracefulPingAt = this.now();
    });
  }

  /** Closes now: the transport destroyed, every stream reset (CANCEL, local). */
  close(): void {
    if (this.state === 'closed') return;
    for (const s of this.streams.values()) this.dropStream(s, E.CANCEL, true);
    this.finish({ code: E.NO_ERROR, by: 'local', message: 'closed' });
  }

  /**
   * Runs the timers against now(): SETTINGS unacknowledged past settingsTimeoutMs (GOAWAY SETTINGS_TIMEOUT), the
   * graceful GOAWAY's PING unanswered past goawayPingTimeoutMs (the second GOAWAY goes anyway), streams idle past
   * streamIdleTimeoutMs (RST_STREAM(CANCEL), local). The owner calls it (connectionOverSocket: every second).
   */
  tick(): void {
    if (this.state === 'closed') return;
    const now = this.now();
    this.guarded(() => {
      const sentAt = this.settingsSentAt[0];
      if (sentAt !== undefined && now - sentAt > this.limits.settingsTimeoutMs) {
        throw new H2ProtocolError(E.SETTINGS_TIMEOUT, `SETTINGS unacknowledged for ${this.limits.settingsTimeoutMs} ms`);
      }
      if (this.gracefulPingSent && now - this.gracefulPingAt > this.limits.goawayPingTimeoutMs) this.secondGoaway();
      if (this.state === 'open' && this.streams.size === 0 && now - this.idleSince > this.limits.connectionIdleTimeoutMs) {
        this.goaway(E.NO_ERROR, 'idle');
        return;
      }
      if (this.state === 'draining' && this.streams.size > 0 && now - this.drainingSince > this.limits.drainTimeoutMs) {
        // Not through dropStream: the last one would end the drain as if it had finished ("all streams done").
        for (const s of this.streams.values()) {
          this.queue(rstStreamFrame(s.id, E.CANCEL), false);
          this.deleteStream(s.id);
          this.emit(() => this.listener.onReset?.(s.id, E.CANCEL, true));
        }
        this.flush(false);
        this.finish({ code: E.NO_ERROR, by: 'local', message: `drain took longer than ${this.limits.drainTimeoutMs} ms` }, true);
        return;
      }
      for (const s of this.streams.values()) {
        if (now - s.lastActive > this.limits.streamIdleTimeoutMs) {
          this.queue(rstStreamFrame(s.id, E.CANCEL), false);
          this.rememberReset(s.id);
          this.dropStream(s, E.CANCEL, true);
        }
      }
    });
  }

  stats(): ConnectionStats {
    return { streams: this.streams.size, bufferedBytes: this.bufferedBytes, queuedControlFrames: this.outControl, queuedFrames: this.outFrames, queuedOutputBytes: this.outBytes };
  }

  /** What the peer may still send: on the connection (0), or on a stream (0 once it is gone). */
  receiveWindow(streamId = 0): number {
    if (streamId === 0) return this.connRecv.size;
    return this.streams.get(streamId)?.size ?? 0;
  }

  /** What we may still send: on the connection (0), or on a stream (a stream not open yet: the peer's initial window; 0 once it is gone). */
  sendWindow(streamId = 0): number {
    if (streamId === 0) return this.connSend.size;
    if (this.isIdle(streamId)) return this.peer.initialWindowSize;
    return this.streams.get(streamId)?.sendWindow ?? 0;
  }

  /** DATA octets queued on a stream past the peer's windows (0 when none, or the stream is gone). */
  sendQueued(streamId: number): number {
    return this.streams.get(streamId)?.queued ?? 0;
  }

  streamState(streamId: number): StreamState {
    const s = this.streams.get(streamId);
    if (s) return s.state;
    return this.isIdle(streamId) ? 'idle' : 'closed';
  }

  // ---- internals ----

  /** The BDP PING came back: one sample; grown windows go to the peer (connection: WINDOW_UPDATE; streams: SETTINGS). */
  private bdpSample(): void {
    const adaptive = this.adaptive!;
    const sample = adaptive.pingAcked(this.now(), this.receivedBytes);
    if (sample === undefined) return;
    if (sample.connGrew && adaptive.connWindow > this.connRecv.target) {
      const delta = Math.min(adaptive.connWindow, MAX_WINDOW) - this.connRecv.target;
      this.connRecv.adjust(delta);
      this.queue(windowUpdateFrame(0, delta), false);
    }
    if (sample.streamGrew && adaptive.streamWindow > this.local.initialWindowSize) {
      // Streams' windows move when the peer acknowledges it (onSettingsFrame), as for any INITIAL_WINDOW_SIZE of ours.
      this.local.initialWindowSize = Math.min(adaptive.streamWindow, MAX_WINDOW);
      this.queue(settingsFrame([[SETTING.INITIAL_WINDOW_SIZE, this.local.initialWindowSize]]), false);
      this.settingsAcksOwed++;
      this.settingsSentAt.push(this.now());
      this.settingsWindows.push(this.local.initialWindowSize);
    }
    const listener = this.onBdpSample;
    if (listener) this.emit(() => listener(sample, adaptive.streamWindow, adaptive.connWindow));
  }

  private secondGoaway(): void {
    this.gracefulPingSent = false;
    this.goawayLast = this.lastPeerStreamId;
    this.queue(goawayFrame(this.goawayLast, E.NO_ERROR), false);
    this.maybeDone();
  }

  private maybeDone(): void {
    if (this.state !== 'draining' || this.gracefulPingSent || this.streams.size > 0) return;
    if (this.goawayLast === MAX_WINDOW && this.peerGoawayLast === MAX_WINDOW) return;
    this.flush();
    this.finish({ code: E.NO_ERROR, by: this.goawayLast !== MAX_WINDOW ? 'local' : 'peer', message: 'GOAWAY, all streams done' }, true);
  }

  /**
   * The time for activity stamps (a stream's lastActive, idleSince), against the idle timeouts' seconds: inside
   * receive() the read's one clock reading, not a performance.now() per frame (they were 8% of the in-memory
   * pair's profile). The rate limits and the BDP samples still read the clock themselves.
   */
  private stamp(): number {
    return this.turnNow ?? this.now();
  }

  private isOurs(id: number): boolean {
    return (id % 2 === 1) === (this.role === 'client');
  }

  private isIdle(id: number): boolean {
    return this.isOurs(id) ? id >= this.nextStreamId : id > this.lastPeerStreamId;
  }

  private peerStreams(): number {
    return this.peerOpen;
  }

  private ourStreams(): number {
    return this.streams.size - this.peerOpen;
  }

  /** Every removal from `streams` goes through here, so that peerOpen stays its count. */
  private deleteStream(id: number): boolean {
    if (!this.streams.delete(id)) return false;
    if (!this.isOurs(id)) this.peerOpen--;
    return true;
  }

  private newStream(id: number): Stream {
    let s = this.spares.pop();
    if (s === undefined) s = new Stream(id, this.peer.initialWindowSize, this.recvInitial, this.stamp());
    else s.restart(id, this.peer.initialWindowSize, this.recvInitial, this.stamp());
    this.streams.set(id, s);
    if (!this.isOurs(id)) this.peerOpen++;
    return s;
  }

  private transition(s: Stream, event: Parameters<typeof nextState>[1]): void {
    const next = nextState(s.state, event);
    if (next === undefined) throw new H2StreamError(s.id, E.STREAM_CLOSED, `${event} on stream ${s.id} in state ${s.state}`);
    s.state = next;
  }

  private sendable(streamId: number): Stream | undefined {
    if (this.state === 'closed') return undefined;
    const s = this.streams.get(streamId);
    if (!s || !canSend(s.state)) return undefined;
    return s;
  }

  private writeHeaders(s: Stream, headers: HeaderList, endStream: boolean): void {
    this.queueHeaders(s.id, headers, endStream);
    this.afterHeaders(s, endStream);
  }

  private afterHeaders(s: Stream, endStream: boolean): void {
    if (endStream) {
      s.endQueued = true;
      this.transition(s, 'send-end');
      if (s.state === 'closed') this.forget(s);
    }
    this.flushIfIdle();
  }

  /** Every stream with queued DATA, as far as the windows allow. */
  private pump(): void {
    if (this.sending.size === 0) return;
    for (const s of [...this.sending]) this.pumpStream(s);
  }

  private pumpStream(s: Stream): void {
    if (!canSend(s.state)) return;
    if (this.blocked) {
      // The transport is full: pumped again at drained().
      if (s.queued > 0 || s.endQueued) this.sending.add(s);
      return;
    }
    const hadQueue = s.queued > 0;
    while (s.queued > 0) {
      const n = Math.min(s.queued, s.sendWindow, this.connSend.size, this.peer.maxFrameSize);
      if (n <= 0) {
        this.sending.add(s);
        return;
      }
      // At most n: the head chunk alone when it is shorter. The windows pay for what the frame carries; taking n
      // for a shorter head lost window with every such frame until the stream stalled on a window it still had.
      const chunk = this.takeQueued(s, n);
      const last = s.queued === 0 && s.endQueued && s.trailers === undefined;
      this.queueFrame(FRAME.DATA, last ? FLAG.END_STREAM : 0, s.id, chunk);
      this.outboundData++;
      s.lastActive = this.stamp();
      s.sendWindow -= chunk.length;
      this.connSend.take(chunk.length);
      if (last) return this.sentEnd(s);
    }
    if (!s.endQueued) {
      this.sending.delete(s);
      if (hadQueue) this.writable.push(s.id);
      return;
    }
    if (s.trailers !== undefined) {
      const trailers = s.trailers;
      s.trailers = undefined;
      this.queueHeaders(s.id, trailers, true);
      return this.sentEnd(s);
    }
    // An empty END_STREAM (sendData(id, empty, true) with nothing queued).
    this.queueFrame(FRAME.DATA, FLAG.END_STREAM, s.id, EMPTY);
    this.outboundData++;
    this.sentEnd(s);
  }

  private sentEnd(s: Stream): void {
    this.sending.delete(s);
    this.transition(s, 'send-end');
    if (s.state === 'closed') this.forget(s);
  }

  private takeQueued(s: Stream, n: number): Buffer {
    const head = s.queue[0]!;
    let chunk: Buffer;
    if (head.length <= n) {
      s.queue.shift();
      chunk = head;
    } else {
      chunk = head.subarray(0, n);
      s.queue[0] = head.subarray(n);
    }
    s.queued -= chunk.length;
    this.bufferedBytes -= chunk.length;
    return chunk;
  }

  private creditConnection(n: number): void {
    const inc = this.connRecv.consume(n);
    if (inc > 0) this.queue(windowUpdateFrame(0, inc), false);
  }

  /** A stream error: RST_STREAM(code), the stream forgotten, the listener told. One caused by the peer's input
   *  (`byPeer`, all but our own buffered bound) drains the glitch bucket: nghttp2's limit on peers that cost a
   *  stream at a time (session_update_glitch_ratelim), so a flood of malformed requests ends the connection. */
  private streamError(streamId: number, code: number, byPeer = true): void {
    if (byPeer && !this.glitches.take(this.now())) {
      throw new H2ProtocolError(E.ENHANCE_YOUR_CALM, `stream errors faster than ${this.limits.glitchRatePerSecond}/s past a burst of ${this.limits.glitchBurst}`);
    }
    this.queue(rstStreamFrame(streamId, code), true);
    this.rememberReset(streamId);
    const s = this.streams.get(streamId);
    if (s) return this.dropStream(s, code, true);
    // A stream that never opened (refused past SETTINGS_MAX_CONCURRENT_STREAMS) or is closed already: still a
    // RST_STREAM we sent, which the application counts as it counts every other.
    try {
      this.listener.onReset?.(streamId, code, true);
    } catch (err) {
      throw listenerThrew(err);
    }
  }

  /** 5.1: frames on a stream we reset "MUST" be ignored (the peer may have sent them before our RST_STREAM arrived). */
  private rememberReset(streamId: number): void {
    this.resetByUs.delete(streamId);
    this.resetByUs.add(streamId);
    if (this.resetByUs.size > RESET_MEMORY) this.resetByUs.delete(this.resetByUs.values().next().value!);
  }

  private dropStream(s: Stream, code: number, local: boolean): void {
    if (!this.streams.has(s.id)) return;
    s.state = 'closed';
    this.forget(s);
    // A reset stream will not be read: what it held of the connection window goes back (as the h2 crate does).
    if (s.unconsumed > 0 && this.state !== 'closed') this.creditConnection(s.unconsumed);
    s.unconsumed = 0;
    try {
      this.listener.onReset?.(s.id, code, local);
    } catch (err) {
      throw listenerThrew(err);
    }
  }

  private forget(s: Stream): void {
    if (!this.deleteStream(s.id)) return;
    if (this.streams.size === 0) this.idleSince = this.stamp();
    this.bufferedBytes -= s.queued;
    s.queue = NO_QUEUE;
    s.queued = 0;
    if (this.sending.size > 0) this.sending.delete(s);
    // Nothing of the connection refers to it any more (`sending` held the last reference; `writable` holds ids):
    // kept for the next stream. Its fields stay readable until then (the caller may still read its id).
    if (this.spares.length < SPARE_STREAMS) this.spares.push(s);
    this.maybeDone();
  }

  /** A listener call; a listener that throws ends the connection (INTERNAL_ERROR), not receive(). The hot
   *  events (onHeaders, onData, onReset) inline this try / catch instead: a closure per event was garbage. */
  private emit(call: () => void): void {
    try {
      call();
    } catch (err) {
      throw listenerThrew(err);
    }
  }

  private fail(err: unknown): void {
    if (this.state === 'closed') return;
    const code = err instanceof H2ProtocolError ? err.h2Code : E.INTERNAL_ERROR;
    const message = err instanceof Error ? err.message : String(err);
    this.shut({ code, by: 'local', message }, true, message);
  }

  /** A connection error of ours (or goaway(code)): GOAWAY(last, code) if asked, then close. */
  private shut(reason: CloseReason, sendGoaway: boolean, debug = ''): void {
    if (sendGoaway) {
      // Past every bound: the last frame is never refused.
      const goaway = goawayFrame(this.lastPeerStreamId, reason.code, debug.slice(0, 256));
      this.out.bytes(goaway);
      this.outFrames++;
      this.outBytes += goaway.length;
      this.outFrames++;
      // Written even past a blocked transport, the last words, and no DATA after them.
      this.blocked = false;
      this.flush(false);
    }
    for (const s of this.streams.values()) {
      this.deleteStream(s.id);
      try {
        this.listener.onReset?.(s.id, reason.code, true);
      } catch {
        // closing anyway
      }
    }
    this.finish(reason);
  }

  private finish(reason: CloseReason, graceful = false): void {
    if (this.state === 'closed') return;
    // Frames the application staged (deferFlush) go out before the close, as they would have without it.
    if (this.flushDeferred && reason.by !== 'transport') {
      this.flushDeferred = false;
      this.flush(false);
    }
    this.state = 'closed';
    this.closeReason = reason;
    this.streams.clear();
    this.peerOpen = 0;
    this.sending.clear();
    this.writable = [];
    this.resetByUs.clear();
    this.bufferedBytes = 0;
    this.out.take();
    this.outFrames = 0;
    this.outBytes = 0;
    this.outControl = 0;
    this.reader.stop();
    try {
      if (graceful) this.transport.end();
      else this.transport.destroy();
    } catch {
      // a transport that throws on close is closed
    }
    try {
      this.listener.onClose?.(reason);
    } catch {
      // nothing left to tell
    }
  }

  /** Queues a frame; `control`: a frame the peer's input made us owe (PING/SETTINGS ACK, RST_STREAM), counted against the outbound flood bound. */
  private queue(frame: Buffer, control: boolean): void {
    if (this.state === 'closed') return;
    this.out.bytes(frame);
    this.outBytes += frame.length;
    if (control && ++this.outControl > this.limits.maxOutboundControlFrames) {
      throw new H2ProtocolError(E.ENHANCE_YOUR_CALM, `more than ${this.limits.maxOutboundControlFrames} control frames queued for a peer that does not read them`);
    }
    this.countFrame();
  }

  /** A frame written straight into the staging buffer (DATA: no Buffer of its own); never a control frame. */
  private queueFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.state === 'closed') return;
    this.out.frame(type, flags, streamId, payload);
    this.outBytes += FRAME_HEADER_BYTES + payload.length;
    this.countFrame();
  }

  /** A header block as HEADERS and CONTINUATION frames (frames.ts's headersFrames, written in place), counted as one frame as before. */
  private queueHeaders(streamId: number, headers: HeaderList, endStream: boolean): void {
    if (this.state === 'closed') return;
    // A view of the encoder's buffer: staged now (copied: `copyLarge`), before the next encode overwrites it.
    this.queueBlock(streamId, this.encoder.encodeView(headers), endStream, true);
  }

  /** An encoded block as HEADERS and CONTINUATION frames; `view`: the encoder's buffer (copied when large). */
  private queueBlock(streamId: number, block: Buffer, endStream: boolean, view: boolean): void {
    if (this.state === 'closed') return;
    if (!view) {
      const update = this.encoder.takeSizeUpdate();
      if (update !== undefined) block = Buffer.concat([update, block]);
    }
    const max = this.peer.maxFrameSize;
    const frames = Math.max(1, Math.ceil(block.length / max));
    for (let i = 0, from = 0; i < frames; i++, from += max) {
      const to = Math.min(block.length, from + max);
      const flags = (i === 0 && endStream ? FLAG.END_STREAM : 0) | (i === frames - 1 ? FLAG.END_HEADERS : 0);
      this.out.frame(i === 0 ? FRAME.HEADERS : FRAME.CONTINUATION, flags, streamId, block, from, to, view);
    }
    this.outBytes += block.length + frames * FRAME_HEADER_BYTES;
    this.countFrame();
  }

  private countFrame(): void {
    if (++this.outFrames > this.limits.maxOutboundFrames) {
      throw new H2ProtocolError(E.ENHANCE_YOUR_CALM, `more than ${this.limits.maxOutboundFrames} frames queued for a peer that does not read them`);
    }
  }

  private flushIfIdle(): void {
    if (this.inReceive) return;
    if (this.deferFlush === undefined) return this.flush();
    if (this.flushDeferred || this.state === 'closed') return;
    this.flushDeferred = true;
    this.deferFlush();
  }

  /** With `deferFlush`: writes what the application's calls staged since the last flush. */
  flushOutput(): void {
    this.flushDeferred = false;
    this.flush();
  }

  private flush(pumpData = true): void {
    if (this.state === 'closed') return;
    if (pumpData && !this.blocked) this.pump();
    if (this.blocked || this.outFrames === 0) return;
    // Small frames staged in one buffer, large payloads by reference: a writev transport takes them as they are.
    const parts = this.out.take();
    const bytes = this.outBytes;
    this.outBytes = 0;
    this.outFrames = 0;
    this.outControl = 0;
    let ok: boolean | void;
    try {
      if (parts.length === 1) ok = this.transport.write(parts[0]!);
      else if (this.transport.writev !== undefined) ok = this.transport.writev(parts);
      else ok = this.transport.write(Buffer.concat(parts, bytes));
    } catch (err) {
      this.transportClosed(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (ok === false) this.blocked = true;
    this.tellWritable();
  }

  /** onWritable for streams whose queue drained; the owner's sendData from there flushes on its own. */
  private tellWritable(): void {
    while (this.writable.length > 0 && this.state !== 'closed') {
      const ids = this.writable;
      this.writable = [];
      for (const id of ids) {
        if (!this.streams.has(id)) continue;
        try {
          this.listener.onWritable?.(id);
        } catch (err) {
          this.fail(listenerThrew(err));
          return;
        }
      }
    }
  }

  /** An application call: a bound it trips (or a listener that throws) ends the connection instead of throwing. */
  private guarded(fn: () => void): void {
    if (this.state === 'closed') return;
    try {
      fn();
    } catch (err) {
      this.fail(err);
    }
    this.flushIfIdle();
  }
}

/** What a listener that threw becomes: a connection error (INTERNAL_ERROR). */
function listenerThrew(err: unknown): H2ProtocolError {
  return new H2ProtocolError(E.INTERNAL_ERROR, `listener threw: ${err instanceof Error ? err.message : String(err)}`);
}

/** A net.Socket (or TLS socket) as the connection's transport: data in, drain and close wired. */
export function connectionOverSocket(socket: Socket, role: Role, listener: H2Listener, opts?: ConnectionOptions): H2Connection {
  const conn = new H2Connection(
    role,
    {
      write: (buf) => socket.write(buf),
      end: () => socket.end(),
      destroy: () => socket.destroy(),
    },
    listener,
    opts,
  );
  const timer = setInterval(() => conn.tick(), 1000);
  timer.unref();
  socket.on('data', (chunk: Buffer) => conn.receive(chunk));
  socket.on('drain', () => conn.drained());
  socket.on('error', (err) => conn.transportClosed(err));
  socket.on('close', () => {
    clearInterval(timer);
    conn.transportClosed();
  });
  return conn;
}
