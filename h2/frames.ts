// HTTP/2 frames (RFC 9113 section 4 and 6): the constants, encoders for every frame a client or a server
// sends, a writer that batches frames into one socket write, and a reader that cuts frames out of socket chunks.
// DATA payloads are never copied or kept: a load generator only needs their length; a reader built to read
// bodies (server streaming) hands their bytes over in place, piece by piece, padding left out.

import { H2ProtocolError } from './errors.js';

export { H2ProtocolError } from './errors.js';

export const FRAME = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

export const SETTING = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const FRAME_HEADER_BYTES = 9;
/** RFC 9113's default and smallest SETTINGS_MAX_FRAME_SIZE; also the default window. */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
export const DEFAULT_WINDOW = 65_535;
export const MAX_WINDOW = 2 ** 31 - 1;

export function writeFrameHeader(buf: Buffer, at: number, length: number, type: number, flags: number, streamId: number): void {
  buf[at] = length >>> 16;
  buf[at + 1] = (length >>> 8) & 0xff;
  buf[at + 2] = length & 0xff;
  buf[at + 3] = type;
  buf[at + 4] = flags;
  buf.writeUInt32BE(streamId, at + 5);
}

/** One whole frame as a new Buffer (for rare frames; the request path writes into a FrameWriter). */
export function encodeFrame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(frame, 0, payload.length, type, flags, streamId);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

export function settingsFrame(settings: ReadonlyArray<readonly [id: number, value: number]>): Buffer {
  const payload = Buffer.allocUnsafe(settings.length * 6);
  settings.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return encodeFrame(FRAME.SETTINGS, 0, 0, payload);
}

export const SETTINGS_ACK = encodeFrame(FRAME.SETTINGS, FLAG.ACK, 0);

function u32Frame(type: number, streamId: number, value: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(value);
  return encodeFrame(type, 0, streamId, payload);
}

export const windowUpdateFrame = (streamId: number, increment: number): Buffer => u32Frame(FRAME.WINDOW_UPDATE, streamId, increment);
export const rstStreamFrame = (streamId: number, code: number): Buffer => u32Frame(FRAME.RST_STREAM, streamId, code);

export function pingFrame(opaque: Buffer, ack: boolean): Buffer {
  return encodeFrame(FRAME.PING, ack ? FLAG.ACK : 0, 0, opaque.subarray(0, 8));
}

/** GOAWAY with optional debug data (a latin1 string or bytes). */
export function goawayFrame(lastStreamId: number, code: number, debug: string | Buffer = ''): Buffer {
  const debugBytes = typeof debug === 'string' ? Buffer.from(debug, 'latin1') : debug;
  const payload = Buffer.allocUnsafe(8 + debugBytes.length);
  payload.writeUInt32BE(lastStreamId & MAX_WINDOW, 0);
  payload.writeUInt32BE(code, 4);
  debugBytes.copy(payload, 8);
  return encodeFrame(FRAME.GOAWAY, 0, 0, payload);
}

/**
 * A header block as HEADERS followed by as many CONTINUATION frames as `maxFrameSize` needs (RFC 9113 6.10);
 * END_HEADERS on the last. One Buffer holding all the frames.
 */
export function headersFrames(streamId: number, block: Buffer, endStream: boolean, maxFrameSize = DEFAULT_MAX_FRAME_SIZE): Buffer {
  const frames = Math.max(1, Math.ceil(block.length / maxFrameSize));
  const out = Buffer.allocUnsafe(block.length + frames * FRAME_HEADER_BYTES);
  let at = 0;
  for (let i = 0, from = 0; i < frames; i++, from += maxFrameSize) {
    const to = Math.min(block.length, from + maxFrameSize);
    const type = i === 0 ? FRAME.HEADERS : FRAME.CONTINUATION;
    const flags = (i === 0 && endStream ? FLAG.END_STREAM : 0) | (i === frames - 1 ? FLAG.END_HEADERS : 0);
    writeFrameHeader(out, at, to - from, type, flags, streamId);
    block.copy(out, at + FRAME_HEADER_BYTES, from, to);
    at += FRAME_HEADER_BYTES + to - from;
  }
  return out;
}

