// HTTP/1.1 in open loop (node:http keep-alive client, not autocannon): sends on schedule, times from the
// intended send, classifies failures, and leaves nothing open.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { runLoad, runLoadInThread } from '../../load/run-load.js';
import { h1Server, pendingTimers, quickOptions, withClientSockets, type TestServer } from './servers.js';

/** An HTTP/1.1 server answering after `delayMs(n)` for the n-th request. */
async function delayingH1Server(delayMs: (n: number) => number): Promise<TestServer> {
  let n = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    const delay = delayMs(++n);
    const answer = (): void => {
      res.writeHead(200, { 'content-length': '2' });
      res.end('ok');
    };
    if (delay > 0) setTimeout(answer, delay);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('h1 open loop: requests at the rate over keep-alive connections, nothing left open', async () => {
  const server = await h1Server();
  const timersBefore = pendingTimers();
  try {
    const { result: r, sockets } = await withClientSockets(() =>
      runLoadInThread(quickOptions(server.url, 'h1', { rate: 100, connections: 2, durationMs: 1000, warmupMs: 0 })),
    );
    assert.deepEqual(r.errors, {});
    assert.ok(r.requests >= 90 && r.requests <= 101, `requests ${r.requests}`);
    assert.equal(r.openLoop?.targetRps, 100);
    assert.ok(sockets.length >= 1 && sockets.length <= 2, `${sockets.length} connections for 2`);
    assert.ok(sockets.every((socket) => socket.destroyed), 'a generator socket is still open');
  } finally {
    await server.close();
  }
  assert.ok(pendingTimers() <= timersBefore, `timers ${timersBefore} -> ${pendingTimers()}`);
});

test('h1 open loop: with one connection busy 300 ms, the requests queued behind it are timed from their intended send', async () => {
  // The 10th request takes 300 ms; on one connection the ~30 scheduled meanwhile wait for it.
  const server = await delayingH1Server((n) => (n === 10 ? 300 : 0));
  try {
    const r = await runLoad(quickOptions(server.url, 'h1', { rate: 100, connections: 1, durationMs: 1500, warmupMs: 0 }));
    assert.deepEqual(r.errors, {});
    // A closed loop would show one slow request in ~1000; here a fifth of them waited 0-300 ms.
    assert.ok(r.latencyMs.p90 >= 50, JSON.stringify(r.latencyMs));
  } finally {
    await server.close();
  }
});

test('h1 open loop: 503 is status:5xx, an unanswered request is timeout', async () => {
  const failing = await h1Server(503);
  const hanging = await h1Server('hang');
  try {
    const r = await runLoad(quickOptions(failing.url, 'h1', { rate: 50, durationMs: 500, warmupMs: 0 }));
    assert.ok(r.requests > 0);
    assert.deepEqual(r.errors, { 'status:5xx': r.requests });
    const t = await runLoad(quickOptions(hanging.url, 'h1', { rate: 50, durationMs: 600, warmupMs: 0, timeoutMs: 200 }));
    assert.ok((t.errors['timeout'] ?? 0) > 0, JSON.stringify(t.errors));
    assert.deepEqual(Object.keys(t.errors), ['timeout']);
  } finally {
    await failing.close();
    await hanging.close();
  }
});
