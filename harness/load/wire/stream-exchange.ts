// A server-streaming request: an Exchange that reads its response body, cut into messages by a framer
// (messages.ts), and reports each message's latency, from the backend's stamp to the read that completed it.
// Only streaming runs make these (the pool picks the class once), so a unary exchange never looks at a byte.
import { performance } from 'node:perf_hooks';
import { TRUNCATED } from '../errors.js';
import { MESSAGE_BYTES_HEADER } from '../payload.js';
import type { RequestTimes } from '../statistic/recorder.js';
import { Exchange, type ExchangePool, type Slot, type StreamingSpec, type WireRequestSpec } from './exchange.js';
import type { MessageFramer, MessageSink, StreamedResponse } from './messages.js';

/** Epoch ms of performance.now() 0 in this thread: a read's time on the backends' clock (the same machine's). */
const TIME_ORIGIN = performance.timeOrigin;

export const BAD_MESSAGE = 'other:BAD_MESSAGE';
export const EXTRA_MESSAGES = 'other:EXTRA_MESSAGES';

/** The streaming spec of a protocol: its messages per response and its framer. */
export function streamingSpec(messages: number, framer: StreamingSpec['framer']): StreamingSpec {
  return { messages, framer, exchange: StreamExchange };
}

export class StreamExchange extends Exchange implements MessageSink, StreamedResponse {
  /** Whole messages received. */
  messages = 0;
  /** The body could not be read as stamped messages (no message size, a message without a stamp). */
  malformed = false;
  /** h2: the response's x-sluice-message-bytes (-1 when absent). */
  messageBytes = -1;
  private readonly streaming: StreamingSpec;
  private framer: MessageFramer | undefined;
  private framed = false;

  constructor(pool: ExchangePool, slot: Slot, times: RequestTimes, deadline: number, spec: WireRequestSpec) {
    super(pool, slot, times, deadline, spec);
    this.streaming = spec.streaming!;
  }

  override onHeader(name: string, value: string): void {
    super.onHeader(name, value);
    if (name === MESSAGE_BYTES_HEADER) this.messageBytes = Number(value);
  }

  override onBodyBytes(buf: Buffer, start: number, end: number): void {
    if (!this.framed) {
      this.framed = true;
      this.framer = this.streaming.framer(this);
      if (this.framer === undefined) this.malformed = true;
    }
    this.framer?.push(buf, start, end);
  }

  onMessage(stampMs: number): void {
    this.messages++;
    if (Number.isNaN(stampMs)) {
      this.malformed = true;
      return;
    }
    // Arrived with the read that completed it: its clock reading is the connection's, one per socket read.
    this.pool.streamMessage(this, TIME_ORIGIN + this.conn!.now - stampMs);
  }

  /** After the protocol's own judgement passed: every message whole and stamped, as many as asked. */
  messagesClass(): string | undefined {
    if (this.malformed) return BAD_MESSAGE;
    const expected = this.streaming.messages;
    if (this.messages < expected || this.framer?.partial === true) return TRUNCATED;
    if (this.messages > expected) return EXTRA_MESSAGES;
    return undefined;
  }
}
