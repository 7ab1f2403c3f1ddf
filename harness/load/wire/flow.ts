// Flow control (RFC 9113 section 5.2) in both directions. Receiving, the two modes differ in when credit
// goes back to the peer; sending, request bodies wait for the peer's windows.
import { DEFAULT_MAX_FRAME_SIZE, DEFAULT_WINDOW, FLAG, FRAME, H2ProtocolError, MAX_WINDOW, type FrameWriter } from '../../../h2/frames.js';
import type { WireStream } from './stream.js';

const FLOW_CONTROL_ERROR = 0x3;

/**
 * `eager`: connection-window credit goes back as DATA arrives, stream credit as the stream reads it (node:http2's
 * way: nghttp2 consumes the connection window on receipt). `strict`: both go back only when the application
 * reads the data (the Rust h2 crate's way), so a stream that stops reading keeps the connection window it
 * was sent into: seed 000's exhaustion.
 */
export type ReceiverMode = 'eager' | 'strict';

/** Our receive windows: what the peer may still send, and the WINDOW_UPDATEs that give it more. */
export class ReceiveFlow {
  /** What the peer may still send on the connection, and bytes read but not yet returned. */
  private window = DEFAULT_WINDOW;
  private released = 0;

  constructor(
    private readonly mode: ReceiverMode,
    private readonly out: FrameWriter,
    private readonly wrote: () => void,
  ) {}

  /** Opens the connection window from the RFC's 65 535 to `size` (like node's setLocalWindowSize). */
  open(size: number): void {
    if (size <= DEFAULT_WINDOW) return;
    this.out.u32Frame(FRAME.WINDOW_UPDATE, 0, size - DEFAULT_WINDOW);
    this.window = size;
  }

  /**
   * A DATA frame of `flowBytes` arrived for `stream` (undefined: a stream no longer open, whose bytes nobody
   * will read). Returns whether the stream reads it now: a stalled one never does.
   */
  onData(stream: WireStream | undefined, flowBytes: number, dataBytes: number, endStream: boolean): boolean {
    this.window -= flowBytes;
    if (!stream) {
      this.releaseConnection(flowBytes);
      return false;
    }
    stream.recvWindow -= flowBytes;
    if (stream.stalled) {
      // Never read: no stream credit; connection credit only when eager.
      stream.held += dataBytes;
      if (this.mode === 'eager') this.releaseConnection(flowBytes);
      else stream.heldCredit += flowBytes;
      return false;
    }
    // The stream is the application here, and it reads every byte as it arrives.
    this.releaseConnection(flowBytes);
    if (!endStream) this.releaseStream(stream, flowBytes);
    return true;
  }

  /** A stream left (reset, cut, cancelled): its unread bytes go back to the connection, as h2 releases a dropped stream's capacity. */
  drop(stream: WireStream): void {
    const credit = stream.heldCredit;
    stream.heldCredit = 0;
    if (credit > 0) this.releaseConnection(credit);
  }

  // WINDOW_UPDATE once the read bytes reach half what the peer has left (the h2 crate's rule): with part of
  // the window held by a stalled stream, a fixed half-of-the-initial-window threshold could never be reached.
  private releaseConnection(bytes: number): void {
    this.released += bytes;
    if (this.released > 0 && this.released >= this.window / 2) {
      this.out.u32Frame(FRAME.WINDOW_UPDATE, 0, this.released);
      this.window += this.released;
      this.released = 0;
      this.wrote();
    }
  }

  private releaseStream(stream: WireStream, bytes: number): void {
    stream.recvReleased += bytes;
    if (stream.recvReleased > 0 && stream.recvReleased >= stream.recvWindow / 2) {
      this.out.u32Frame(FRAME.WINDOW_UPDATE, stream.id, stream.recvReleased);
      stream.recvWindow += stream.recvReleased;
      stream.recvReleased = 0;
      this.wrote();
    }
  }
}

/** The peer's windows for our request bodies: DATA goes out as far as they allow, the rest waits. */
export class SendFlow {
  private window = DEFAULT_WINDOW;
  /** The peer's SETTINGS_INITIAL_WINDOW_SIZE and SETTINGS_MAX_FRAME_SIZE. */
  private initialWindow = DEFAULT_WINDOW;
  maxFrame = DEFAULT_MAX_FRAME_SIZE;
  private blocked: WireStream[] = [];

  constructor(
    private readonly out: FrameWriter,
    /** Whether a stream is still open for sending (a blocked one may have been reset meanwhile). */
    private readonly isOpen: (stream: WireStream) => boolean,
  ) {}

  /** A new stream starts with the peer's initial window. */
  opened(stream: WireStream): void {
    stream.sendWindow = this.initialWindow;
  }

  /** Whether `bytes` of a new stream's body can all go now (the connection window and the initial stream window). */
  fits(bytes: number): boolean {
    return bytes <= this.window && bytes <= this.initialWindow;
  }

  /** Writes as much of the stream's body as the windows allow. */
  send(stream: WireStream): void {
    const body = stream.body!;
    while (stream.sent < body.length) {
      const n = Math.min(body.length - stream.sent, stream.sendWindow, this.window, this.maxFrame);
      if (n <= 0) {
        if (!stream.sendBlocked) this.blocked.push(stream);
        stream.sendBlocked = true;
        return;
      }
      const end = stream.sent + n;
      this.out.frame(FRAME.DATA, end === body.length ? FLAG.END_STREAM : 0, stream.id, body, stream.sent, end);
      stream.sent = end;
      stream.sendWindow -= n;
      this.window -= n;
    }
  }

  /** WINDOW_UPDATE for the connection (stream undefined) or a stream; throws FLOW_CONTROL_ERROR past 2^31-1. */
  grow(stream: WireStream | undefined, increment: number): void {
    if (stream) {
      stream.sendWindow += increment;
    } else {
      this.window += increment;
      if (this.window > MAX_WINDOW) throw new H2ProtocolError(FLOW_CONTROL_ERROR, 'connection window above 2^31-1');
    }
  }

  /** The peer changed SETTINGS_INITIAL_WINDOW_SIZE: every open stream's window moves by the difference. */
  setInitialWindow(value: number, open: Iterable<WireStream>): void {
    if (value > MAX_WINDOW) throw new H2ProtocolError(FLOW_CONTROL_ERROR, 'SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1');
    const delta = value - this.initialWindow;
    this.initialWindow = value;
    for (const stream of open) stream.sendWindow += delta;
  }

  /** Sends what waited for window; returns whether anything was waiting. */
  resume(): boolean {
    if (this.blocked.length === 0) return false;
    const blocked = this.blocked;
    this.blocked = [];
    for (const stream of blocked) {
      stream.sendBlocked = false;
      if (this.isOpen(stream)) this.send(stream);
    }
    return true;
  }
}
