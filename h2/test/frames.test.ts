// Frames: every type parsed with RFC 9113's size and stream rules (typed errors, connection or stream level);
// the encoders read back; HEADERS split over CONTINUATION at the max frame size; and, over generated input
// (fast-check), a byte stream cut into any chunks yields the frames one chunk does, and no input makes the
// reader or the parser throw anything but the typed errors; the counting reader and the writer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { H2_ERROR, H2ProtocolError, H2StreamError } from '../errors.js';
import { parseFrame, type Frame } from '../frame-parse.js';
import {
  dataFrame,
  encodeFrame,
  FLAG,
  FRAME,
  FRAME_HEADER_BYTES,
  FrameReader,
  FrameWriter,
  goawayFrame,
  headersFrames,
  pingFrame,
  rstStreamFrame,
  SETTING,
  settingsFrame,
  SETTINGS_ACK,
  windowUpdateFrame,
  type FrameHandler,
} from '../frames.js';

/** Every frame of a stream, as the reader cut it and parseFrame read it (DATA bodies joined from their pieces). */
class Parsed implements FrameHandler {
  readonly frames: unknown[] = [];
  private body: Buffer[] = [];
  onFrame(type: number, flags: number, streamId: number, payload: Buffer, start: number, end: number): void {
    this.frames.push(plain(parseFrame(type, flags, streamId, payload, start, end)));
  }
  onDataBytes(_streamId: number, buf: Buffer, start: number, end: number): void {
    this.body.push(Buffer.from(buf.subarray(start, end)));
  }
  onData(streamId: number, flags: number, flowBytes: number, dataBytes: number): void {
    const data = Buffer.concat(this.body).toString('hex');
    this.body = [];
    this.frames.push({ type: 'DATA', streamId, flags, flowBytes, dataBytes, data });
  }
}

/** Buffers as hex, so frames compare with deepEqual whatever memory they point into. */
function plain(frame: Frame): unknown {
  return JSON.parse(JSON.stringify(frame, (_key, value: unknown) => (isBufferJson(value) ? Buffer.from(value.data).toString('hex') : value))) as unknown;
}
function isBufferJson(value: unknown): value is { type: 'Buffer'; data: number[] } {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer';
}

function readAll(stream: Buffer, cuts: number[] = [], maxFrameSize = 16_384): unknown[] {
  const parsed = new Parsed();
  const reader = new FrameReader(parsed, maxFrameSize, true);
  let from = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < stream.length).sort((a, b) => a - b), stream.length]) {
    reader.push(Buffer.from(stream.subarray(from, cut)));
    from = cut;
  }
  return parsed.frames;
}

const parse = (frame: Buffer): Frame => parseFrame(frame[3]!, frame[4]!, frame.readUInt32BE(5) & 0x7fff_ffff, frame, FRAME_HEADER_BYTES, frame.length);

