// A server stream's body cut into messages, whatever pieces it arrives in (a DATA frame split across reads, a
// message split across frames): the h2 backend's fixed-size messages, or gRPC's length-prefixed EchoReply.
// Each message's payload starts with its stamp, the time the backend wrote it (float64 LE, epoch ms); a
// framer reads that and skips the rest without copying it.
import { STAMP_BYTES } from '../payload.js';

export interface MessageSink {
  /** A whole message arrived; `stampMs` is its stamp, NaN when it carried none that could be read. */
  onMessage(stampMs: number): void;
}

/** A streamed response a framer is made for: where its messages go, and its announced message size (-1: none). */
export interface StreamedResponse extends MessageSink {
  readonly messageBytes: number;
}

export interface MessageFramer {
  /** The body's next bytes, buf[start, end); nothing of buf is kept after the call. */
  push(buf: Buffer, start: number, end: number): void;
  /** A message has begun and not ended: a body ending here was cut short. */
  readonly partial: boolean;
}

/** Messages of `size` bytes one after another (the h2 backend's stream), the stamp first in each. */
export class FixedFramer implements MessageFramer {
  private readonly head = Buffer.allocUnsafe(STAMP_BYTES);
  /** Bytes of the current message so far. */
  private got = 0;
  private stampMs = NaN;

  constructor(
    private readonly size: number,
    private readonly sink: MessageSink,
  ) {
    if (!Number.isInteger(size) || size < STAMP_BYTES) throw new RangeError(`a stamped message has at least ${STAMP_BYTES} bytes, not ${size}`);
  }

  get partial(): boolean {
    return this.got > 0;
  }

  push(buf: Buffer, start: number, end: number): void {
    let pos = start;
    while (pos < end) {
      if (this.got < STAMP_BYTES) {
        const n = Math.min(STAMP_BYTES - this.got, end - pos);
        buf.copy(this.head, this.got, pos, pos + n);
        this.got += n;
        pos += n;
        if (this.got < STAMP_BYTES) return;
        this.stampMs = this.head.readDoubleLE(0);
      }
      const n = Math.min(this.size - this.got, end - pos);
      this.got += n;
      pos += n;
      if (this.got === this.size) {
        this.got = 0;
        this.sink.onMessage(this.stampMs);
      }
    }
  }
}

const PREFIX_BYTES = 5;
/** EchoReply's first bytes: the tag of `bytes payload = 1` (0x0a), its length (a varint, at most 5 bytes), the stamp. */
const REPLY_HEAD_BYTES = 1 + 5 + STAMP_BYTES;
const PAYLOAD_TAG = 0x0a;

/**
 * gRPC's Length-Prefixed-Messages (a compressed-flag byte, a 4-byte big-endian length, the message), each an
 * EchoReply whose payload starts with the stamp. Only a message's first 19 bytes are copied.
 */
export class GrpcFramer implements MessageFramer {
  /** The prefix and the reply's first bytes. */
  private readonly head = Buffer.allocUnsafe(PREFIX_BYTES + REPLY_HEAD_BYTES);
  /** Bytes of the current message so far (prefix included), how many go into head, and its whole length (-1: prefix not read yet). */
  private have = 0;
  private need = PREFIX_BYTES;
  private total = -1;

  constructor(private readonly sink: MessageSink) {}

  get partial(): boolean {
    return this.have > 0;
  }

  push(buf: Buffer, start: number, end: number): void {
    let pos = start;
    for (;;) {
      if (this.have < this.need) {
        if (pos >= end) return;
        const n = Math.min(this.need - this.have, end - pos);
        buf.copy(this.head, this.have, pos, pos + n);
        this.have += n;
        pos += n;
        if (this.have < this.need) return;
        if (this.total < 0) {
          const length = this.head.readUInt32BE(1);
          this.total = PREFIX_BYTES + length;
          this.need = PREFIX_BYTES + Math.min(length, REPLY_HEAD_BYTES);
          continue;
        }
      }
      const n = Math.min(this.total - this.have, end - pos);
      this.have += n;
      pos += n;
      if (this.have < this.total) return;
      const stampMs = this.stamp();
      this.have = 0;
      this.need = PREFIX_BYTES;
      this.total = -1;
      this.sink.onMessage(stampMs);
      if (pos >= end) return;
    }
  }

  /** The stamp of the message in head, or NaN: compressed, not an EchoReply with a payload first, or a payload under 8 bytes. */
  private stamp(): number {
    const head = this.head;
    const headEnd = this.need;
    if (head[0] !== 0 || headEnd === PREFIX_BYTES || head[PREFIX_BYTES] !== PAYLOAD_TAG) return NaN;
    let length = 0;
    let at = PREFIX_BYTES + 1;
    for (let shift = 0; ; shift += 7) {
      if (at >= headEnd || shift > 28) return NaN;
      const byte = head[at++]!;
      length += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
    }
    if (length < STAMP_BYTES || at + STAMP_BYTES > headEnd) return NaN;
    return head.readDoubleLE(at);
  }
}