/** One DATA frame; `padLength` (0..255) adds PADDED and that many zero octets. The caller keeps it within the max frame size. */
export function dataFrame(streamId: number, data: Buffer, endStream: boolean, padLength?: number): Buffer {
  const flags = endStream ? FLAG.END_STREAM : 0;
  if (padLength === undefined) return encodeFrame(FRAME.DATA, flags, streamId, data);
  if (!(padLength >= 0 && padLength <= 255)) throw new RangeError(`pad length ${padLength} outside 0..255`);
  const payload = Buffer.alloc(1 + data.length + padLength);
  payload[0] = padLength;
  data.copy(payload, 1);
  return encodeFrame(FRAME.DATA, flags | FLAG.PADDED, streamId, payload);
}

// Below this size a buffer is copied into the staging area; above it, it is written by reference.
const COPY_LIMIT = 4096;
const STAGE_BYTES = 64 * 1024;

/**
 * Collects the frames of one event-loop turn so they leave in one socket write (or one writev): a frame per
 * request would otherwise be a syscall per request. Small frames are copied into a staging buffer that is
 * handed out in slices, like Buffer's own pool (a slice given to the socket is never written again); large
 * payloads (request bodies) are kept by reference.
 */
export class FrameWriter {
  private stage: Buffer;
  /** stage[start, used) is written and not yet handed out. */
  private start = 0;
  private used = 0;
  private readonly parts: Buffer[] = [];

  /** `stageBytes`: the staging buffer's size (a new one when it fills; a slice handed out keeps its stage alive). */
  constructor(private readonly stageBytes = STAGE_BYTES) {
    this.stage = Buffer.allocUnsafe(stageBytes);
  }

  get empty(): boolean {
    return this.used === this.start && this.parts.length === 0;
  }

  /** A frame header followed by `payload` (copied or referenced; `copyLarge`: see bytes()). */
  frame(type: number, flags: number, streamId: number, payload?: Buffer, start = 0, end = payload?.length ?? 0, copyLarge = false): void {
    this.reserve(FRAME_HEADER_BYTES);
    writeFrameHeader(this.stage, this.used, end - start, type, flags, streamId);
    this.used += FRAME_HEADER_BYTES;
    if (payload && end > start) this.bytes(payload, start, end, copyLarge);
  }

  /** A frame whose payload is one 32-bit value (RST_STREAM, WINDOW_UPDATE), without allocating it. */
  u32Frame(type: number, streamId: number, value: number): void {
    this.reserve(FRAME_HEADER_BYTES + 4);
    writeFrameHeader(this.stage, this.used, 4, type, 0, streamId);
    this.stage.writeUInt32BE(value, this.used + FRAME_HEADER_BYTES);
    this.used += FRAME_HEADER_BYTES + 4;
  }

  /** `copyLarge`: `src` will be overwritten after the call (a reused encode buffer), so a large one is copied too. */
  bytes(src: Buffer, start = 0, end = src.length, copyLarge = false): void {
    const n = end - start;
    if (n >= COPY_LIMIT) {
      this.cut();
      const whole = start === 0 && end === src.length;
      if (copyLarge) this.parts.push(Buffer.from(whole ? src : src.subarray(start, end)));
      else this.parts.push(whole ? src : src.subarray(start, end));
      return;
    }
    this.reserve(n);
    // TypedArray.set on a whole buffer avoids Buffer.copy's native call for the common tiny header block.
    if (start === 0 && end === src.length) this.stage.set(src, this.used);
    else src.copy(this.stage, this.used, start, end);
    this.used += n;
  }