test('h2 frames: every type parses to its fields', () => {
  const priority = Buffer.from([0x80, 0, 0, 3, 15]);
  const headersPadded = encodeFrame(FRAME.HEADERS, FLAG.PADDED | FLAG.PRIORITY | FLAG.END_HEADERS, 5, Buffer.concat([Buffer.from([2]), priority, Buffer.from([0x82]), Buffer.alloc(2)]));
  assert.deepEqual(plain(parse(headersPadded)), {
    type: 'HEADERS', streamId: 5, endStream: false, endHeaders: true, priority: { exclusive: true, dependsOn: 3, weight: 16 }, fragment: '82', padLength: 2,
  });
  assert.deepEqual(plain(parse(dataFrame(1, Buffer.from('hi'), true, 3))), { type: 'DATA', streamId: 1, endStream: true, data: '6869', padLength: 3, flowBytes: 6 });
  assert.deepEqual(plain(parse(encodeFrame(FRAME.PRIORITY, 0, 7, priority))), { type: 'PRIORITY', streamId: 7, priority: { exclusive: true, dependsOn: 3, weight: 16 } });
  assert.deepEqual(plain(parse(rstStreamFrame(3, 8))), { type: 'RST_STREAM', streamId: 3, code: 8 });
  assert.deepEqual(plain(parse(settingsFrame([[SETTING.MAX_FRAME_SIZE, 32_768], [0x99, 7]]))), { type: 'SETTINGS', ack: false, settings: [[5, 32_768], [0x99, 7]] });
  assert.deepEqual(plain(parse(SETTINGS_ACK)), { type: 'SETTINGS', ack: true, settings: [] });
  assert.deepEqual(plain(parse(encodeFrame(FRAME.PUSH_PROMISE, FLAG.END_HEADERS, 1, Buffer.from([0, 0, 0, 2, 0x82])))), {
    type: 'PUSH_PROMISE', streamId: 1, endHeaders: true, promisedStreamId: 2, fragment: '82', padLength: 0,
  });
  assert.deepEqual(plain(parse(pingFrame(Buffer.from('12345678'), true))), { type: 'PING', ack: true, opaque: Buffer.from('12345678').toString('hex') });
  assert.deepEqual(plain(parse(goawayFrame(9, 0xb, Buffer.from('calm')))), { type: 'GOAWAY', lastStreamId: 9, code: 0xb, debug: Buffer.from('calm').toString('hex') });
  assert.deepEqual(plain(parse(windowUpdateFrame(0, 1000))), { type: 'WINDOW_UPDATE', streamId: 0, increment: 1000 });
  assert.deepEqual(plain(parse(encodeFrame(FRAME.CONTINUATION, FLAG.END_HEADERS, 3, Buffer.from([0x84])))), { type: 'CONTINUATION', streamId: 3, endHeaders: true, fragment: '84' });
  assert.deepEqual(plain(parse(encodeFrame(0x42, 0xff, 3, Buffer.from([1])))), { type: 'UNKNOWN', frameType: 0x42, flags: 0xff, streamId: 3, payload: '01' });
});

const conn = (code: number) => (err: unknown): boolean => err instanceof H2ProtocolError && err.h2Code === code;
const stream = (id: number, code: number) => (err: unknown): boolean => err instanceof H2StreamError && err.h2Code === code && err.streamId === id;
const { PROTOCOL_ERROR, FRAME_SIZE_ERROR, FLOW_CONTROL_ERROR } = H2_ERROR;

