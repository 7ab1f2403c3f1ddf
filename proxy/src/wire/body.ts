// Bodies between the wire engine's streams and the proxy's Readable-based request/response model (service.ts),
// with HTTP/2 flow control carried end to end:
// - InboundBody: DATA received on a stream, as a Readable. Receive credit (WINDOW_UPDATE) goes back only for what
//   the reader has taken (strict, as the h2 crate's release_capacity): a slow reader on the far side holds the
//   window shut instead of letting the proxy buffer without bound.
// - sendBody: a body written as DATA on a stream, paused while the stream's DATA waits for the peer's window
//   (H2Connection.sendQueued / onWritable), so what the proxy holds per stream is one chunk. An InboundBody that
//   nobody has read as a Readable is forwarded directly (wire to wire, the common case): its chunks go from one
//   connection to the other without Readable's buffer, events and ticks, which were a tenth of the proxy's CPU
//   per request. The flow control is the same either way.
import { Readable } from 'node:stream';
import type { H2Connection } from '../../../h2/connection.js';
import type { BodyReplay, SelfLimitingBody, SelfReplayingBody } from '../service.js';
import { InboundReplay } from './replay.js';
import { isAttachable, type AttachableBody, type BodySink } from './sink.js';

const EMPTY = Buffer.alloc(0);


export class InboundBody extends Readable implements SelfLimitingBody, SelfReplayingBody, AttachableBody {
  /** Octets taken from the connection (past the limit's cut): everything credited once the body is let go. */
  private received = 0;
  /** Octets handed on (into Readable's buffer, or to the sink). */
  private pushed = 0;
  private credited = 0;
  /** Chunks delivered before anyone asked for them: pushed when Readable first reads (_read), or handed to a sink. */
  private pending: Buffer[] | undefined;
  /** END_STREAM arrived while chunks or nobody's read were pending. */
  private eof = false;
  /** END_STREAM arrived: the body is whole. */
  private ended = false;
  /** Readable asked for data (_read ran) and nothing was pending: the next chunk is pushed straight in. */
  private pushing = false;
  /** Readable's machinery took over (the body is read as a stream): no sink can attach any more. */
  private engaged = false;
  private sink: BodySink | undefined;
  /** limitBytes(): the bound, octets delivered so far, and whether it was passed (later octets are dropped). */
  private limit = 0;
  private limitSeen = 0;
  private cutOff = false;
  private onExceeded: (() => void) | undefined;

  constructor(
    private readonly conn: H2Connection,
    private readonly streamId: number,
    highWaterMark = 64 * 1024,
  ) {
    super({ highWaterMark });
  }

  /** DATA from the connection (and END_STREAM). */
  deliver(data: Buffer, endStream: boolean): void {
    if (this.limit > 0 && data.length > 0) data = this.limited(data);
    this.received += data.length;
    if (endStream) this.ended = true;
    if (this.sink !== undefined) {
      if (data.length > 0) this.sink.data(data);
      if (endStream) this.sink.end();
      return;
    }
    if (this.pushing) {
      if (data.length > 0) {
        this.pushed += data.length;
        this.push(data);
      }
      if (endStream) this.push(null);
      return;
    }
    if (data.length > 0) (this.pending ??= []).push(data);
    if (endStream) this.eof = true;
  }

  /**
   * The body-limit layer's bound (SelfLimitingBody, ../service.ts), counted here instead of through a Transform:
   * past `maxBytes` octets no more are passed on (they are dropped and their credit goes back at once, as the
   * Transform's reader did) and `onExceeded` runs once, on a microtask (never inside the connection's read).
   */
  limitBytes(maxBytes: number, onExceeded: () => void): void {
    this.limit = maxBytes;
    this.onExceeded = onExceeded;
    this.limitSeen = this.received;
    if (this.received > maxBytes && !this.cutOff) {
      // Already past it (the layer came late): what waits is dropped too.
      if (this.pending !== undefined) {
        let dropped = 0;
        for (const chunk of this.pending) dropped += chunk.length;
        this.pending = undefined;
        this.received -= dropped;
        this.conn.consume(this.streamId, dropped);
      }
      this.exceed();
    }
  }

  /**
   * The retry layer's copy (SelfReplayingBody, ../service.ts), kept here so that every attempt is still forwarded
   * stream to stream (replay.ts); undefined once the body is read as a stream, whose reader the layer then copies.
   */
  replay(limit: number): BodyReplay | undefined {
    if (this.engaged || this.destroyed || this.sink !== undefined) return undefined;
    return new InboundReplay(this, limit);
  }

  private limited(data: Buffer): Buffer {
    if (!this.cutOff) {
      this.limitSeen += data.length;
      if (this.limitSeen <= this.limit) return data;
      this.exceed();
    }
    this.conn.consume(this.streamId, data.length);
    return EMPTY;
  }

  private exceed(): void {
    this.cutOff = true;
    const onExceeded = this.onExceeded;
    if (onExceeded) queueMicrotask(onExceeded);
  }

  /**
   * Hands the body to `sink` instead of Readable: what is pending now, then every later chunk as it arrives,
   * then the end. The sink credits each chunk (forwarded()) once it is on its way. False when the body is already
   * read as a stream (or destroyed): the caller reads it as a Readable.
   */
  attach(sink: BodySink): boolean {
    if (this.engaged || this.destroyed || this.sink !== undefined) return false;
    this.sink = sink;
    const pending = this.pending;
    this.pending = undefined;
    if (pending !== undefined) for (let i = 0; i < pending.length && this.sink === sink; i++) sink.data(pending[i]!);
    if (this.eof && this.sink === sink) sink.end();
    return true;
  }