  /** Everything written so far, in order; the writer is empty afterwards. */
  take(): Buffer[] {
    this.cut();
    return this.parts.splice(0, this.parts.length);
  }

  private reserve(n: number): void {
    if (this.used + n <= this.stage.length) return;
    const pending = this.used - this.start;
    const next = Buffer.allocUnsafe(this.stageBytes);
    if (pending + n <= this.stageBytes && this.parts.length === 0) {
      // What this turn staged so far moves to the new stage, so the turn still leaves as ONE buffer: cut here, a
      // proxy's flush of 8 responses (8.5 KB) straddled its 16 KiB stage every other turn and went out as a
      // corked two-part writev (Writable's buffer, clearBuffer, writevGeneric) instead of one write.
      this.stage.copy(next, 0, this.start, this.used);
      this.stage = next;
      this.start = 0;
      this.used = pending;
      return;
    }
    this.cut();
    this.stage = next;
    this.start = this.used = 0;
  }

  private cut(): void {
    if (this.used === this.start) return;
    this.parts.push(this.stage.subarray(this.start, this.used));
    this.start = this.used;
  }
}

export interface FrameHandler {
  /** A whole non-DATA frame: its payload is payload[start, end) (valid only during the call). */
  onFrame(type: number, flags: number, streamId: number, payload: Buffer, start: number, end: number): void;
  /**
   * A whole DATA frame, payload not kept: `flowBytes` is its length for flow control (padding included),
   * `dataBytes` the body bytes it carried.
   */
  onData(streamId: number, flags: number, flowBytes: number, dataBytes: number): void;
  /**
   * Only for a reader built with `readBodies`: DATA body bytes buf[start, end) of `streamId`, padding left out,
   * as they arrive (a frame split across reads comes in several pieces), all before that frame's onData.
   * Valid only during the call.
   */
  onDataBytes?(streamId: number, buf: Buffer, start: number, end: number): void;
}

const AWAIT_HEADER = 0;
const IN_DATA = 1;
const IN_PAYLOAD = 2;

/**
 * Cuts frames out of a byte stream. Frames whole inside a chunk are handed over in place; only a non-DATA
 * frame split across chunks is copied. Throws H2ProtocolError on a frame larger than maxFrameSize.
 */
export class FrameReader {
  private state = AWAIT_HEADER;
  private readonly head = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  private headLen = 0;
  private length = 0;
  private type = 0;
  private flags = 0;
  private streamId = 0;
  /** DATA: payload bytes still to come, and the pad length (-1 until its byte is seen). */
  private left = 0;
  private padLength = 0;
  /** readBodies: body bytes of the current DATA frame not yet handed over. */
  private dataLeft = 0;
  private payload: Buffer | undefined;
  private payloadLen = 0;
  private stopped = false;
  /** Set once, at construction: every unary run leaves it undefined and its DATA is only counted. */
  private readonly dataBytes: ((streamId: number, buf: Buffer, start: number, end: number) => void) | undefined;

  constructor(
    private readonly handler: FrameHandler,
    private readonly maxFrameSize = DEFAULT_MAX_FRAME_SIZE,
    readBodies = false,
  ) {
    if (readBodies && !handler.onDataBytes) throw new TypeError('a FrameReader that reads bodies needs a handler with onDataBytes');
    this.dataBytes = readBodies ? handler.onDataBytes!.bind(handler) : undefined;
  }

  /** Ignores everything from now on (the connection is going away). */
  stop(): void {
    this.stopped = true;
  }