test('h2 frames: malformed frames give the typed error RFC 9113 names, at connection or stream level', () => {
  const cases: Array<[string, Buffer, (err: unknown) => boolean]> = [
    ['PING of 7 octets', encodeFrame(FRAME.PING, 0, 0, Buffer.alloc(7)), conn(FRAME_SIZE_ERROR)],
    ['PING on a stream', encodeFrame(FRAME.PING, 0, 1, Buffer.alloc(8)), conn(PROTOCOL_ERROR)],
    ['SETTINGS of 5 octets', encodeFrame(FRAME.SETTINGS, 0, 0, Buffer.alloc(5)), conn(FRAME_SIZE_ERROR)],
    ['SETTINGS ACK with a payload', encodeFrame(FRAME.SETTINGS, FLAG.ACK, 0, Buffer.alloc(6)), conn(FRAME_SIZE_ERROR)],
    ['SETTINGS on a stream', encodeFrame(FRAME.SETTINGS, 0, 3, Buffer.alloc(0)), conn(PROTOCOL_ERROR)],
    ['SETTINGS_ENABLE_PUSH 2', settingsFrame([[SETTING.ENABLE_PUSH, 2]]), conn(PROTOCOL_ERROR)],
    ['SETTINGS_INITIAL_WINDOW_SIZE 2^31', settingsFrame([[SETTING.INITIAL_WINDOW_SIZE, 2 ** 31]]), conn(FLOW_CONTROL_ERROR)],
    ['SETTINGS_MAX_FRAME_SIZE 16383', settingsFrame([[SETTING.MAX_FRAME_SIZE, 16_383]]), conn(PROTOCOL_ERROR)],
    ['SETTINGS_MAX_FRAME_SIZE 2^24', settingsFrame([[SETTING.MAX_FRAME_SIZE, 2 ** 24]]), conn(PROTOCOL_ERROR)],
    ['RST_STREAM of 3 octets', encodeFrame(FRAME.RST_STREAM, 0, 1, Buffer.alloc(3)), conn(FRAME_SIZE_ERROR)],
    ['RST_STREAM on stream 0', rstStreamFrame(0, 8), conn(PROTOCOL_ERROR)],
    ['WINDOW_UPDATE of 5 octets', encodeFrame(FRAME.WINDOW_UPDATE, 0, 1, Buffer.alloc(5)), conn(FRAME_SIZE_ERROR)],
    ['WINDOW_UPDATE increment 0 on the connection', windowUpdateFrame(0, 0), conn(PROTOCOL_ERROR)],
    ['WINDOW_UPDATE increment 0 on a stream', windowUpdateFrame(5, 0), stream(5, PROTOCOL_ERROR)],
    ['PRIORITY of 4 octets', encodeFrame(FRAME.PRIORITY, 0, 3, Buffer.alloc(4)), stream(3, FRAME_SIZE_ERROR)],
    ['PRIORITY on stream 0', encodeFrame(FRAME.PRIORITY, 0, 0, Buffer.alloc(5)), conn(PROTOCOL_ERROR)],
    ['PRIORITY on itself', encodeFrame(FRAME.PRIORITY, 0, 3, Buffer.from([0, 0, 0, 3, 0])), stream(3, PROTOCOL_ERROR)],
    ['GOAWAY of 7 octets', encodeFrame(FRAME.GOAWAY, 0, 0, Buffer.alloc(7)), conn(FRAME_SIZE_ERROR)],
    ['GOAWAY on a stream', encodeFrame(FRAME.GOAWAY, 0, 1, Buffer.alloc(8)), conn(PROTOCOL_ERROR)],
    ['DATA on stream 0', encodeFrame(FRAME.DATA, 0, 0, Buffer.alloc(1)), conn(PROTOCOL_ERROR)],
    ['DATA padding as long as the frame', encodeFrame(FRAME.DATA, FLAG.PADDED, 1, Buffer.from([2, 0])), conn(PROTOCOL_ERROR)],
    ['DATA padded without a pad length', encodeFrame(FRAME.DATA, FLAG.PADDED, 1), conn(FRAME_SIZE_ERROR)],
    ['HEADERS on stream 0', encodeFrame(FRAME.HEADERS, FLAG.END_HEADERS, 0, Buffer.from([0x82])), conn(PROTOCOL_ERROR)],
    ['HEADERS padding beyond the frame', encodeFrame(FRAME.HEADERS, FLAG.PADDED, 1, Buffer.from([5, 0x82])), conn(PROTOCOL_ERROR)],
    ['HEADERS too short for priority', encodeFrame(FRAME.HEADERS, FLAG.PRIORITY, 1, Buffer.alloc(4)), conn(FRAME_SIZE_ERROR)],
    ['PUSH_PROMISE too short', encodeFrame(FRAME.PUSH_PROMISE, 0, 1, Buffer.alloc(3)), conn(FRAME_SIZE_ERROR)],
    ['CONTINUATION on stream 0', encodeFrame(FRAME.CONTINUATION, 0, 0, Buffer.alloc(1)), conn(PROTOCOL_ERROR)],
  ];
  for (const [what, frame, isExpected] of cases) assert.throws(() => parse(frame), isExpected, what);
  // The reader: a frame longer than SETTINGS_MAX_FRAME_SIZE (RFC 9113 4.2), before its payload is read.
  assert.throws(() => readAll(encodeFrame(FRAME.HEADERS, 0, 1, Buffer.alloc(16_385))), conn(FRAME_SIZE_ERROR));
  assert.throws(() => readAll(encodeFrame(FRAME.DATA, 0, 1, Buffer.alloc(16_385)).subarray(0, 9)), conn(FRAME_SIZE_ERROR));
});

