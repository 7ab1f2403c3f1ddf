// The wire layer's frames: what the encoders write is what the reader cuts back out, whole or split at any
// byte, and the writer hands the socket exactly the bytes it was given, in order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  encodeFrame,
  FLAG,
  FRAME,
  FrameReader,
  FrameWriter,
  goawayFrame,
  H2ProtocolError,
  pingFrame,
  rstStreamFrame,
  SETTING,
  settingsFrame,
  SETTINGS_ACK,
  windowUpdateFrame,
  type FrameHandler,
} from '../../../h2/frames.js';

interface Seen {
  type: number;
  flags: number;
  streamId: number;
  payload?: string;
  flowBytes?: number;
  dataBytes?: number;
}

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

test('wire frames: every frame encoded is read back whole from one chunk', () => {
  const collector = new Collector();
  new FrameReader(collector).push(Buffer.concat(FRAMES));
  assert.deepEqual(collector.frames, EXPECTED);
});

test('wire frames: the same stream split at every byte reads back the same', () => {
  const all = Buffer.concat(FRAMES);
  for (const size of [1, 2, 5, 9, 10, 13, 100, 4096]) {
    const collector = new Collector();
    const reader = new FrameReader(collector);
    for (let at = 0; at < all.length; at += size) reader.push(all.subarray(at, at + size));
    assert.deepEqual(collector.frames, EXPECTED, `chunks of ${size}`);
  }
});

test('wire frames: a frame above SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR', () => {
  const reader = new FrameReader(new Collector());
  const big = encodeFrame(FRAME.HEADERS, FLAG.END_HEADERS, 1, Buffer.alloc(16_385));
  assert.throws(
    () => reader.push(big),
    (err: unknown) => err instanceof H2ProtocolError && err.h2Code === 0x6,
  );
});

test('wire frames: padding longer than the DATA frame is a PROTOCOL_ERROR', () => {
  const reader = new FrameReader(new Collector());
  const bad = encodeFrame(FRAME.DATA, FLAG.PADDED, 1, Buffer.from([9, 1, 2]));
  assert.throws(
    () => reader.push(bad),
    (err: unknown) => err instanceof H2ProtocolError && err.h2Code === 0x1,
  );
});

test('wire frames: the writer gives back every frame in order, small ones copied, big payloads by reference', () => {
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
