// The @grpc/grpc-js client (`client: 'lib'`: clients/grpc.ts, a ConnectionPool of grpc-js channels) through runLoad
// against an in-test @grpc/grpc-js Echo server, and against raw h2 servers standing in for a proxy that resets
// streams or answers with an HTTP error. The wire gRPC client, the default, is wire-grpc.test.ts's.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net, { type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { runLoad, runLoadInThread } from '../../load/run-load.js';
import type { LoadOptions } from '../../load/types.js';
import { closedPort, grpcEchoServer, h2Server, pendingTimers, quickOptions, respond, withClientSockets } from './servers.js';

/** Short-run options for the grpc-js client, named explicitly: gRPC's default client is the wire one. */
function grpcJs(url: string, overrides: Partial<LoadOptions> = {}): LoadOptions {
  return quickOptions(url, 'grpc', { client: 'lib', ...overrides });
}

test('grpc: Echo.Unary calls complete, with rps > 0 and ordered percentiles', async () => {
  const server = await grpcEchoServer();
  try {
    const result = await runLoad(grpcJs(server.url, { bodyBytes: 64, responseBytes: 256 }));
    assert.ok(result.requests > 0 && result.rps > 0);
    assert.deepEqual(result.errors, {});
    const { p50, p90, p99, p999, max, mean } = result.latencyMs;
    assert.ok(p50 > 0 && p50 <= p90 && p90 <= p99 && p99 <= p999 && p999 <= max, JSON.stringify(result.latencyMs));
    assert.ok(mean > 0 && mean <= max);
    assert.equal(result.goawayReceived, undefined);
  } finally {
    await server.close();
  }
});

test('grpc: a status sent by the server is grpc:<STATUS_NAME>', async () => {
  const server = await grpcEchoServer((n) => (n % 5 === 0 ? { code: grpc.status.RESOURCE_EXHAUSTED, details: 'busy' } : undefined));
  try {
    const result = await runLoad(grpcJs(server.url, { durationMs: 400, warmupMs: 0 }));
    assert.deepEqual(Object.keys(result.errors), ['grpc:RESOURCE_EXHAUSTED']);
    const share = (result.errors['grpc:RESOURCE_EXHAUSTED'] ?? 0) / result.requests;
    assert.ok(Math.abs(share - 0.2) < 0.05, `share ${share}`);
  } finally {
    await server.close();
  }
});

test('grpc: a call past its deadline is counted as timeout', async () => {
  const server = await grpcEchoServer(() => 'hang');
  try {
    const result = await runLoad(grpcJs(server.url, { durationMs: 500, warmupMs: 0, timeoutMs: 100, connections: 1 }));
    assert.ok((result.errors['timeout'] ?? 0) > 0, JSON.stringify(result.errors));
    assert.deepEqual(Object.keys(result.errors), ['timeout']);
    // grpc-js resets the calls that had a stream; a call still waiting for the connection has none.
    const cancels = result.rst.sent['CANCEL'] ?? 0;
    assert.ok(cancels > 0 && cancels <= (result.errors['timeout'] ?? 0), `${cancels} CANCEL for ${result.errors['timeout']} timeouts`);
  } finally {
    await server.close();
  }
});

test('grpc: a RST_STREAM(REFUSED_STREAM) is rst:REFUSED_STREAM, not retried', async () => {
  const server = await h2Server((stream) => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM));
  try {
    const result = await runLoad(grpcJs(server.url, { durationMs: 300, warmupMs: 0 }));
    assert.deepEqual(Object.keys(result.errors), ['rst:REFUSED_STREAM']);
    assert.equal(result.rstRate, 1);
  } finally {
    await server.close();
  }
});

test('grpc: an HTTP 503 from a proxy is status:5xx', async () => {
  const server = await h2Server((stream) => respond(stream, 503, 'no healthy upstream'));
  try {
    const result = await runLoad(grpcJs(server.url, { durationMs: 300, warmupMs: 0 }));
    assert.deepEqual(Object.keys(result.errors), ['status:5xx']);
  } finally {
    await server.close();
  }
});

test('grpc: a closed port is ECONNREFUSED', async () => {
  const port = await closedPort();
  const result = await runLoad(grpcJs(`http://127.0.0.1:${port}/`, { durationMs: 300, warmupMs: 0 }));
  assert.deepEqual(Object.keys(result.errors), ['ECONNREFUSED']);
});

