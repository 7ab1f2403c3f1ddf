// Bodies between the wire engine's streams and the proxy's Readable-based request/response model (service.ts),
// with HTTP/2 flow control carried end to end:
// - InboundBody: DATA received on a stream, as a Readable. Receive credit (WINDOW_UPDATE) goes back only for what
//   the reader has taken (strict, as the h2 crate's release_capacity): a slow reader on the far side holds the
//   window shut instead of letting the proxy buffer without bound.
// - sendBody: a Readable written as DATA on a stream, paused while the stream's DATA waits for the peer's window
//   (H2Connection.sendQueued / onWritable), so what the proxy holds per stream is one chunk.
import { Readable } from 'node:stream';
import type { H2Connection } from '../../../h2/connection.js';

export class InboundBody extends Readable {
  private pushed = 0;
  private credited = 0;

  constructor(
    private readonly conn: H2Connection,
    private readonly streamId: number,
    highWaterMark = 64 * 1024,
  ) {
    super({ highWaterMark });
    // Read to the end: the last bytes' connection credit (the stream itself is closed by then).
    this.once('end', () => this.creditAll());
  }

  /** DATA from the connection (and END_STREAM). */
  deliver(data: Buffer, endStream: boolean): void {
    if (data.length > 0) {
      this.pushed += data.length;
      this.push(data);
    }
    if (endStream) this.push(null);
  }

  override _read(): void {
    this.creditTaken();
  }

  // Every byte leaves the buffer through read() (flowing mode and pipe included; a chunk emitted straight to a
  // 'data' listener is followed by a read(0)). _read alone is not enough: once called without a push following,
  // Readable calls it no more (state.reading) until the next push, which never comes while the window is shut
  // and the credit unreturned: a 16-stream 1 MiB download stalled for good that way.
  override read(size?: number): unknown {
    const chunk: unknown = super.read(size);
    this.creditTaken();
    return chunk;
  }

  /** Credit for what the reader has taken out of the buffer. */
  private creditTaken(): void {
    const taken = this.pushed - this.readableLength - this.credited;
    if (taken > 0) {
      this.credited += taken;
      this.conn.consume(this.streamId, taken);
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Never read: the bytes still count against the connection window unless credited (a reset stream's are
    // credited by the connection itself, and crediting a forgotten stream only touches the connection window).
    this.creditAll();
    cb(err);
  }

  private creditAll(): void {
    const left = this.pushed - this.credited;
    if (left > 0) {
      this.credited = this.pushed;
      this.conn.consume(this.streamId, left);
    }
  }
}

export interface SendBodyHooks {
  /** The body's last byte is queued (END_STREAM not sent: trailers or an empty end follow, the caller's call). */
  onEnd(): void;
  /** The body failed (a Readable error): the caller resets the stream. */
  onError(err: Error): void;
}

/** Writes `body` as DATA on `streamId` with backpressure; returns the stream's onWritable hook, a stop (the body
 *  destroyed) and a detach (the body left alone, paused, as `pipe` leaves its source when the destination closes:
 *  a request body may still be read by someone else, e.g. the downstream's early-response handling). */
export function sendBody(
  conn: H2Connection,
  streamId: number,
  body: Readable,
  hooks: SendBodyHooks,
): { onWritable(): void; stop(): void; detach(): void } {
  let stopped = false;
  const onData = (chunk: Buffer): void => {
    if (!conn.sendData(streamId, chunk)) return stop();
    if (conn.sendQueued(streamId) > 0) body.pause();
  };
  const onEnd = (): void => {
    if (stopped) return;
    detach();
    hooks.onEnd();
  };
  const onError = (err: Error): void => {
    if (stopped) return;
    detach();
    hooks.onError(err);
  };
  const detach = (): void => {
    stopped = true;
    body.off('data', onData);
    body.off('end', onEnd);
    body.off('error', onError);
  };
  const stop = (): void => {
    if (stopped) return;
    detach();
    body.destroy();
  };
  body.on('data', onData);
  body.once('end', onEnd);
  body.once('error', onError);
  return {
    onWritable: () => {
      if (!stopped && body.isPaused()) body.resume();
    },
    stop,
    detach: () => {
      if (stopped) return;
      detach();
      body.pause();
    },
  };
}
