// The HTTP/1.1 client (autocannon) through runLoad: our histogram filled from autocannon's responses,
// status classes, connection errors, and nothing left open.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runLoad, runLoadInThread } from '../../load/run-load.js';
import { closedPort, h1Server, pendingTimers, quickOptions, withClientSockets } from './servers.js';

test('h1: requests complete, with rps > 0 and ordered percentiles', async () => {
  const server = await h1Server();
  const ticks: { phase: string; requests: number }[] = [];
  try {
    const result = await runLoad(quickOptions(server.url, 'h1'), (t) => ticks.push(t));
    assert.ok(result.requests > 0 && result.rps > 0);
    assert.deepEqual(result.errors, {});
    const { p50, p90, p99, p999, max, mean } = result.latencyMs;
    assert.ok(p50 > 0 && p50 <= p90 && p90 <= p99 && p99 <= p999 && p999 <= max, JSON.stringify(result.latencyMs));
    assert.ok(mean > 0 && mean <= max);
    assert.ok(result.durationS >= 0.75 && result.durationS < 2, `durationS ${result.durationS}`);
    assert.ok(result.histogram.startsWith('HISTF'));
    // Warm-up ends with a tick of its own; the measured phase's last tick holds all of its requests.
    assert.deepEqual([...new Set(ticks.map((t) => t.phase))], ['warmup', 'measure']);
    assert.equal(ticks.at(-1)?.requests, result.requests);
  } finally {
    await server.close();
  }
});

test('h1: a 503 answer is status:5xx', async () => {
  const server = await h1Server(503);
  try {
    const result = await runLoad(quickOptions(server.url, 'h1', { durationMs: 400, warmupMs: 0 }));
    assert.ok(result.requests > 0);
    assert.deepEqual(result.errors, { 'status:5xx': result.requests });
  } finally {
    await server.close();
  }
});

test('h1: a 404 answer is status:4xx', async () => {
  const server = await h1Server(404);
  try {
    const result = await runLoad(quickOptions(server.url, 'h1', { durationMs: 300, warmupMs: 0 }));
    assert.deepEqual(Object.keys(result.errors), ['status:4xx']);
  } finally {
    await server.close();
  }
});

test('h1: a closed port is ECONNREFUSED', async () => {
  const port = await closedPort();
  const result = await runLoad(quickOptions(`http://127.0.0.1:${port}/`, 'h1', { durationMs: 300, warmupMs: 0 }));
  assert.ok((result.errors['ECONNREFUSED'] ?? 0) > 0, JSON.stringify(result.errors));
  assert.deepEqual(Object.keys(result.errors), ['ECONNREFUSED']);
});

test('h1: no socket or timer is left open after a run', async () => {
  const server = await h1Server();
  const timersBefore = pendingTimers();
  try {
    const { result, sockets } = await withClientSockets(() => runLoadInThread(quickOptions(server.url, 'h1', { durationMs: 300, warmupMs: 100, connections: 3 })));
    assert.ok(result.requests > 0);
    assert.equal(sockets.length, 3);
    assert.ok(sockets.every((socket) => socket.destroyed), 'a generator socket is still open');
  } finally {
    await server.close();
  }
  assert.ok(pendingTimers() <= timersBefore, `timers ${timersBefore} -> ${pendingTimers()}`);
});

test('h1: an unanswered request is counted as timeout (autocannon waits at least 1 s)', async () => {
  const server = await h1Server('hang');
  try {
    const result = await runLoad(quickOptions(server.url, 'h1', { durationMs: 1300, warmupMs: 0, timeoutMs: 1000, connections: 2 }));
    assert.ok((result.errors['timeout'] ?? 0) >= 2, JSON.stringify(result.errors));
    assert.deepEqual(Object.keys(result.errors), ['timeout']);
  } finally {
    await server.close();
  }
});
