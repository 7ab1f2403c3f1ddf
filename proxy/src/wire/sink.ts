// What a body forwarded stream to stream is made of: the sink its chunks are handed to (body.ts's DirectSender)
// and the body that hands them (an InboundBody, or one attempt of its replay in replay.ts). Apart from both so
// that neither imports the other for these shapes.
import type { Readable } from 'node:stream';

/** What a body forwarded directly (not read as a Readable) is handed: each chunk, then its end. */
export interface BodySink {
  data(chunk: Buffer): void;
  end(): void;
  /** The body was let go before its end (its stream reset, or stopped after an early answer): nothing follows. */
  abort(): void;
}

/** A Readable that can instead hand its chunks to one sink, which reports what it has passed on. */
export interface AttachableBody {
  /** Hands the body to `sink` instead of Readable; false when it is already read as a stream (or destroyed). */
  attach(sink: BodySink): boolean;
  /** The sink lets go: later chunks wait, unread and uncredited, for whoever owns the body. */
  detach(): void;
  /** The sink passed `n` more octets on: their credit may go back to the peer. */
  forwarded(n: number): void;
}

export function isAttachable(body: Readable): body is Readable & AttachableBody {
  const b = body as Partial<AttachableBody>;
  return typeof b.attach === 'function' && typeof b.forwarded === 'function';
}
