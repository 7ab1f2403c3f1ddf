// The socket under a connection: reads delivered into one reused buffer, frames written during an event-loop
// turn sent as one write at its end, and a close that reports the socket's error if there was one.
import net, { type Socket } from 'node:net';
import { FrameWriter } from './frames.js';

// One read buffer for every socket of this thread: a read is parsed to the end before the next one.
const readBuffer = Buffer.allocUnsafe(64 * 1024);

export interface TransportEvents {
  /** bytes arrived in chunk[0, bytes); the buffer is reused after the call. */
  onBytes(chunk: Buffer, bytes: number): void;
  /** The socket closed, after `error` if one happened. */
  onTransportClose(error: Error | undefined): void;
  /**
   * Everything written so far has left the process: handed to the kernel at a flush, or, when the socket's
   * buffer was full, at its 'drain'. Only for events that define it (rapid-reset.ts, whose sends are not
   * bounded by answers and must wait for the socket instead).
   */
  onFlushed?(): void;
}

export class Transport {
  readonly socket: Socket;
  readonly out = new FrameWriter();
  readonly whenClosed: Promise<void>;
  /** The socket connected at some point (one that never did is a failed connect). */
  connected = false;
  closed = false;
  private error: Error | undefined;
  private flushTimer: NodeJS.Immediate | undefined;
  private readonly flushNow = (): void => this.flush();
  /** Looked up once: a connection without it costs a flush one check. */
  private readonly flushed: (() => void) | undefined;
  private awaitingDrain = false;
  private readonly onDrain = (): void => {
    this.awaitingDrain = false;
    this.flushed?.();
  };

  constructor(host: string, port: number, events: TransportEvents) {
    this.flushed = events.onFlushed?.bind(events);
    this.socket = net.connect({
      host,
      port,
      noDelay: true,
      // Reads land in one reused buffer instead of a new Buffer per read pushed through a Readable stream:
      // the frame reader copies what it keeps (split frames, header fragments) and never keeps DATA.
      onread: {
        buffer: readBuffer,
        callback: (bytes: number, buffer: Uint8Array): boolean => {
          events.onBytes(buffer as Buffer, bytes);
          return true;
        },
      },
    });
    this.whenClosed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.socket.on('connect', () => (this.connected = true));
    this.socket.on('error', (err: Error) => (this.error ??= err));
    this.socket.on('close', () => {
      this.closed = true;
      if (this.flushTimer) clearImmediate(this.flushTimer);
      events.onTransportClose(this.error);
    });
  }

  /** What `out` holds leaves at the end of this turn. */
  flushSoon(): void {
    // setImmediate, not nextTick: the requests started by this turn's promise callbacks join the same write.
    this.flushTimer ??= setImmediate(this.flushNow);
  }

  flush(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    if (this.out.empty || this.closed || this.socket.destroyed) return;
    const parts = this.out.take();
    if (parts.length === 1) {
      this.socket.write(parts[0]!);
    } else {
      this.socket.cork();
      for (const part of parts) this.socket.write(part);
      this.socket.uncork();
    }
    if (this.flushed === undefined || this.awaitingDrain) return;
    if (!this.socket.writableNeedDrain) return this.flushed();
    this.awaitingDrain = true;
    this.socket.once('drain', this.onDrain);
  }

  /** Sends what is written, then FIN; destroyed once flushed (a peer that never closes cannot hold it open). */
  end(): void {
    this.flush();
    this.socket.end(() => this.socket.destroy());
  }

  destroy(): void {
    this.socket.destroy();
  }
}
