// One HTTP/2 connection of the wire engine (h2/connection.ts over a net.Socket), either side, with its streams'
// handlers: the connection reports events by stream id; this hands each to the stream's own handler, so the
// downstream server and the upstream client only ever deal with one stream at a time.
import type { Socket } from 'node:net';
import { H2Connection, type CloseReason, type ConnectionOptions, type H2Listener, type Role } from '../../../h2/connection.js';
import type { Settings } from '../../../h2/settings.js';

/** What one stream's owner hears; every event is optional. `onReset` ends the stream (either side's RST_STREAM,
 *  a GOAWAY that refused it, or the connection closing), after which nothing more arrives. */
export interface StreamHandler {
  onHeaders?(headers: Array<[string, string]>, endStream: boolean): void;
  onData?(data: Buffer, endStream: boolean): void;
  onReset?(code: number, local: boolean): void;
  onWritable?(): void;
}

export interface SessionEvents {
  /** Server: a stream the peer opened; return its handler (or undefined after resetting it). */
  onStream?(session: WireSession, streamId: number, headers: Array<[string, string]>, endStream: boolean): StreamHandler | undefined;
  onGoaway?(lastStreamId: number, code: number): void;
  onSettings?(peer: Readonly<Settings>): void;
  onPingAck?(opaque: Buffer): void;
  onClose?(reason: CloseReason): void;
}

/** How the session uses its socket (all optional, off by default). */
export interface SessionIo {
  /** Gather small writes until the end of the event-loop iteration (one syscall for many streams' frames). */
  batchWrites?: boolean;
}

/** A write this large (a full DATA frame) is not held back: bulk transfers keep their pace. */
const BATCH_LIMIT = 16 * 1024;

export class WireSession {
  readonly conn: H2Connection;
  private corked = false;
  private readonly handlers = new Map<number, StreamHandler>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly socket: Socket,
    role: Role,
    private readonly events: SessionEvents,
    opts: ConnectionOptions,
    io: SessionIo = {},
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
        h?.onReset?.(code, local);
      },
      onWritable: (id) => this.handlers.get(id)?.onWritable?.(),
      onGoaway: (last, code) => this.events.onGoaway?.(last, code),
      onSettings: (peer) => this.events.onSettings?.(peer),
      onPingAck: (opaque) => this.events.onPingAck?.(opaque),
      onClose: (reason) => {
        clearInterval(this.timer);
        // Streams still known were reset by shut() already (onReset); anything left is dropped quietly.
        this.handlers.clear();
        this.events.onClose?.(reason);
      },
    };
    this.conn = new H2Connection(
      role,
      {
        write: io.batchWrites ? (buf) => this.batchedWrite(buf) : (buf) => socket.write(buf),
        end: () => socket.end(),
        destroy: () => {
          this.uncork(); // the last frames (a GOAWAY) leave before the socket goes, batched or not
          socket.destroy();
        },
      },
      listener,
      opts,
    );
    this.timer = setInterval(() => this.conn.tick(), 1000);
    this.timer.unref();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.conn.receive(chunk));
    socket.on('drain', () => this.conn.drained());
    socket.on('error', (err) => this.conn.transportClosed(err));
    socket.on('close', () => {
      clearInterval(this.timer);
      this.conn.transportClosed();
    });
  }

  /** Small writes wait, corked, for the end of this event-loop iteration (setImmediate, as node:http2 schedules its
   *  own writes), so the frames of every stream served in it leave in one writev; a large one flushes at once. */
  private batchedWrite(buf: Buffer): boolean {
    const { socket } = this;
    if (buf.length >= BATCH_LIMIT) {
      if (this.corked) this.uncork();
      return socket.write(buf);
    }
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      setImmediate(this.uncork);
    }
    return socket.write(buf);
  }

  private readonly uncork = (): void => {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  };

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
}
