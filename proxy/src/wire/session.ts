// One HTTP/2 connection of the wire engine (h2/connection.ts over a net.Socket), either side, with its streams'
// handlers: the connection reports events by stream id; this hands each to the stream's own handler, so the
// downstream server and the upstream client only ever deal with one stream at a time.
import type { Socket } from 'node:net';
import { H2Connection, type CloseReason, type ConnectionOptions, type H2Listener, type Role } from '../../../h2/connection.js';
import { H2_ERROR } from '../../../h2/errors.js';
import { IdMap } from '../../../h2/id-map.js';
import type { Settings } from '../../../h2/settings.js';
import type { StreamState } from '../../../h2/stream-state.js';

/** What one stream's owner hears; every event is optional. `onReset` ends the stream (either side's RST_STREAM,
 *  a GOAWAY that refused it, or the connection closing: then `local` is true and the code the connection's,
 *  CANCEL when it closed without an error), after which nothing more arrives. */
export interface StreamHandler {
  onHeaders?(headers: Array<[string, string]>, endStream: boolean): void;
  onData?(data: Buffer, endStream: boolean): void;
  onReset?(code: number, local: boolean): void;
  onWritable?(): void;
}

export interface SessionEvents {
  /** Server: a stream the peer opened; return its handler (or undefined after resetting it). */
  onStream?(session: WireSession, streamId: number, headers: Array<[string, string]>, endStream: boolean): StreamHandler | undefined;
  /** Every RST_STREAM, sent (`local`: ours, or the engine's answer to a stream error) or received, whether the
   *  stream had a handler or not; before the handler's onReset. Not told of streams dropped by the connection
   *  closing (those are no RST_STREAM frames; their handlers hear onReset). */
  onStreamReset?(streamId: number, code: number, local: boolean): void;
  onGoaway?(lastStreamId: number, code: number): void;
  onSettings?(peer: Readonly<Settings>): void;
  onPingAck?(opaque: Buffer): void;
  onClose?(reason: CloseReason): void;
}

/** Bytes the socket may hold unwritten before the connection stops sending DATA until its 'drain'. */
const WRITE_BUFFER_BYTES = 256 * 1024;

/** How long a socket we ended waits for the peer's FIN before it is destroyed. */
const END_GRACE_MS = 2000;

export class WireSession {
  readonly conn: H2Connection;
  /** By stream id: an IdMap, not a Map, so finished streams are not kept alive into the old generation (h2/id-map.ts). */
  private readonly handlers = new IdMap<StreamHandler>();
  private readonly timer: NodeJS.Timeout;
  /** Streams whose END_STREAM waits behind a full socket: told when it has left (see whenClosed). */
  private closing: Map<number, () => void> | undefined;

