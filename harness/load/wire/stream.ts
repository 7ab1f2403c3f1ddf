// A stream as the connection sees it: its id, its flow-control state, its request; the owner subclasses it
// (pool.ts's Exchange) and gets the response through the callbacks.
import type { HeaderSink } from '../../../h2/hpack/decoder.js';
import type { PoolConnection } from '../pool/pool.js';

/**
 * What a stream's connection offers the stream, its exchange and the wire pool: connection.ts's H2Connection,
 * or (`wireConnection: 'h2'`) h2-connection.ts's adapter over the h2/ library's H2Connection.
 */
export interface WireConnection extends PoolConnection<WireStream> {
  /** performance.now() when the chunk being handled was read: one clock read for every response in it. */
  readonly now: number;
  /** Once closed: the peer ended it (GOAWAY, or its side of the socket closed first). */
  readonly closedByPeer: boolean;
  /** A response the client judged malformed: RST_STREAM(code) if the stream is still open our way; true if one went out. */
  streamError(stream: WireStream, code: number): boolean;
}

export abstract class WireStream implements HeaderSink {
  /** 0 until its HEADERS frame is written. */
  id = 0;
  /** Its place among the streams its connection opened: 0 for the first (the ramp, pool.ts). */
  call = 0;
  conn: WireConnection | undefined = undefined;
  /** Set when opened among the connection's first `stallStreams`: it never reads its body. */
  stalled = false;
  /** What the peer may still send on this stream, and bytes read but not yet returned to it. */
  recvWindow = 0;
  recvReleased = 0;
  /** Bytes a stalled stream received and never read, and how many of them still hold connection window. */
  held = 0;
  heldCredit = 0;
  /** What we may still send on this stream; true while its body waits for window. */
  sendWindow = 0;
  sendBlocked = false;
  /** Request body bytes written so far. */
  sent = 0;
  /** We sent its RST_STREAM: nothing more may go out on it (RFC 9113 section 5.1). */
  resetSent = false;

  constructor(
    readonly headerBlock: Buffer,
    readonly body: Buffer | undefined,
  ) {}

  abstract onHeader(name: string, value: string): void;
  /** A header block ended (response headers, 1xx, or trailers when endStream). */
  abstract onHeadersEnd(endStream: boolean): void;
  abstract onData(bytes: number, endStream: boolean): void;
  /**
   * Body bytes buf[start, end) as they arrive, before the onData of their frame; called only on a connection
   * that reads bodies (server streaming). Valid only during the call.
   */
  onBodyBytes(_buf: Buffer, _start: number, _end: number): void {}
  /** The connection made it one of its stalled streams (`stallStreams`), as its HEADERS went out. */
  onStalled(): void {}
  /** A rapid-reset connection (rapid-reset.ts) wrote its HEADERS (and body) and RST_STREAM(CANCEL) together. */
  onResetSent(): void {}
  /** The peer reset the stream. */
  abstract onReset(code: number): void;
  /** The connection ended the stream (a GOAWAY cut it, the socket closed): `errorClass` says why. */
  abstract onAbort(errorClass: string): void;
}
