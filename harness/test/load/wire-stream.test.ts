// Server streaming on the wire clients: the byte path (DATA bytes handed over in place, padding left out,
// frames split across reads), the message framers (a message split across frames and reads), and whole runs
// against the real backends and against servers here that send fewer messages than asked or no size.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { parseBackendArgs } from '../../../workloads/backends/config.js';
import { start as startGrpcBackend } from '../../../workloads/backends/grpc.js';
import { start as startH2Backend } from '../../../workloads/backends/h2.js';
import type { RunningBackends } from '../../../workloads/backends/types.js';
import { ECHO_LOADER_OPTIONS, ECHO_SERVICE, echoProtoPath } from '../../../workloads/proto/path.js';
import { runLoad } from '../../load/run-load.js';
import { initHistograms, LatencyHistogram } from '../../load/statistic/histogram.js';
import type { LoadOptions, RepResult } from '../../load/types.js';
import { FLAG, FRAME, FrameReader, H2ProtocolError, writeFrameHeader, type FrameHandler } from '../../../h2/frames.js';
import { FixedFramer, GrpcFramer } from '../../load/wire/messages.js';
import { h2Server, quickOptions } from './servers.js';

function dataFrame(streamId: number, data: Buffer, flags = 0, padding?: number): Buffer {
  const padded = padding !== undefined;
  const length = data.length + (padded ? 1 + padding : 0);
  const frame = Buffer.alloc(9 + length, 0xee);
  writeFrameHeader(frame, 0, length, FRAME.DATA, flags | (padded ? FLAG.PADDED : 0), streamId);
  if (padded) frame[9] = padding;
  data.copy(frame, padded ? 10 : 9);
  return frame;
}

/** Records what a body-reading FrameReader hands over, in order. */
function recordingHandler(): FrameHandler & { events: string[]; bodies: Map<number, Buffer[]> } {
  const events: string[] = [];
  const bodies = new Map<number, Buffer[]>();
  return {
    events,
    bodies,
    onFrame: (type) => events.push(`frame ${type}`),
    onData: (streamId, _flags, flowBytes, dataBytes) => events.push(`data ${streamId} ${flowBytes} ${dataBytes}`),
    onDataBytes: (streamId, buf, start, end) => {
      // Copied: the buffer is only valid during the call.
      bodies.set(streamId, [...(bodies.get(streamId) ?? []), Buffer.from(buf.subarray(start, end))]);
      events.push(`bytes ${streamId}`);
    },
  };
}

const bodyA = Buffer.from('the first body, padded');
const bodyB = Buffer.from('the second');
const wire = Buffer.concat([dataFrame(1, bodyA, 0, 5), dataFrame(3, bodyB, FLAG.END_STREAM), dataFrame(1, Buffer.alloc(0), FLAG.END_STREAM, 2)]);

test('wire stream: DATA bytes are handed over whole, padding left out, at every split of the reads', () => {
  const splits: number[][] = [];
  for (let s = 0; s <= wire.length; s++) splits.push([s]);
  splits.push(Array.from({ length: wire.length }, (_, i) => i + 1)); // byte by byte
  for (const cuts of splits) {
    const handler = recordingHandler();
    const reader = new FrameReader(handler, undefined, true);
    let from = 0;
    for (const cut of [...cuts, wire.length]) {
      // Each read lands in a reused buffer, as the transport's: pass a copy that is overwritten afterwards.
      const chunk = Buffer.from(wire.subarray(from, cut));
      reader.push(chunk, chunk.length);
      chunk.fill(0);
      from = cut;
    }
    const label = `reads cut at ${cuts.join(',')}`;
    assert.deepEqual(Buffer.concat(handler.bodies.get(1) ?? []), bodyA, label);
    assert.deepEqual(Buffer.concat(handler.bodies.get(3) ?? []), bodyB, label);
    const ends = handler.events.filter((e) => e.startsWith('data'));
    assert.deepEqual(ends, [`data 1 ${bodyA.length + 6} ${bodyA.length}`, `data 3 ${bodyB.length} ${bodyB.length}`, 'data 1 3 0'], label);
    // Every byte of a frame comes before its onData.
    const lastBytesOf3 = handler.events.lastIndexOf('bytes 3');
    assert.ok(lastBytesOf3 < handler.events.indexOf(`data 3 ${bodyB.length} ${bodyB.length}`), label);
  }
});

