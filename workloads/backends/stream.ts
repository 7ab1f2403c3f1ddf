// Server streaming: N messages of M bytes written one after another as the stream's flow control allows, each
// stamped in its first 8 bytes with the time it was written (float64 little-endian, epoch ms:
// performance.timeOrigin + performance.now()), so a client on the same machine reads each message's latency.
import { performance } from 'node:perf_hooks';

/** The stamp's size: a message must be at least this long. */
export const STAMP_BYTES = 8;
export const DEFAULT_STREAM_MESSAGES = 10;

/** A new message of `bytes` bytes (zeros), stamped now. */
export function stampedMessage(bytes: number): Buffer {
  const message = Buffer.alloc(bytes);
  message.writeDoubleLE(performance.timeOrigin + performance.now(), 0);
  return message;
}

/** A stream that pushes back: node:http2's and grpc-js' writable streams both are. */
export interface Backpressured {
  once(event: 'drain', listener: () => void): unknown;
}

/**
 * Writes `count` messages with `write` (false when the stream's buffer is full: then it waits for 'drain'
 * before the next), then calls `end`. Stops, writing nothing more, once `gone()` (the client went away).
 */
export function writeMessages(count: number, stream: Backpressured, write: () => boolean, end: () => void, gone: () => boolean): void {
  let written = 0;
  const next = (): void => {
    while (written < count) {
      if (gone()) return;
      written++;
      if (!write()) {
        stream.once('drain', next);
        return;
      }
    }
    if (!gone()) end();
  };
  next();
}
