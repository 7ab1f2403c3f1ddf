// The slow reader: `receiver: 'strict'` with every stream stalled (stallStreams 2^31-1) is an attacker that
// never reads. Against a node:http2 server sending large bodies, each stream's send window at the server
// reaches 0 and stays there; against a server that resets such streams and then closes the connection, the
// record says what happened (stalled streams, their resets, the GOAWAY, the connections the target closed).
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { test } from 'node:test';
import { createH2WireClient } from '../../load/clients/h2-wire.js';
import { LoadOptionsError, MAX_STALL_STREAMS } from '../../load/options.js';
import { runLoad } from '../../load/run-load.js';
import { initHistograms } from '../../load/statistic/histogram.js';
import type { LoadOptions } from '../../load/types.js';
import { h2Server, measuringRecorder, quickOptions } from './servers.js';

const { NGHTTP2_CANCEL, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;
const STREAM_WINDOW = 65_535;
const CONN_WINDOW = 16 * 1024 * 1024;
const BODY = Buffer.alloc(1024 * 1024, 0x61);

const slowReader = (url: string, overrides: Partial<LoadOptions> = {}): LoadOptions =>
  quickOptions(url, 'h2', {
    connections: 1,
    streamsPerConnection: 4,
    receiver: 'strict',
    stallStreams: MAX_STALL_STREAMS,
    h2StreamWindow: STREAM_WINDOW,
    h2ConnWindow: CONN_WINDOW,
    ...overrides,
  });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// On both connections: connection.ts's own and the h2/ library's (wire/h2-connection.ts, `wireConnection: 'h2'`).
const on = (c: 'wire' | 'h2'): string => (c === 'h2' ? ' on h2/connection.ts' : '');
for (const wireConnection of ['wire', 'h2'] as const) {
  test(`slow reader${on(wireConnection)}: the server sends large bodies, every stream stalls: its send windows reach 0 and stay there`, async () => {
    let session: http2.ServerHttp2Session | undefined;
    const open = new Set<http2.ServerHttp2Stream>();
    const server = await h2Server((stream, _n, s) => {
      session = s;
      open.add(stream);
      stream.on('close', () => open.delete(stream));
      stream.resume();
      stream.respond({ ':status': 200, 'content-length': String(BODY.length) });
      stream.end(BODY);
    });
    await initHistograms();
    const { recorder, destroy } = measuringRecorder();
    const client = createH2WireClient(slowReader(server.url, { wireConnection, timeoutMs: 10_000 }), recorder);
    try {
      await client.connect();
      for (let i = 0; i < 4; i++) client.startRequest().catch(() => undefined);
      // The connection window the server may still send into: 16 MiB less what the four streams took. A stream
      // sends at most its window (65 535 bytes), so the sum reaching 4 x 65 535 means each one reached 0.
      const exhausted = CONN_WINDOW - 4 * STREAM_WINDOW;
      const remote = (): number | undefined => session?.state.remoteWindowSize;
      for (let i = 0; i < 200 && remote() !== exhausted; i++) await sleep(10);
      assert.equal(remote(), exhausted, `the server's connection send window: ${remote()}`);
      assert.equal(open.size, 4);
      await sleep(300);
      // No credit came back (strict: unread bytes hold the connection window too), nothing ended.
      assert.equal(remote(), exhausted);
      assert.equal(open.size, 4);
      for (const stream of open) assert.ok(stream.writableLength > 0 || !stream.writableFinished, 'the body is still waiting to go');
      assert.equal(recorder.counts().stalledStreams, 4);
      assert.equal(recorder.counts().requests, 0, 'a stalled stream is no request outcome');
    } finally {
      await client.close();
      destroy();
      await server.close();
    }
  });

  test(`slow reader${on(wireConnection)}: a server that resets stalled streams and then closes the connection: the record says so`, async () => {
    // 256 KiB: the unsent rest of every open stream's body stays under node's maxSessionMemory (10 MB), past
    // which node:http2 itself refuses new streams with RST_STREAM(ENHANCE_YOUR_CALM), and this test would see that.
    const body = BODY.subarray(0, 256 * 1024);
    const started = new Map<http2.ServerHttp2Session, number>();
    const server = await h2Server((stream, _n, session) => {
      stream.resume();
      stream.respond({ ':status': 200, 'content-length': String(body.length) });
      stream.end(body);
      // A reader that holds its window for 150 ms is reset; a connection 400 ms old is closed: node resets its open
      // streams and sends GOAWAY with the code given (with an error; without one the code is NO_ERROR).
      setTimeout(() => {
        if (!stream.closed && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
      }, 150);
      if (!started.has(session)) {
        started.set(session, Date.now());
        setTimeout(() => {
          if (!session.destroyed) session.destroy(new Error('slow reader'), NGHTTP2_ENHANCE_YOUR_CALM);
        }, 400);
      }
    });
    try {
      const r = await runLoad(slowReader(server.url, { wireConnection, durationMs: 1000, warmupMs: 0 }));
      const stalled = r.stalled!;
      assert.ok(stalled.streams >= 8, JSON.stringify(stalled));
      assert.ok((stalled.resetByPeer['CANCEL'] ?? 0) >= 4, JSON.stringify(stalled));
      // Reset before their deadline, they are failures; so are the ones on a connection the server closed.
      assert.ok((r.errors['rst:CANCEL'] ?? 0) >= 4, JSON.stringify(r.errors));
      for (const errorClass of Object.keys(r.errors)) assert.match(errorClass, /^(rst:CANCEL|rst:ENHANCE_YOUR_CALM|goaway:ENHANCE_YOUR_CALM)$/);
      assert.equal(r.successes, 0);
      assert.ok((r.goawayReceived?.['ENHANCE_YOUR_CALM'] ?? 0) >= 1, JSON.stringify(r.goawayReceived));
      assert.ok(r.connections!.closedByPeer >= 1 && r.connections!.opened >= 1, JSON.stringify(r.connections));
      assert.ok(started.size >= 2, `${started.size} connections`);
    } finally {
      await server.close();
    }
  });

  test(`slow reader${on(wireConnection)}: a stall count up to 2^31-1 is accepted, beyond it refused naming stallStreams`, async () => {
    const base = quickOptions('http://127.0.0.1:1/', 'h2', { wireConnection, receiver: 'strict' });
    await assert.rejects(runLoad({ ...base, stallStreams: 2 ** 31 }), (err: unknown) => err instanceof LoadOptionsError && err.option === 'stallStreams');
    const server = await h2Server((stream) => {
      stream.resume();
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    try {
      const r = await runLoad(slowReader(server.url, { wireConnection, durationMs: 200, warmupMs: 0, timeoutMs: 300 }));
      assert.equal(r.requests, 0);
      assert.ok(r.stalled!.streams >= 4, JSON.stringify(r.stalled));
      assert.deepEqual(r.connections, { closedByPeer: 0, opened: 0 });
    } finally {
      await server.close();
    }
  });
}