test('wire stream: a reader that does not read bodies hands no byte over; padding past the frame is refused before any byte', () => {
  const handler = recordingHandler();
  new FrameReader(handler).push(wire);
  assert.equal(handler.bodies.size, 0);
  assert.equal(handler.events.length, 3);
  const bad = dataFrame(1, Buffer.from('abc'), 0, 0);
  bad[9] = 200; // a pad length beyond the frame
  const reading = recordingHandler();
  assert.throws(() => new FrameReader(reading, undefined, true).push(bad), (err: unknown) => err instanceof H2ProtocolError && err.h2Code === 0x1);
  assert.equal(reading.bodies.size, 0);
});

function stampedBody(size: number, stamps: readonly number[]): Buffer {
  return Buffer.concat(
    stamps.map((stamp) => {
      const message = Buffer.alloc(size, 0x61);
      message.writeDoubleLE(stamp, 0);
      return message;
    }),
  );
}

/** Pushes `body` into a framer cut at `cuts` and returns the stamps it reported. */
function frame(make: (sink: { onMessage(stamp: number): void }) => FixedFramer | GrpcFramer, body: Buffer, cuts: number[]): { stamps: number[]; partial: boolean } {
  const stamps: number[] = [];
  const framer = make({ onMessage: (stamp) => stamps.push(stamp) });
  let from = 0;
  for (const cut of [...cuts, body.length]) {
    // Pieces arrive at an offset of a larger buffer, as they do from the frame reader.
    const piece = Buffer.concat([Buffer.alloc(3), body.subarray(from, cut), Buffer.alloc(2)]);
    framer.push(piece, 3, piece.length - 2);
    from = cut;
  }
  return { stamps, partial: framer.partial };
}

test('wire stream: fixed-size messages are cut apart at every split, stamps read even when split', () => {
  const stamps = [1_700_000_000_000.25, 1_700_000_000_001.5, 1_700_000_000_002.75];
  for (const size of [8, 9, 20]) {
    const body = stampedBody(size, stamps);
    for (let a = 0; a <= body.length; a++) {
      for (let b = a; b <= body.length; b += 3) {
        const got = frame((sink) => new FixedFramer(size, sink), body, [a, b]);
        assert.deepEqual(got, { stamps, partial: false }, `size ${size}, cuts ${a},${b}`);
      }
    }
    const cut = frame((sink) => new FixedFramer(size, sink), body.subarray(0, body.length - 1), []);
    assert.deepEqual(cut, { stamps: stamps.slice(0, 2), partial: true });
  }
  assert.throws(() => new FixedFramer(7, { onMessage: () => undefined }), RangeError);
});