test('grpc: each connection is its own TCP connection, and none is left open', async () => {
  const sessions = new Set<http2.ServerHttp2Session>();
  // A minimal gRPC answer from a raw h2 server, so the test sees the connections: an empty EchoReply, status 0.
  const server = await h2Server((stream, _n, session) => {
    sessions.add(session);
    stream.resume();
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
  try {
    const timersBefore = pendingTimers();
    const { result, sockets } = await withClientSockets(() =>
      runLoadInThread(grpcJs(server.url, { durationMs: 300, warmupMs: 0, connections: 3, streamsPerConnection: 2 })),
    );
    assert.ok(result.requests > 0);
    assert.deepEqual(result.errors, {});
    assert.equal(sessions.size, 3);
    assert.equal(sockets.length, 3);
    assert.ok(sockets.every((socket) => socket.destroyed), 'a generator socket is still open');
    assert.ok(pendingTimers() <= timersBefore, `timers ${timersBefore} -> ${pendingTimers()}`);
  } finally {
    await server.close();
  }
});

/** A minimal gRPC answer from a raw h2 server: an empty EchoReply, status 0. */
function answerOk(stream: http2.ServerHttp2Stream): void {
  stream.resume();
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(Buffer.from([0, 0, 0, 0, 0]));
}

test('grpc: the pool times a call out: no grpc-timeout goes out, the call is reset with CANCEL and counted as timeout', async () => {
  let streams = 0;
  const resetWith: number[] = [];
  const grpcTimeouts: string[] = [];
  const server = await h2Server((stream, _n, _session, headers) => {
    streams++;
    if (headers['grpc-timeout'] !== undefined) grpcTimeouts.push(String(headers['grpc-timeout']));
    stream.resume();
    stream.on('close', () => resetWith.push(stream.rstCode));
  });
  try {
    const result = await runLoadInThread(grpcJs(server.url, { durationMs: 400, warmupMs: 0, timeoutMs: 100, connections: 1, streamsPerConnection: 2 }));
    assert.deepEqual(Object.keys(result.errors), ['timeout']);
    const timeouts = result.errors['timeout']!;
    assert.ok(timeouts >= 2, `${timeouts} timeouts`);
    // grpc-js was given no deadline of its own: the deadline is the pool's.
    assert.deepEqual(grpcTimeouts, []);
    // Every timed-out call had its stream (the connection was up): each was reset with CANCEL, as recorded.
    assert.equal(result.rst.sent['CANCEL'], timeouts);
    await server.close();
    assert.ok(streams >= timeouts, `${streams} streams for ${timeouts} timeouts`);
    const cancelled = resetWith.filter((code) => code === http2.constants.NGHTTP2_CANCEL).length;
    assert.ok(cancelled >= timeouts, `${cancelled} streams reset with CANCEL for ${timeouts} timeouts (codes ${resetWith.join(',')})`);
  } finally {
    await server.close();
  }
});

test('grpc: a dead port is retried after the pool back-off (10 ms doubling), not spun on nor left to grpc-js (1 s)', async () => {
  const port = await closedPort();
  const { result, sockets } = await withClientSockets(() =>
    runLoadInThread(grpcJs(`http://127.0.0.1:${port}/`, { durationMs: 300, warmupMs: 0, connections: 1 })),
  );
  assert.deepEqual(Object.keys(result.errors), ['ECONNREFUSED']);
  // Connects at about 0, 10, 30, 70, 150, 310 ms (and the session's first one): a handful, whatever the load.
  // Without a back-off a closed loop would reconnect at every failure; grpc-js's own waits 1 s after the first.
  assert.ok(sockets.length >= 3, `${sockets.length} connects`);
  assert.ok(sockets.length <= 10, `${sockets.length} connects`);
});

test('grpc: calls are spread least busy over the connections, as counted at the server', async () => {
  // The server answers nothing: each connection holds the calls it was given until they time out.
  const perSession = new Map<http2.ServerHttp2Session, number>();
  const server = await h2Server((stream, _n, session) => {
    stream.resume();
    perSession.set(session, (perSession.get(session) ?? 0) + 1);
  });
  try {
    // The run stops starting calls (200 ms) before the first six time out (400 ms): those six are all.
    const result = await runLoadInThread(grpcJs(server.url, { durationMs: 200, warmupMs: 0, timeoutMs: 400, connections: 3, streamsPerConnection: 2 }));
    assert.deepEqual(result.errors, { timeout: 6 });
    assert.deepEqual([...perSession.values()], [2, 2, 2]);
  } finally {
    await server.close();
  }
});

test('grpc: a connection closed by the server (GOAWAY) is replaced by a new channel; its calls were answered first', async () => {
  const sessions = new Set<http2.ServerHttp2Session>();
  const answered = new Map<http2.ServerHttp2Session, number>();
  const server = await h2Server((stream, _n, session) => {
    sessions.add(session);
    answerOk(stream);
    const count = (answered.get(session) ?? 0) + 1;
    answered.set(session, count);
    // A graceful close after 20 calls: GOAWAY(NO_ERROR) with the last stream taken, the streams taken answered.
    if (count === 20) session.close();
  });
  try {
    const result = await runLoadInThread(grpcJs(server.url, { durationMs: 400, warmupMs: 0, connections: 1, streamsPerConnection: 1 }));
    // One call at a time: none is ever above the GOAWAY's last stream, so none fails.
    assert.deepEqual(result.errors, {});
    assert.ok(sessions.size >= 3, `${sessions.size} connections`);
    assert.ok(result.requests >= 40, `${result.requests} requests`);
    assert.ok([...answered.values()].every((n) => n <= 20), 'a channel kept calling after its GOAWAY');
  } finally {
    await server.close();
  }
});

test('grpc: connect() waits for the channels at most timeoutMs; one that never answers is left to the requests', async () => {
  // A TCP server that accepts and says nothing: grpc-js (no connect timeout of its own) would wait for it for ever.
  const sockets = new Set<Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const result = await runLoadInThread(grpcJs(`http://127.0.0.1:${port}/`, { durationMs: 200, warmupMs: 0, timeoutMs: 300, connections: 2, streamsPerConnection: 2 }));
    assert.equal(result.connect?.ready, 0);
    assert.ok((result.connect?.ms ?? 0) >= 290 && (result.connect?.ms ?? Infinity) < 10_000, `connect ${result.connect?.ms} ms`);
    assert.deepEqual(Object.keys(result.errors), ['timeout']);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
