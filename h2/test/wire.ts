// Test helpers: an in-memory transport that records what a connection writes, parsed back into frames, and
// frame builders for a scripted peer.
import { parseFrame, type Frame } from '../frame-parse.js';
import { encodeFrame, FLAG, FRAME, FrameReader, headersFrames, PREFACE, settingsFrame } from '../frames.js';
import { HpackDecoder } from '../hpack/decoder.js';
import { HpackEncoder, type HeaderList } from '../hpack/encoder.js';
import type { CloseReason, H2Listener, Transport } from '../connection.js';

/** A frame as the connection wrote it; HEADERS come with their decoded fields. */
export type Written = Frame & { fields?: Array<[string, string]> };

export class MemoryTransport implements Transport {
  readonly frames: Written[] = [];
  bytes = 0;
  ended = false;
  destroyed = false;
  /** write() returns this (false: the peer does not read). */
  accept = true;
  private skip = 0;
  private pieces: Buffer[] = [];
  private readonly decoder = new HpackDecoder(4096, Infinity);
  private readonly reader = new FrameReader(
    {
      onFrame: (type, flags, streamId, payload, start, end) => {
        const f: Written = parseFrame(type, flags, streamId, payload, start, end);
        if (f.type === 'HEADERS') {
          const fields: Array<[string, string]> = [];
          // Our connection never splits blocks in these tests unless told; CONTINUATION is left raw.
          if (f.endHeaders) this.decoder.decode(f.fragment, 0, f.fragment.length, { onHeader: (n, v) => fields.push([n, v]) });
          f.fields = fields;
        }
        this.frames.push(structuredCloneFrame(f));
      },
      onData: (streamId, flags, flowBytes) => {
        this.frames.push({ type: 'DATA', streamId, endStream: (flags & FLAG.END_STREAM) !== 0, data: Buffer.concat(this.pieces), padLength: 0, flowBytes });
        this.pieces = [];
      },
      onDataBytes: (_id, buf, start, end) => {
        this.pieces.push(Buffer.from(buf.subarray(start, end)));
      },
    },
    (1 << 24) - 1,
    true,
  );

  constructor(private readonly clientSide = false) {
    // A server's connection is read as a client reads it: no preface to skip. A client's starts with the preface.
    this.skip = clientSide ? PREFACE.length : 0;
  }

  write(buf: Buffer): boolean {
    this.bytes += buf.length;
    let chunk = buf;
    if (this.skip > 0) {
      const n = Math.min(this.skip, chunk.length);
      this.skip -= n;
      chunk = chunk.subarray(n);
    }
    this.reader.push(chunk);
    return this.accept;
  }

  end(): void {
    this.ended = true;
  }

  destroy(): void {
    this.destroyed = true;
  }

  of<T extends Written['type']>(type: T): Array<Extract<Written, { type: T }>> {
    return this.frames.filter((f): f is Extract<Written, { type: T }> => f.type === type);
  }
}

function structuredCloneFrame(f: Written): Written {
  const copy: Record<string, unknown> = { ...f };
  for (const [k, v] of Object.entries(copy)) if (Buffer.isBuffer(v)) copy[k] = Buffer.from(v);
  return copy as Written;
}

/** Records every event of a connection. */
export class Recorder implements H2Listener {
  readonly events: Array<[string, ...unknown[]]> = [];
  closed: CloseReason | undefined;
  readonly data = new Map<number, Buffer[]>();
  onHeaders(streamId: number, headers: Array<[string, string]>, endStream: boolean): void {
    this.events.push(['headers', streamId, headers, endStream]);
  }
  onData(streamId: number, data: Buffer, endStream: boolean): void {
    this.events.push(['data', streamId, data.length, endStream]);
    const list = this.data.get(streamId) ?? [];
    list.push(Buffer.from(data));
    this.data.set(streamId, list);
  }
  onReset(streamId: number, code: number, local: boolean): void {
    this.events.push(['reset', streamId, code, local]);
  }
  onGoaway(lastStreamId: number, code: number): void {
    this.events.push(['goaway', lastStreamId, code]);
  }
  onSettings(): void {
    this.events.push(['settings']);
  }
  onPingAck(opaque: Buffer): void {
    this.events.push(['pingAck', opaque.toString('hex')]);
  }
  onClose(reason: CloseReason): void {
    this.closed = reason;
    this.events.push(['close', reason.code]);
  }
}

/** Frames of a scripted client. */
export class FakeClient {
  readonly encoder = new HpackEncoder();
  preface(settings: ReadonlyArray<readonly [number, number]> = []): Buffer {
    return Buffer.concat([PREFACE, settingsFrame(settings)]);
  }
  headers(streamId: number, headers: HeaderList, endStream: boolean, maxFrameSize = 16_384): Buffer {
    return headersFrames(streamId, this.encoder.encode(headers), endStream, maxFrameSize);
  }
  /** A block of literals without indexing, no Huffman, written as given (upper-case names too): for malformed messages. */
  raw(streamId: number, headers: HeaderList, endStream: boolean): Buffer {
    const parts: Buffer[] = [];
    for (const [name, value] of headers) {
      const n = Buffer.from(name, 'latin1');
      const v = Buffer.from(value, 'latin1');
      if (n.length > 126 || v.length > 126) throw new RangeError('raw(): fields up to 126 octets');
      parts.push(Buffer.from([0x00, n.length]), n, Buffer.from([v.length]), v);
    }
    return encodeFrame(FRAME.HEADERS, FLAG.END_HEADERS | (endStream ? FLAG.END_STREAM : 0), streamId, Buffer.concat(parts));
  }
  get(streamId: number, path = '/', endStream = true): Buffer {
    return this.headers(streamId, [[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', path]], endStream);
  }
}

export const frame = (type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer => encodeFrame(type, flags, streamId, payload);
export const data = (streamId: number, bytes: number | Buffer, end = false): Buffer =>
  encodeFrame(FRAME.DATA, end ? FLAG.END_STREAM : 0, streamId, typeof bytes === 'number' ? Buffer.alloc(bytes, 0x61) : bytes);
export const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
};
