// The rapid-reset attacker (CVE-2023-44487, LoadOptions.attack 'rapid-reset'): a connection that follows every
// stream's HEADERS (and body) with RST_STREAM(CANCEL) in the same socket write. The stream is closed on our
// side at once, so it never counts against the peer's SETTINGS_MAX_CONCURRENT_STREAMS: the server does the
// work of starting each request and is told to forget it before it can answer. A server that bounds this
// (nghttp2 >= 1.57: a budget of resets per connection, see README.md) answers GOAWAY; the pool then opens a
// new connection, as after any GOAWAY.
// A stream is done (its request settles) when the write holding its frames has been handed to the kernel (the
// write's callback), not when they were queued or passed to the socket: streams whose write was dropped by a
// close were never sent, and go back to the pool for another connection instead of being counted.
import { goawayClass, h2Code } from '../errors.js';
import { H2Connection } from './connection.js';
import type { ConnectionOwner } from './connection.js';
import type { WireStream } from './stream.js';

const CANCEL = h2Code('CANCEL');

/**
 * The write callback of a batch of attack streams (both attackers', this one and h2-connection.ts's): each settles
 * once the kernel took the write; a write destroyed before that was never sent, so its streams go back to the pool
 * (`why`: the reason, read then) and are never counted.
 */
export function settleOnWrite(batch: readonly WireStream[], owner: ConnectionOwner, why: () => string): (error: Error | null | undefined) => void {
  return (error) => {
    if (!error) {
      for (const stream of batch) stream.onResetSent();
      return;
    }
    const reason = why();
    for (const stream of batch) owner.onUnsent(stream, reason);
  };
}

export class RapidResetConnection extends H2Connection {
  /** Streams written and reset this turn, not yet handed to the socket. */
  private unflushed: WireStream[] = [];

  /**
   * The body goes whole with its HEADERS, or the stream waits for the connection window: a body cut by flow
   * control would be followed by the reset alone, a different attack (and a smaller one) than the one asked for.
   */
  protected override mayStart(stream: WireStream): boolean {
    return stream.body === undefined || this.bodyFits(stream.body.length);
  }

  protected override start(stream: WireStream): void {
    super.start(stream);
    this.resetStarted(stream, CANCEL);
    this.unflushed.push(stream);
  }

  takeWritten(): ((error: Error | null | undefined) => void) | undefined {
    if (this.unflushed.length === 0) return undefined;
    const batch = this.unflushed;
    this.unflushed = [];
    return settleOnWrite(batch, this.owner, () => (this.goaway ? goawayClass(this.goaway.code) : 'other:CONNECTION_CLOSED'));
  }

  override onTransportClose(error: Error | undefined): void {
    const unsent = this.unflushed;
    this.unflushed = [];
    super.onTransportClose(error);
    const why = this.goaway ? goawayClass(this.goaway.code) : 'other:CONNECTION_CLOSED';
    for (const stream of unsent) this.owner.onUnsent(stream, why);
  }
}