  /** Parses chunk[0, end); nothing of it is kept after the call (the caller may reuse the buffer). */
  push(chunk: Buffer, end = chunk.length): void {
    let pos = 0;
    while (pos < end && !this.stopped) {
      if (this.state === AWAIT_HEADER) {
        if (this.headLen === 0 && end - pos >= FRAME_HEADER_BYTES) {
          this.begin(chunk, pos);
          pos += FRAME_HEADER_BYTES;
        } else {
          const n = Math.min(FRAME_HEADER_BYTES - this.headLen, end - pos);
          chunk.copy(this.head, this.headLen, pos, pos + n);
          this.headLen += n;
          pos += n;
          if (this.headLen < FRAME_HEADER_BYTES) return;
          this.headLen = 0;
          this.begin(this.head, 0);
        }
        if (this.type !== FRAME.DATA && !this.stopped) {
          // A non-DATA frame: hand it over in place when whole, else start collecting it.
          if (end - pos >= this.length) {
            this.handler.onFrame(this.type, this.flags, this.streamId, chunk, pos, pos + this.length);
            pos += this.length;
          } else {
            this.payload = Buffer.allocUnsafe(this.length);
            this.payloadLen = 0;
            this.state = IN_PAYLOAD;
          }
        }
      } else if (this.state === IN_DATA) {
        const n = Math.min(this.left, end - pos);
        if (this.dataBytes !== undefined) this.bodyPiece(chunk, pos, pos + n);
        else if (this.padLength < 0) this.padLength = chunk[pos]!;
        this.left -= n;
        pos += n;
        if (this.left === 0) this.endData();
      } else {
        const payload = this.payload!;
        const n = Math.min(this.length - this.payloadLen, end - pos);
        chunk.copy(payload, this.payloadLen, pos, pos + n);
        this.payloadLen += n;
        pos += n;
        if (this.payloadLen === this.length) {
          this.payload = undefined;
          this.state = AWAIT_HEADER;
          this.handler.onFrame(this.type, this.flags, this.streamId, payload, 0, this.length);
        }
      }
    }
  }

  private begin(buf: Buffer, at: number): void {
    this.length = (buf[at]! << 16) | (buf[at + 1]! << 8) | buf[at + 2]!;
    this.type = buf[at + 3]!;
    this.flags = buf[at + 4]!;
    this.streamId = buf.readUInt32BE(at + 5) & MAX_WINDOW;
    if (this.length > this.maxFrameSize) {
      throw new H2ProtocolError(0x6, `frame of ${this.length} bytes exceeds SETTINGS_MAX_FRAME_SIZE ${this.maxFrameSize}`);
    }
    if (this.type !== FRAME.DATA) return;
    this.state = IN_DATA;
    this.left = this.length;
    this.padLength = this.flags & FLAG.PADDED ? -1 : 0;
    // Padded: the body's length is known once the pad length byte is read.
    this.dataLeft = this.padLength < 0 ? 0 : this.length;
    if (this.length === 0) {
      if (this.padLength < 0) throw new H2ProtocolError(0x1, 'padded DATA frame without a pad length');
      this.endData();
    }
  }

  /** readBodies: a piece [from, to) of the current DATA frame's payload; hands over its body bytes. */
  private bodyPiece(buf: Buffer, from: number, to: number): void {
    if (this.padLength < 0) {
      this.padLength = buf[from++]!;
      this.dataLeft = this.length - 1 - this.padLength;
      // Checked here, before any byte is handed over (endData would find it only at the frame's end).
      if (this.dataLeft < 0) throw new H2ProtocolError(0x1, 'DATA padding exceeds the frame');
    }
    const n = Math.min(this.dataLeft, to - from);
    if (n <= 0) return;
    this.dataLeft -= n;
    this.dataBytes!(this.streamId, buf, from, from + n);
  }

  private endData(): void {
    this.state = AWAIT_HEADER;
    const padded = this.padLength !== 0 || (this.flags & FLAG.PADDED) !== 0;
    const dataBytes = padded ? this.length - 1 - this.padLength : this.length;
    if (dataBytes < 0) throw new H2ProtocolError(0x1, 'DATA padding exceeds the frame');
    this.handler.onData(this.streamId, this.flags, this.length, dataBytes);
  }
}