test('h2 frames: a header block above the max frame size leaves as HEADERS + CONTINUATION, END_HEADERS on the last', () => {
  const block = Buffer.from(Array.from({ length: 40_000 }, (_, i) => i & 0xff));
  const frames = readAll(headersFrames(1, block, true, 16_384)) as Array<{ type: string; fragment: string; endHeaders: boolean; endStream?: boolean }>;
  assert.deepEqual(frames.map((f) => [f.type, f.fragment.length / 2, f.endHeaders]), [
    ['HEADERS', 16_384, false],
    ['CONTINUATION', 16_384, false],
    ['CONTINUATION', 40_000 - 2 * 16_384, true],
  ]);
  assert.equal(frames[0]!.endStream, true);
  assert.equal(frames.map((f) => f.fragment).join(''), block.toString('hex'));
  assert.deepEqual((readAll(headersFrames(3, Buffer.alloc(0), false)) as Array<{ type: string; endHeaders: boolean }>).map((f) => [f.type, f.endHeaders]), [['HEADERS', true]]);
});

// Frames a peer may send, well formed, so the reader and parser accept them all.
const wellFormed = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 99 }), fc.uint8Array({ maxLength: 300 }), fc.boolean(), fc.option(fc.integer({ min: 0, max: 255 }))).map(([id, data, end, pad]) =>
    dataFrame(id, Buffer.from(data), end, pad ?? undefined),
  ),
  fc.tuple(fc.integer({ min: 1, max: 99 }), fc.uint8Array({ maxLength: 40_000 }), fc.boolean()).map(([id, block, end]) => headersFrames(id, Buffer.from(block), end)),
  fc.array(fc.tuple(fc.integer({ min: 7, max: 0xffff }), fc.nat()), { maxLength: 5 }).map((s) => settingsFrame(s)),
  fc.uint8Array({ minLength: 8, maxLength: 8 }).map((o) => pingFrame(Buffer.from(o), false)),
  fc.tuple(fc.nat(), fc.nat(), fc.uint8Array({ maxLength: 30 })).map(([last, code, debug]) => goawayFrame(last, code, Buffer.from(debug))),
  fc.tuple(fc.nat({ max: 99 }), fc.integer({ min: 1, max: 2 ** 31 - 1 })).map(([id, inc]) => windowUpdateFrame(id, inc)),
  fc.tuple(fc.integer({ min: 1, max: 99 }), fc.nat()).map(([id, code]) => rstStreamFrame(id, code)),
  fc.tuple(fc.integer({ min: 0xa, max: 0xff }), fc.nat({ max: 0xff }), fc.uint8Array({ maxLength: 50 })).map(([type, flags, p]) => encodeFrame(type, flags, 1, Buffer.from(p))),
);

test('h2 frames props: any byte stream cut into arbitrary chunks yields the same frames as one chunk', () => {
  fc.assert(
    fc.property(fc.array(wellFormed, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 30 }), (frames, cuts) => {
      const bytes = Buffer.concat(frames);
      const whole = readAll(bytes);
      assert.ok(whole.length >= frames.length);
      assert.deepEqual(readAll(bytes, cuts.map((c) => c % (bytes.length + 1))), whole);
    }),
    { numRuns: 300 },
  );
});

test('h2 frames props: arbitrary bytes make the reader and the parser throw only the typed errors', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 5 }), (bytes, cuts) => {
      try {
        readAll(Buffer.from(bytes), cuts.map((c) => c % (bytes.length + 1)), 16_384);
      } catch (err) {
        if (!(err instanceof H2ProtocolError || err instanceof H2StreamError)) throw err;
      }
    }),
    { numRuns: 3000 },
  );
  // Frame headers with lengths chosen to straddle every fixed size: type 0..10, lengths 0..12.
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10 }), fc.nat({ max: 0xff }), fc.nat({ max: 5 }), fc.uint8Array({ maxLength: 12 }), (type, flags, id, payload) => {
      try {
        parseFrame(type, flags, id, Buffer.from(payload), 0, payload.length);
      } catch (err) {
        if (!(err instanceof H2ProtocolError || err instanceof H2StreamError)) throw err;
      }
    }),
    { numRuns: 3000 },
  );
});

