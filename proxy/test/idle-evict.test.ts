// Idle eviction (--idle-evict): once traffic stops, the proxy's upstream connections (h1 keep-alive sockets,
// h2 sessions) close, so the gauge, the backend's open connections and this process's socket handles all go
// back to where they were, and the next request reconnects. A request slower than the idle time is not cut.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { describe, test } from 'node:test';
import { Listener } from '../src/listener.js';
import { closeSession, connectH2, eventually, h1Request, h2Request, metricValue, proxy } from './support.js';

/** One endpoint speaking HTTP/1.1 and h2c (the proxy's own listener sniffs which), answering "ok", or
 *  after `slowMs` on /slow; `connections` is its open TCP connections. */
async function dualBackend(slowMs = 0) {
  const answer = (path: string | undefined, send: () => void): void => {
    if (path === '/slow') setTimeout(send, slowMs);
    else send();
  };
  const h1 = http.createServer((req, res) => answer(req.url, () => res.end('ok')));
  const h2 = http2.createServer();
  h2.on('session', (s) => s.on('error', () => {}));
  h2.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    answer(String(headers[':path']), () => {
      if (stream.destroyed) return;
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
  });
  const listener = new Listener({ h1, h2 });
  const { port } = await listener.listen({ host: '127.0.0.1', port: 0 });
  return {
    port,
    connections: () => listener.sockets.size,
    close: async () => {
      listener.close();
      listener.destroyAll();
    },
  };
}

/** TCP socket handles open in this process (clients, the proxy's both sides, the backends' accepted ones). */
function openSockets(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
}

async function sessions(adminPort: number): Promise<{ h1: number; h2: number }> {
  // Connection: close, so scraping leaves no keep-alive socket behind to count (fetch would keep one).
  const text = (await h1Request(adminPort, { path: '/metrics' })).body.toString();
  return {
    h1: metricValue(text, 'sluice_proxy_upstream_sessions', { protocol: 'h1' }),
    h2: metricValue(text, 'sluice_proxy_upstream_sessions', { protocol: 'h2' }),
  };
}

/** Polls the gauge until it equals `want` or 3 s pass; resolves with the last reading. */
async function sessionsBecome(adminPort: number, want: { h1: number; h2: number }) {
  let got = await sessions(adminPort);
  for (const deadline = Date.now() + 3000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    got = await sessions(adminPort);
    if (got.h1 === want.h1 && got.h2 === want.h2) break;
  }
  return got;
}

describe('idle eviction of upstream connections', { timeout: 20_000 }, () => {
  test('after traffic stops, h1 sockets and h2 sessions close (gauge, backend, handles back to 0) and the next request reconnects', async (t) => {
    const backend = await dualBackend();
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--idle-evict', '300ms']);
    t.after(() => p.stop(0));
    // Before any traffic: the start probe's connection is gone.
    assert.ok(await eventually(() => backend.connections() === 0), 'no connection before traffic');
    const baseline = openSockets();

    const send = async (): Promise<void> => {
      assert.equal((await h1Request(p.listen.port, { path: '/' })).body.toString(), 'ok');
      const client = await connectH2(p.listen.port);
      assert.equal((await h2Request(client, { ':path': '/' })).status, 200);
      await closeSession(client);
    };
    await send();
    assert.deepEqual(await sessions(p.admin.port), { h1: 1, h2: 1 }, 'one keep-alive socket and one session upstream');
    assert.equal(backend.connections(), 2);

    assert.deepEqual(await sessionsBecome(p.admin.port, { h1: 0, h2: 0 }), { h1: 0, h2: 0 });
    assert.ok(await eventually(() => backend.connections() === 0, 3000), `backend still has ${backend.connections()} connections`);
    assert.ok(await eventually(() => openSockets() === baseline, 3000), `${openSockets() - baseline} socket handles left open`);

    await send();
    assert.deepEqual(await sessions(p.admin.port), { h1: 1, h2: 1 }, 'reconnected on demand');
  });

  test('a response slower than --idle-evict is not cut, on h1 or h2', async (t) => {
    const backend = await dualBackend(600);
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--idle-evict', '100ms']);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));
    const [h1, h2] = await Promise.all([h1Request(p.listen.port, { path: '/slow' }), h2Request(client, { ':path': '/slow' })]);
    assert.equal(h1.status, 200);
    assert.equal(h1.body.toString(), 'ok');
    assert.equal(h2.status, 200);
    assert.equal(h2.body.toString(), 'ok');
    assert.equal(h2.rstCode, 0);
  });
});