  /** The sink lets go: later chunks wait here, unread and uncredited, for whoever owns the body. */
  detach(): void {
    this.sink = undefined;
  }

  /** The sink forwarded `n` octets: their credit goes back to the peer (never beyond what was received: a body
   *  let go has credited everything already, and a sink may still pass on what it held). */
  forwarded(n: number): void {
    this.pushed += n;
    const credit = Math.min(n, this.received - this.credited);
    if (credit <= 0) return;
    this.credited += credit;
    this.conn.consume(this.streamId, credit);
  }

  /** The stream was reset: the connection took back the credit of every byte not consumed, so none is owed. */
  reset(): void {
    this.pending = undefined;
    this.abandon();
    this.credited = this.received;
    if (!this.readableEnded) this.destroy();
  }

  // Credit is returned in read(), after the bytes left the buffer: every way out of it goes through read()
  // (flowing mode's flow() loop, pipe, read() itself; a chunk handed straight to a flowing reader is followed by
  // maybeReadMore's read(0)). Not in _read(): Readable calls it only while no _read is pending, and ours pushes
  // only what was pending, so after a pause and resume the last chunks were taken without one and their credit
  // never went back (a 1 MiB echo stalled on its stream window).
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
    if (!this.engaged) {
      this.engaged = true;
      // Read to the end: the last bytes' connection credit (the stream itself is closed by then).
      this.once('end', () => this.creditAll());
    }
    if (this.sink !== undefined) return;
    // From now on chunks are pushed as they come (Readable buffers them; credit goes back as they are read).
    this.pushing = true;
    const pending = this.pending;
    this.pending = undefined;
    if (pending !== undefined) {
      for (const chunk of pending) {
        this.pushed += chunk.length;
        this.push(chunk);
      }
    }
    if (this.eof) {
      this.eof = false;
      this.push(null);
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Never read: the bytes still count against the connection window unless credited (a reset stream's are
    // credited by the connection itself, and crediting a forgotten stream only touches the connection window).
    this.abandon();
    this.creditAll();
    cb(err);
  }

  /** Let go before the end: a sink still attached is told, so the stream it writes to does not wait forever for an
   *  end that will not come (an upload the client was told to stop after an early answer). */
  private abandon(): void {
    const sink = this.sink;
    this.sink = undefined;
    if (sink !== undefined && !this.ended) sink.abort();
  }

    /** Everything taken from the connection is credited: what waits here, what a sink held, what nobody read. */
  private creditAll(): void {
    this.pending = undefined;
    const left = this.received - this.credited;
    if (left > 0) {
      this.credited = this.received;
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
  if (isAttachable(body)) {
    const direct = new DirectSender(conn, streamId, body, hooks);
    if (body.attach(direct)) return direct;
  }
  return readableSender(conn, streamId, body, hooks);
}

/**
 * An InboundBody's chunks written straight to another stream, as readableSender does for a Readable: each
 * chunk credited to its peer as it is handed to the connection; while the stream's DATA waits for window the
 * next chunks wait here, uncredited, so the sending peer is held by its window.
 */
class DirectSender implements BodySender, BodySink {
  private held: Buffer[] | undefined;
  private paused = false;
  /** The body's end came; onEnd waits for the queued DATA to leave. */
  private ending = false;
  private stopped = false;

  constructor(
    private readonly conn: H2Connection,
    private readonly streamId: number,
    private readonly body: Readable & AttachableBody,
    private readonly hooks: SendBodyHooks,
  ) {}

  data(chunk: Buffer): void {
    if (this.stopped) return;
    if (this.paused) {
      (this.held ??= []).push(chunk);
      return;
    }
    this.forward(chunk);
  }

  end(): void {
    if (this.stopped) return;
    this.ending = true;
    this.maybeEnd();
  }

  abort(): void {
    if (this.stopped) return;
    // The body let us go: stop without destroying it (it is already let go), then fail the stream.
    this.stop(false);
    this.hooks.onError(new Error('the body was let go before its end'));
  }

  onWritable(): void {
    if (this.stopped || !this.paused) return;
    if (this.conn.sendQueued(this.streamId) > 0) return;
    this.paused = false;
    const held = this.held;
    while (held !== undefined && held.length > 0 && !this.paused && !this.stopped) this.forward(held.shift()!);
    this.maybeEnd();
  }

  stop(destroy = true): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ending = false;
    this.body.detach();
    this.held = undefined;
    if (destroy) this.body.destroy();
  }

  private forward(chunk: Buffer): void {
    this.body.forwarded(chunk.length);
    if (!this.conn.sendData(this.streamId, chunk)) return this.stop();
    if (this.conn.sendQueued(this.streamId) > 0) this.paused = true;
  }

  private maybeEnd(): void {
    if (!this.ending || this.paused || this.stopped) return;
    if (this.held !== undefined && this.held.length > 0) return;
    this.ending = false;
    this.stopped = true;
    this.body.detach();
    this.hooks.onEnd();
  }
}

function readableSender(conn: H2Connection, streamId: number, body: Readable, hooks: SendBodyHooks): BodySender {
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
    body.off('close', onClose);
  };
  const stop = (destroy = true): void => {
    ending = false;
    if (stopped) return;
    detach();
    if (destroy) body.destroy();
  };
  // Destroyed without an error before its end (let go): the stream must not wait for an end that will not come.
  const onClose = (): void => {
    if (!stopped) onError(new Error('the body was let go before its end'));
  };
  body.on('data', onData);
  body.once('end', onEnd);
  body.once('error', onError);
  body.once('close', onClose);
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