// Moved from harness/test/load/wire-frames.test.ts (issue 15): the reader in its counting mode (no readBodies)
// cut at fixed sizes, and the FrameWriter, which no other h2/ test drives.

interface Seen {
  type: number;
  flags: number;
  streamId: number;
  payload?: string;
  flowBytes?: number;
  dataBytes?: number;
}

/** The reader without readBodies, as the generator's unary runs use it: DATA counted, never handed over. */
class Collector implements FrameHandler {
  readonly frames: Seen[] = [];
  onFrame(type: number, flags: number, streamId: number, payload: Buffer, start: number, end: number): void {
    this.frames.push({ type, flags, streamId, payload: payload.subarray(start, end).toString('hex') });
  }
  onData(streamId: number, flags: number, flowBytes: number, dataBytes: number): void {
    this.frames.push({ type: FRAME.DATA, flags, streamId, flowBytes, dataBytes });
  }
}

function paddedData(streamId: number, body: Buffer, padding: number, flags: number): Buffer {
  const payload = Buffer.concat([Buffer.from([padding]), body, Buffer.alloc(padding)]);
  return encodeFrame(FRAME.DATA, flags | FLAG.PADDED, streamId, payload);
}

const FRAMES: Buffer[] = [
  settingsFrame([
    [SETTING.ENABLE_PUSH, 0],
    [SETTING.INITIAL_WINDOW_SIZE, 1 << 20],
  ]),
  SETTINGS_ACK,
  encodeFrame(FRAME.HEADERS, FLAG.END_HEADERS, 1, Buffer.from([0x82, 0x86, 0x84])),
  encodeFrame(FRAME.DATA, 0, 1, Buffer.alloc(16_384, 7)),
  paddedData(3, Buffer.from('hello'), 10, FLAG.END_STREAM),
  encodeFrame(FRAME.DATA, FLAG.END_STREAM, 5),
  windowUpdateFrame(0, 1_000_000),
  rstStreamFrame(7, 8),
  pingFrame(Buffer.from('12345678'), true),
  goawayFrame(9, 0, 'bye'),
];

const EXPECTED: Seen[] = [
  { type: FRAME.SETTINGS, flags: 0, streamId: 0, payload: '000200000000' + '000400100000' },
  { type: FRAME.SETTINGS, flags: FLAG.ACK, streamId: 0, payload: '' },
  { type: FRAME.HEADERS, flags: FLAG.END_HEADERS, streamId: 1, payload: '828684' },
  { type: FRAME.DATA, flags: 0, streamId: 1, flowBytes: 16_384, dataBytes: 16_384 },
  { type: FRAME.DATA, flags: FLAG.END_STREAM | FLAG.PADDED, streamId: 3, flowBytes: 16, dataBytes: 5 },
  { type: FRAME.DATA, flags: FLAG.END_STREAM, streamId: 5, flowBytes: 0, dataBytes: 0 },
  { type: FRAME.WINDOW_UPDATE, flags: 0, streamId: 0, payload: '000f4240' },
  { type: FRAME.RST_STREAM, flags: 0, streamId: 7, payload: '00000008' },
  { type: FRAME.PING, flags: FLAG.ACK, streamId: 0, payload: Buffer.from('12345678').toString('hex') },
  { type: FRAME.GOAWAY, flags: 0, streamId: 0, payload: '00000009' + '00000000' + Buffer.from('bye').toString('hex') },
];

test('h2 frames (counting reader): every frame encoded is read back whole from one chunk', () => {
  const collector = new Collector();
  new FrameReader(collector).push(Buffer.concat(FRAMES));
  assert.deepEqual(collector.frames, EXPECTED);
});

test('h2 frames (counting reader): the same stream split at every byte reads back the same', () => {
  const all = Buffer.concat(FRAMES);
  for (const size of [1, 2, 5, 9, 10, 13, 100, 4096]) {
    const collector = new Collector();
    const reader = new FrameReader(collector);
    for (let at = 0; at < all.length; at += size) reader.push(all.subarray(at, at + size));
    assert.deepEqual(collector.frames, EXPECTED, `chunks of ${size}`);
  }
});

