// The socket under a connection: reads delivered into one reused buffer, frames written during an event-loop
// turn sent as one write at its end, and a close that reports the socket's error if there was one.
import net, { type Socket } from 'node:net';
import { FrameWriter } from '../../../h2/frames.js';

// One read buffer for every socket of this thread: a read is parsed to the end before the next one.
const readBuffer = Buffer.allocUnsafe(64 * 1024);
/** How long a closing socket waits for the peer's FIN after sending its own. */
const END_GRACE_MS = 500;

export interface TransportEvents {
  /** bytes arrived in chunk[0, bytes); the buffer is reused after the call. */
  onBytes(chunk: Buffer, bytes: number): void;
  /** The socket closed, after `error` if one happened. */
  onTransportClose(error: Error | undefined): void;
  /**
   * Called as a flush writes: returns what to call once that write has been handed to the kernel (`error` set
   * when the socket was destroyed first and the bytes never left). Only for events that define it
   * (rapid-reset.ts, whose sends are not bounded by answers and must know which ones really left).
   */
  takeWritten?(): ((error: Error | null | undefined) => void) | undefined;
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
  private readonly takeWritten: (() => ((error: Error | null | undefined) => void) | undefined) | undefined;

  constructor(host: string, port: number, events: TransportEvents) {
    this.takeWritten = events.takeWritten?.bind(events);
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
    // The callback rides on the last part: a stream's write completes in order, after every part before it.
    const written = this.takeWritten?.();
    if (parts.length === 1) {
      this.socket.write(parts[0]!, written);
    } else {
      this.socket.cork();
      for (let i = 0; i < parts.length; i++) this.socket.write(parts[i]!, i === parts.length - 1 ? written : undefined);
      this.socket.uncork();
    }
  }

  /**
   * Sends what is written, then FIN, and waits a moment for the peer's FIN before destroying the socket. Closing
   * at once would make our kernel answer the peer's next frame (a WINDOW_UPDATE for data it is still reading)
   * with a TCP RST, and an RST throws away what the peer had received but not yet read: frames we sent and
   * counted would never reach it. A peer that never closes cannot hold the socket open longer than the grace.
   */
  end(): void {
    this.flush();
    this.socket.end(() => {
      const grace = setTimeout(() => this.socket.destroy(), END_GRACE_MS);
      grace.unref();
      this.socket.once('close', () => clearTimeout(grace));
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}
