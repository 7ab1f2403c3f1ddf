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

  /** The stream was reset: the connection took back the credit of every byte not consumed, so none is owed. */
  reset(): void {
    this.credited = this.pushed;
    if (!this.readableEnded) this.destroy();
  }

  // Credit is returned in read(), after the bytes left the buffer: every way out of it goes through read()
  // (flowing mode's flow() loop, pipe, read() itself; a chunk handed straight to a flowing reader is followed by
  // maybeReadMore's read(0)). Not in _read(): Readable calls it only while no _read is pending, and ours never
  // pushes from it, so after a pause and resume the last chunks were taken without one and their credit never
  // went back (a 1 MiB echo stalled on its stream window).
  override read(size?: number): Buffer | null {
    const chunk = super.read(size) as Buffer | null;
    const taken = this.pushed - this.readableLength - this.credited;
    if (taken > 0) {
      this.credited += taken;
      this.conn.consume(this.streamId, taken);
    }
    return chunk;
  }

  override _read(): void {
    // Bytes come when the peer sends them (within the credit read() returned): nothing to fetch.
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
  /** The body's last byte has left (none waits for window), so END_STREAM (trailers or an empty DATA, the
   *  caller's call) goes out at once: nothing of the stream is held after it. */
  onEnd(): void;
  /** The body failed (a Readable error): the caller resets the stream. */
  onError(err: Error): void;
}

export interface BodySender {
  /** The stream's onWritable: its queued DATA has left. */
  onWritable(): void;
  /** Stops forwarding; `destroy`: the body too (false leaves it to its owner, e.g. an upstream the request's
   *  cancel signal ends its own way). */
  stop(destroy?: boolean): void;
}

/** Writes `body` as DATA on `streamId` with backpressure: paused while the stream's DATA waits for the peer's
 *  window or the socket, so the proxy holds at most one chunk per stream. */
export function sendBody(conn: H2Connection, streamId: number, body: Readable, hooks: SendBodyHooks): BodySender {
  let stopped = false;
  let ending = false;
  const onData = (chunk: Buffer): void => {
    if (!conn.sendData(streamId, chunk)) return stop();
    if (conn.sendQueued(streamId) > 0) body.pause();
  };
  const onEnd = (): void => {
    if (stopped) return;
    detach();
    // 'end' comes even while paused: the last chunk may still wait for window.
    if (conn.sendQueued(streamId) > 0) ending = true;
    else hooks.onEnd();
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
  const stop = (destroy = true): void => {
    ending = false;
    if (stopped) return;
    detach();
    if (destroy) body.destroy();
  };
  body.on('data', onData);
  body.once('end', onEnd);
  body.once('error', onError);
  return {
    onWritable: () => {
      if (ending) {
        if (conn.sendQueued(streamId) > 0) return;
        ending = false;
        return hooks.onEnd();
      }
      if (!stopped && body.isPaused()) body.resume();
    },
    stop,
  };
}