  constructor(
    readonly socket: Socket,
    role: Role,
    private readonly events: SessionEvents,
    opts: ConnectionOptions,
  ) {
    const listener: H2Listener = {
      onHeaders: (id, headers, endStream) => {
        const h = this.handlers.get(id);
        if (h) return h.onHeaders?.(headers, endStream);
        if (role !== 'server') return;
        const opened = this.events.onStream?.(this, id, headers, endStream);
        // A request ended by its headers may be answered (and its stream closed) before onStream returns.
        if (opened && this.conn.streamState(id) !== 'closed') this.handlers.set(id, opened);
      },
      onData: (id, data, endStream) => this.handlers.get(id)?.onData?.(data, endStream),
      onReset: (id, code, local) => {
        const h = this.handlers.get(id);
        this.handlers.delete(id);
        this.closing?.delete(id);
        // While the connection shuts (a connection error, GOAWAY with an error) its streams are dropped through
        // here too, with no RST_STREAM of their own, before it is closed: the listener tells those apart.
        if (!this.conn.closed) this.events.onStreamReset?.(id, code, local);
        h?.onReset?.(code, local);
      },
      onWritable: (id) => this.handlers.get(id)?.onWritable?.(),
      onGoaway: (last, code) => this.events.onGoaway?.(last, code),
      onSettings: (peer) => this.events.onSettings?.(peer),
      onPingAck: (opaque) => this.events.onPingAck?.(opaque),
      onClose: (reason) => {
        clearInterval(this.timer);
        this.closing = undefined;
        // A transport that closed under us drops the streams without onReset: their owners hear it here.
        const left = this.handlers.values();
        this.handlers.clear();
        const code = reason.code === H2_ERROR.NO_ERROR ? H2_ERROR.CANCEL : reason.code;
        for (const h of left) h.onReset?.(code, true);
        this.events.onClose?.(reason);
      },
    };
    this.conn = new H2Connection(
      role,
      {
        write: (buf) => {
          socket.write(buf);
          // Backpressure from our own bound, not write()'s (false past the socket's 16 KiB high-water mark, which
          // throttled a bulk stream to a few chunks per turn). Past the bound the socket has needDrain set too, so
          // its 'drain' comes (conn.drained()).
          return socket.writableLength < WRITE_BUFFER_BYTES;
        },
        writev: (bufs) => {
          // Small frames are staged in one buffer by the connection, large DATA payloads come by reference: one
          // writev syscall for them all (cork), without joining the large ones.
          socket.cork();
          for (let i = 0; i < bufs.length; i++) socket.write(bufs[i]!);
          socket.uncork();
          return socket.writableLength < WRITE_BUFFER_BYTES;
        },
        end: () => {
          socket.end(); // end() uncorks first
          // A graceful end (GOAWAY, streams done): the peer's FIN should follow; a peer that keeps the socket
          // half-open is not waited for.
          setTimeout(() => socket.destroy(), END_GRACE_MS).unref();
        },
        destroy: () => socket.destroy(),
      },
      listener,
      // What the application's calls write (responses, requests, DATA forwarded from another connection, credit)
      // is staged by the connection and written once at the end of the event loop's turn (setImmediate, after
      // its I/O callbacks), one write for every stream that answered in the turn, as nghttp2 under node:http2
      // batches: a write per frame group was the largest single cost in a profile at 128 streams, and Writable's
      // per-write bookkeeping under cork() was the next. What reading the peer's bytes makes us send (ACKs,
      // WINDOW_UPDATE, DATA a WINDOW_UPDATE let go) leaves at the end of that read: waiting for the turn's end
      // there halved a 1 MiB download's rate against a 64 KiB client window.
      { ...opts, deferFlush: () => setImmediate(this.flush) },
    );
    this.timer = setInterval(() => this.conn.tick(), 1000);
    this.timer.unref();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.conn.receive(chunk));
    socket.on('drain', () => {
      this.conn.drained();
      if (this.closing) this.checkClosing();
    });
    socket.on('error', (err) => this.conn.transportClosed(err));
    socket.on('close', () => {
      clearInterval(this.timer);
      this.conn.transportClosed();
    });
  }

  private readonly flush = (): void => this.conn.flushOutput();

  /** Client: opens a stream and attaches its handler before any answer can arrive. */
  request(headers: Array<[string, string]>, endStream: boolean, handler: StreamHandler): number {
    const id = this.conn.request(headers, endStream);
    if (this.conn.streamState(id) !== 'closed') this.handlers.set(id, handler);
    return id;
  }

  /** Streams with a handler (open, from this side's view). */
  get openStreams(): number {
    return this.handlers.size;
  }

  /** Forgets a stream's handler once its owner is done with it (it ended normally on both sides). */
  release(streamId: number): void {
    this.handlers.delete(streamId);
  }

  /**
   * `done` once our END_STREAM on the stream has left (the stream is half-closed (local) or closed): now, or,
   * when a full socket held it back (the connection sends it at the socket's drain and reports nothing), after
   * the drain that sends it. A stream reset meanwhile hears onReset instead, and `done` never runs.
   */
  whenEnded(streamId: number, done: () => void): void {
    if (ended(this.conn.streamState(streamId))) return done();
    (this.closing ??= new Map()).set(streamId, done);
  }

  private checkClosing(): void {
    for (const [id, done] of this.closing!) {
      if (!ended(this.conn.streamState(id))) continue;
      this.closing!.delete(id);
      done();
    }
    if (this.closing?.size === 0) this.closing = undefined;
  }
}

function ended(state: StreamState): boolean {
  return state === 'closed' || state === 'half-closed-local';
}
