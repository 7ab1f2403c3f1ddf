// How the wire client treats its peer's limits and mistakes: it never opens more streams than the peer's
// SETTINGS_MAX_CONCURRENT_STREAMS (the rest wait, as nghttp2 makes them wait), and a peer that breaks the
// framing gets GOAWAY with the error's code while its requests fail as other:<CODE>.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net, { type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { createH2WireClient } from '../../load/clients/h2-wire.js';
import { initHistograms } from '../../load/statistic/histogram.js';
import { Recorder } from '../../load/statistic/recorder.js';
import type { LoadOptions } from '../../load/types.js';
import { encodeFrame, FRAME, FrameReader, PREFACE, type FrameHandler } from '../../../h2/frames.js';
import type { WirePool } from '../../load/wire/pool.js';
import { quickOptions, measuringRecorder } from './servers.js';

async function withClient(options: LoadOptions, work: (client: WirePool, recorder: Recorder) => Promise<void>): Promise<void> {
  await initHistograms();
  const { recorder, destroy } = measuringRecorder();
  const client = createH2WireClient(options, recorder) as WirePool;
  try {
    await work(client, recorder);
  } finally {
    await client.close();
    destroy();
  }
}

// On both connections: connection.ts's own and the h2/ library's (wire/h2-connection.ts, `wireConnection: 'h2'`).
const on = (c: 'wire' | 'h2'): string => (c === 'h2' ? ' on h2/connection.ts' : '');
for (const wireConnection of ['wire', 'h2'] as const) {
  test(`wire peer${on(wireConnection)}: no more streams than SETTINGS_MAX_CONCURRENT_STREAMS are open at once, and none is refused`, async () => {
    const server = http2.createServer({ settings: { maxConcurrentStreams: 2 } });
    let open = 0;
    let most = 0;
    server.on('stream', (stream) => {
      open++;
      most = Math.max(most, open);
      stream.on('close', () => open--);
      stream.on('error', () => undefined);
      setTimeout(() => {
        stream.respond({ ':status': 200 });
        stream.end('ok');
      }, 5);
    });
    server.on('session', (session) => session.on('error', () => undefined));
    const accepted = new Set<Socket>();
    server.on('connection', (socket: Socket) => accepted.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      await withClient(quickOptions(`http://127.0.0.1:${port}/`, 'h2', { wireConnection, connections: 1, streamsPerConnection: 8 }), async (client, recorder) => {
        // Streams wait for the server's SETTINGS, so even the first ones respect its limit.
        const outcomes = await Promise.allSettled(Array.from({ length: 24 }, () => client.startRequest()));
        assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 24, JSON.stringify(recorder.counts().errors));
        assert.ok(most <= 2, `the server saw ${most} streams at once`);
      });
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  class GoawayWatcher implements FrameHandler {
    goaway: number | undefined;
    onFrame(type: number, _flags: number, _streamId: number, payload: Buffer, start: number): void {
      if (type === FRAME.GOAWAY) this.goaway = payload.readUInt32BE(start + 4);
    }
    onData(): void {}
  }

  test(`wire peer${on(wireConnection)}: a frame larger than allowed is answered with GOAWAY(FRAME_SIZE_ERROR) and fails as other:FRAME_SIZE_ERROR`, async () => {
    const watcher = new GoawayWatcher();
    const accepted = new Set<Socket>();
    const server = net.createServer((socket) => {
      accepted.add(socket);
      let preface = Buffer.alloc(0);
      const reader = new FrameReader(watcher);
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        if (preface.length < PREFACE.length) {
          preface = Buffer.concat([preface, chunk]);
          if (preface.length < PREFACE.length) return;
          chunk = preface.subarray(PREFACE.length);
          // A 20 000-byte frame where 16 384 is the most the client allows.
          socket.write(encodeFrame(FRAME.SETTINGS, 0, 0, Buffer.alloc(20_000)));
        }
        try {
          reader.push(chunk);
        } catch {
          // what the client sends is not under test beyond its GOAWAY
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      await withClient(quickOptions(`http://127.0.0.1:${port}/`, 'h2', { wireConnection, connections: 1 }), async (client, recorder) => {
        await assert.rejects(client.startRequest());
        assert.deepEqual(recorder.counts().errors, { 'other:FRAME_SIZE_ERROR': 1 });
      });
      // The GOAWAY left before the client closed its side.
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(watcher.goaway, 0x6);
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
}