test('h2 frames (counting reader): a frame above SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR', () => {
  const reader = new FrameReader(new Collector());
  const big = encodeFrame(FRAME.HEADERS, FLAG.END_HEADERS, 1, Buffer.alloc(16_385));
  assert.throws(
    () => reader.push(big),
    (err: unknown) => err instanceof H2ProtocolError && err.h2Code === FRAME_SIZE_ERROR,
  );
});

test('h2 frames (counting reader): padding longer than the DATA frame is a PROTOCOL_ERROR', () => {
  const reader = new FrameReader(new Collector());
  const bad = encodeFrame(FRAME.DATA, FLAG.PADDED, 1, Buffer.from([9, 1, 2]));
  assert.throws(
    () => reader.push(bad),
    (err: unknown) => err instanceof H2ProtocolError && err.h2Code === PROTOCOL_ERROR,
  );
});

test('h2 frames (counting reader): the writer gives back every frame in order, small ones copied, big payloads by reference', () => {
  const writer = new FrameWriter();
  const body = Buffer.alloc(10_000, 1);
  writer.frame(FRAME.HEADERS, FLAG.END_HEADERS, 1, Buffer.from([0x82]));
  writer.frame(FRAME.DATA, FLAG.END_STREAM, 1, body);
  writer.u32Frame(FRAME.WINDOW_UPDATE, 0, 65_535);
  for (let i = 0; i < 2000; i++) writer.u32Frame(FRAME.RST_STREAM, 2 * i + 3, 8);
  const parts = writer.take();
  assert.ok(writer.empty);
  assert.ok(parts.includes(body), 'the body is written by reference');
  const collector = new Collector();
  new FrameReader(collector).push(Buffer.concat(parts));
  assert.equal(collector.frames.length, 3 + 2000);
  assert.deepEqual(collector.frames[1], { type: FRAME.DATA, flags: FLAG.END_STREAM, streamId: 1, flowBytes: 10_000, dataBytes: 10_000 });
  assert.deepEqual(collector.frames[2], { type: FRAME.WINDOW_UPDATE, flags: 0, streamId: 0, payload: '0000ffff' });
  assert.deepEqual(collector.frames.at(-1), { type: FRAME.RST_STREAM, flags: 0, streamId: 4001, payload: '00000008' });
});

test('h2 frames (counting reader): a turn that outgrows the rest of the stage still leaves as one buffer, earlier slices intact', () => {
  // Stage of 100 bytes: the first turn (three 13-byte frames) leaves 61 bytes; the second turn's 65 do not fit
  // there, so they move to a new stage instead of leaving as a tail and a head (a two-part writev).
  const writer = new FrameWriter(100);
  for (let i = 0; i < 3; i++) writer.u32Frame(FRAME.RST_STREAM, 2 * i + 1, 8);
  const first = writer.take();
  assert.equal(first.length, 1);
  const firstCopy = Buffer.from(first[0]!);
  for (let i = 0; i < 5; i++) writer.u32Frame(FRAME.WINDOW_UPDATE, 2 * i + 1, 1000 + i);
  const second = writer.take();
  assert.equal(second.length, 1, 'one contiguous buffer');
  assert.deepEqual(first[0], firstCopy, 'what the first take handed out is never written again');
  const collector = new Collector();
  new FrameReader(collector).push(second[0]!);
  assert.deepEqual(
    collector.frames.map((f) => [f.type, f.streamId, f.payload]),
    [0, 1, 2, 3, 4].map((i) => [FRAME.WINDOW_UPDATE, 2 * i + 1, (1000 + i).toString(16).padStart(8, '0')]),
  );
  // A turn larger than a whole stage is still cut across stages, every frame in order.
  for (let i = 0; i < 20; i++) writer.u32Frame(FRAME.RST_STREAM, 2 * i + 1, 8);
  const big = writer.take();
  assert.ok(big.length > 1);
  const all = new Collector();
  new FrameReader(all).push(Buffer.concat(big));
  assert.deepEqual(all.frames.map((f) => f.streamId), Array.from({ length: 20 }, (_, i) => 2 * i + 1));
});
