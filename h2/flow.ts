// Fixed flow-control windows (RFC 9113 sections 5.2 and 6.9), for one stream or the connection. A send window
// is what the peer lets us send; a receive window is what we let the peer send, with credit returned only when
// the application says it consumed the bytes (strict: a stream that never reads keeps its window shut, and the
// connection window it was sent into, which is what makes seed 000's window exhaustion reproducible).
import { H2_ERROR, H2ProtocolError } from './errors.js';
import { MAX_WINDOW } from './frames.js';

export class SendWindow {
  constructor(public size: number) {}

  /** A WINDOW_UPDATE or a SETTINGS_INITIAL_WINDOW_SIZE change; false if the window would pass 2^31-1 (the caller picks the error's level). */
  grow(increment: number): boolean {
    if (this.size + increment > MAX_WINDOW) return false;
    this.size += increment;
    return true;
  }

  take(n: number): void {
    this.size -= n;
  }
}

export class ReceiveWindow {
  /** Bytes consumed by the application and not yet returned to the peer. */
  private released = 0;

  /** `size`: what the peer may still send; `target`: the window we keep open (credit brings it back there). */
  constructor(
    public size: number,
    public target: number,
  ) {}

  /** Starts over at `size` (a stream record reused for a new stream). */
  restartWindow(size: number): void {
    this.size = size;
    this.target = size;
    this.released = 0;
  }

  /** Our SETTINGS_INITIAL_WINDOW_SIZE changed (the peer acknowledged it): window and target move by the difference, the window perhaps below zero (6.9.2). */
  adjust(delta: number): void {
    this.size += delta;
    this.target += delta;
  }

  /** `n` flow-controlled octets arrived; throws FLOW_CONTROL_ERROR (the caller makes it a stream error where it must) past the window. */
  receive(n: number): void {
    if (n > this.size) throw new H2ProtocolError(H2_ERROR.FLOW_CONTROL_ERROR, `${n} octets into a window of ${this.size}`);
    this.size -= n;
  }

  /**
   * The application consumed `n` octets; returns the WINDOW_UPDATE increment to send now (0: not yet). Credit
   * goes back once it reaches half of what the peer has left (the h2 crate's rule), never above `target`.
   */
  consume(n: number): number {
    this.released += n;
    const room = this.target - this.size;
    if (this.released > room) this.released = room;
    if (this.released <= 0 || this.released < this.size / 2) return 0;
    const increment = this.released;
    this.size += increment;
    this.released = 0;
    return increment;
  }
}
