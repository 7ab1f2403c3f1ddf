// The rapid-reset attacker (CVE-2023-44487, LoadOptions.attack 'rapid-reset'): a connection that follows every
// stream's HEADERS (and body) with RST_STREAM(CANCEL) in the same socket write. The stream is closed on our
// side at once, so it never counts against the peer's SETTINGS_MAX_CONCURRENT_STREAMS: the server does the
// work of starting each request and is told to forget it before it can answer. A server that bounds this
// (nghttp2 >= 1.57: a budget of resets per connection, see README.md) answers GOAWAY; the pool then opens a
// new connection, as after any GOAWAY.
// A stream is done (its request settles) when its frames have been handed to the socket, at the end of the
// event-loop turn, not when they were queued: streams queued on a connection that closed first were never
// sent, and go back to the pool for another connection instead of being counted.
import { goawayClass, h2Code } from '../errors.js';
import { H2Connection } from './connection.js';
import type { WireStream } from './stream.js';

const CANCEL = h2Code('CANCEL');

export class RapidResetConnection extends H2Connection {
  /** Streams written and reset this turn, not yet handed to the socket. */
  private unflushed: WireStream[] = [];

  protected override start(stream: WireStream): void {
    super.start(stream);
    this.resetStarted(stream, CANCEL);
    this.unflushed.push(stream);
  }

  onFlushed(): void {
    const sent = this.unflushed;
    this.unflushed = [];
    for (const stream of sent) stream.onResetSent();
  }

  override onTransportClose(error: Error | undefined): void {
    const unsent = this.unflushed;
    this.unflushed = [];
    super.onTransportClose(error);
    const why = this.goaway ? goawayClass(this.goaway.code) : 'other:CONNECTION_CLOSED';
    for (const stream of unsent) this.owner.onUnsent(stream, why);
  }
}