/** A gRPC message: flag, length, then EchoReply {bytes payload = 1} (or `raw` as the message itself). */
function grpcMessage(payload: Buffer | undefined, compressed = false, raw?: Buffer): Buffer {
  const varint: number[] = [];
  for (let n = payload?.length ?? 0; ; n >>>= 7) {
    if (n < 0x80) {
      varint.push(n);
      break;
    }
    varint.push((n & 0x7f) | 0x80);
  }
  const message = raw ?? (payload ? Buffer.concat([Buffer.from([0x0a, ...varint]), payload]) : Buffer.alloc(0));
  const prefix = Buffer.alloc(5);
  prefix[0] = compressed ? 1 : 0;
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

function stamped(size: number, stamp: number): Buffer {
  const payload = Buffer.alloc(size, 0x62);
  payload.writeDoubleLE(stamp, 0);
  return payload;
}

test('wire stream: gRPC messages are cut apart at every split; one without a readable stamp reads as NaN', () => {
  const body = Buffer.concat([
    grpcMessage(stamped(8, 10.5)),
    grpcMessage(stamped(300, 11.5)), // a two-byte varint length
    grpcMessage(undefined), // an empty EchoReply: no payload, no stamp
    grpcMessage(stamped(20, 12.5), true), // compressed: unreadable here
    grpcMessage(Buffer.alloc(4)), // a payload under 8 bytes
    grpcMessage(undefined, false, Buffer.from([0x10, 0x01])), // not the payload field
    grpcMessage(stamped(16, 13.5)),
  ]);
  const expected = [10.5, 11.5, NaN, NaN, NaN, NaN, 13.5];
  for (let a = 0; a <= body.length; a++) {
    assert.deepEqual(frame((sink) => new GrpcFramer(sink), body, [a]), { stamps: expected, partial: false }, `cut at ${a}`);
  }
  const byteByByte = Array.from({ length: body.length }, (_, i) => i + 1);
  assert.deepEqual(frame((sink) => new GrpcFramer(sink), body, byteByByte), { stamps: expected, partial: false });
  assert.equal(frame((sink) => new GrpcFramer(sink), body.subarray(0, 3), []).partial, true);
});

test('wire stream: a gRPC message split across DATA frames (one padded) and reads parses right', () => {
  const messages = Buffer.concat([grpcMessage(stamped(40, 21.25)), grpcMessage(stamped(9, 22.25))]);
  // The two messages cut into three DATA frames at odd places, the middle one padded.
  const frames = Buffer.concat([dataFrame(1, messages.subarray(0, 7)), dataFrame(1, messages.subarray(7, 50), 0, 3), dataFrame(1, messages.subarray(50), FLAG.END_STREAM)]);
  for (let cut = 0; cut <= frames.length; cut++) {
    const stamps: number[] = [];
    const framer = new GrpcFramer({ onMessage: (stamp) => stamps.push(stamp) });
    const reader = new FrameReader({ onFrame: () => undefined, onData: () => undefined, onDataBytes: (_id, buf, start, end) => framer.push(buf, start, end) }, undefined, true);
    reader.push(frames.subarray(0, cut));
    reader.push(frames.subarray(cut));
    assert.deepEqual(stamps, [21.25, 22.25], `reads cut at ${cut}`);
    assert.equal(framer.partial, false);
  }
});

async function backends(protocol: 'h2' | 'grpc', ...flags: string[]): Promise<RunningBackends> {
  const command = parseBackendArgs(['--protocol', protocol, '--latency', '1ms', ...flags]);
  assert.equal(command.kind, 'run');
  return protocol === 'h2' ? startH2Backend(command.config) : startGrpcBackend(command.config);
}

function streamingOptions(url: string, protocol: 'h2' | 'grpc', overrides: Partial<LoadOptions> = {}): LoadOptions {
  return quickOptions(url, protocol, { scenario: 'server-streaming', streamMessages: 7, responseBytes: 1000, durationMs: 600, warmupMs: 100, ...overrides });
}

/** The run's streaming figures agree: N messages per stream, as many latencies in the histogram, plausible values. */
async function assertStreams(r: RepResult, perStream: number): Promise<void> {
  assert.ok(r.requests > 10, `requests ${r.requests}`);
  assert.equal(r.successes, r.requests, JSON.stringify(r.errors));
  const s = r.streaming;
  assert.ok(s, 'streaming figures');
  assert.equal(s.messages, perStream * r.requests);
  assert.ok(Math.abs(s.messagesPerS - s.messages / r.durationS) < 1e-6);
  await initHistograms();
  const histogram = LatencyHistogram.decode(s.messageHistogram);
  try {
    assert.equal(histogram.count, perStream * r.requests);
  } finally {
    histogram.destroy();
  }
  // From the backend's stamp to the read: on one machine, well under the request's own latency bound.
  assert.ok(s.messageLatencyMs.p50 > 0 && s.messageLatencyMs.p50 < 1000, JSON.stringify(s.messageLatencyMs));
  assert.ok(s.messageLatencyMs.max <= r.latencyMs.max + 1, 'no message waits longer than the slowest stream');
}

// On both connections: connection.ts's own and the h2/ library's (wire/h2-connection.ts, `wireConnection: 'h2'`).
const on = (c: 'wire' | 'h2'): string => (c === 'h2' ? ' on h2/connection.ts' : '');
for (const wireConnection of ['wire', 'h2'] as const) {
  test(`wire stream${on(wireConnection)}: h2 server streaming against the h2 backend: N messages of M bytes per stream, each timed`, async () => {
    const running = await backends('h2');
    try {
      const url = `http://127.0.0.1:${running.ports[0]}/`;
      await assertStreams(await runLoad(streamingOptions(url, 'h2', { wireConnection })), 7);
      // Without responseBytes the backend's own size is used, announced in x-sluice-message-bytes.
      await assertStreams(await runLoad(streamingOptions(url, 'h2', { wireConnection, responseBytes: undefined, streamMessages: 3 })), 3);
      // A message larger than the 65 535-byte stream window, split over many frames and window updates.
      await assertStreams(await runLoad(streamingOptions(url, 'h2', { wireConnection, responseBytes: 100_000, streamMessages: 2, connections: 1, streamsPerConnection: 2 })), 2);
    } finally {
      await running.close();
    }
  });

  test(`wire stream${on(wireConnection)}: gRPC server streaming against the gRPC backend: N replies per call, each timed`, async () => {
    const running = await backends('grpc');
    try {
      const url = `http://127.0.0.1:${running.ports[0]}/`;
      await assertStreams(await runLoad(streamingOptions(url, 'grpc', { wireConnection })), 7);
      await assertStreams(await runLoad(streamingOptions(url, 'grpc', { wireConnection, responseBytes: 70_000, streamMessages: 2, connections: 1, streamsPerConnection: 2 })), 2);
    } finally {
      await running.close();
    }
  });

  /** An h2 stream of `count` stamped messages of `size` bytes, announcing its size unless told not to. */
  function sendMessages(stream: http2.ServerHttp2Stream, count: number, size: number, announce = true): void {
    stream.resume();
    stream.respond({ ':status': 200, ...(announce ? { 'x-sluice-message-bytes': String(size) } : {}) });
    for (let i = 0; i < count; i++) stream.write(stampedBody(size, [performance.timeOrigin + performance.now()]));
    stream.end();
  }

  test(`wire stream${on(wireConnection)}: h2 streams with fewer messages than asked, or a part of one, are truncated; no message size is a bad message`, async () => {
    const server = await h2Server((stream, n) => {
      if (n % 3 === 0) sendMessages(stream, 7, 64);
      else if (n % 3 === 1) sendMessages(stream, 6, 64);
      else {
        // Six and a half.
        stream.resume();
        stream.respond({ ':status': 200, 'x-sluice-message-bytes': '64' });
        stream.end(stampedBody(64, [1, 2, 3, 4, 5, 6, 7]).subarray(0, 64 * 6 + 32));
      }
    });
    try {
      const r = await runLoad(streamingOptions(server.url, 'h2', { wireConnection, responseBytes: undefined, warmupMs: 0 }));
      assert.ok(r.requests > 10);
      // One stream in three is whole.
      assert.ok(r.successes > r.requests * 0.25 && r.successes < r.requests * 0.42, `successes ${r.successes} of ${r.requests}`);
      assert.deepEqual(Object.keys(r.errors), ['truncated']);
      assert.equal(r.errors['truncated'], r.requests - r.successes);
      // Every whole message counts, on failed streams too.
      assert.ok((r.streaming?.messages ?? 0) >= 7 * r.successes + 6 * (r.requests - r.successes), JSON.stringify(r.streaming));
    } finally {
      await server.close();
    }
    const unannounced = await h2Server((stream) => sendMessages(stream, 7, 64, false));
    try {
      const r = await runLoad(streamingOptions(unannounced.url, 'h2', { wireConnection, responseBytes: undefined, durationMs: 300, warmupMs: 0 }));
      assert.ok(r.requests > 0);
      assert.deepEqual(r.errors, { 'other:BAD_MESSAGE': r.requests });
    } finally {
      await unannounced.close();
    }
  });

  test(`wire stream${on(wireConnection)}: a gRPC stream with fewer replies than asked is truncated`, async () => {
    const definition = protoLoader.loadSync(echoProtoPath(), ECHO_LOADER_OPTIONS);
    const server = new grpc.Server();
    server.addService(definition[ECHO_SERVICE] as unknown as grpc.ServiceDefinition, {
      ServerStream: (call: grpc.ServerWritableStream<{ messages: number; response_bytes: number }, { payload: Buffer }>) => {
        for (let i = 0; i < call.request.messages - 1; i++) call.write({ payload: stamped(call.request.response_bytes, performance.timeOrigin + performance.now()) });
        call.end();
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    try {
      const r = await runLoad(streamingOptions(`http://127.0.0.1:${port}/`, 'grpc', { wireConnection, durationMs: 400, warmupMs: 0, responseBytes: 32 }));
      assert.ok(r.requests > 0);
      assert.deepEqual(r.errors, { truncated: r.requests });
      assert.equal(r.streaming?.messages, 6 * r.requests);
    } finally {
      server.forceShutdown();
    }
  });

  test(`wire stream${on(wireConnection)}: unary runs keep no message histogram`, async () => {
    const server = await h2Server((stream) => sendMessages(stream, 1, 8));
    try {
      const r = await runLoad(quickOptions(server.url, 'h2', { wireConnection, durationMs: 200, warmupMs: 0 }));
      assert.ok(r.successes > 0);
      assert.equal(r.streaming, undefined);
    } finally {
      await server.close();
    }
  });
}
