// Timeouts through the real proxy: --request-timeout answers 504 before the response headers and resets with
// CANCEL after them, cancelling the upstream either way; --connect-timeout fails a connect that never completes.
// Timing margins are wide (the machine is shared): a bound that could only fail if the timeout never fired.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type http2 from 'node:http2';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { H2_CODE } from '../src/h2-codes.js';
import { closeSession, connectH2, eventually, h1Backend, h1Request, h2Backend, h2Request, metricValue, proxy, scrapeMetrics } from './support.js';

describe('timeouts through the proxy', { timeout: 20_000 }, () => {
  test('--request-timeout: 504 timeout at about the timeout, and the upstream request is cancelled', async (t) => {
    let upstreamClosed = false;
    const backend = await h1Backend((_req, res) => {
      res.on('close', () => (upstreamClosed = true)); // never answers
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--request-timeout', '300ms']);
    t.after(() => p.stop(0));

    const started = Date.now();
    const res = await h1Request(p.listen.port, { method: 'GET', path: '/' });
    const elapsed = Date.now() - started;
    assert.equal(res.status, 504);
    assert.equal(res.headers['x-sluice-error'], 'timeout');
    assert.ok(elapsed >= 280 && elapsed < 5000, `answered after ${elapsed} ms`);
    assert.ok(await eventually(() => upstreamClosed), 'the upstream request was cancelled');
    const metrics = await scrapeMetrics(p.admin.port);
    assert.equal(metricValue(metrics, 'sluice_proxy_timeouts_total', { kind: 'request' }), 1);
    assert.equal(metricValue(metrics, 'sluice_proxy_requests_total', { status_class: '5xx' }), 1);
  });

  test('--request-timeout after the response headers: the h2 client and the upstream both see CANCEL', async (t) => {
    let upstream: http2.ServerHttp2Stream | undefined;
    const backend = await h2Backend((stream) => {
      upstream = stream;
      stream.respond({ ':status': 200 });
      stream.write('partial'); // and then nothing
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--request-timeout', '300ms']);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    const res = await h2Request(client, { ':method': 'GET', ':path': '/', ':authority': 'svc.test' });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'partial');
    assert.equal(res.rstCode, H2_CODE.CANCEL);
    assert.ok(await eventually(() => upstream?.closed), 'the upstream stream was closed');
    assert.equal(upstream?.rstCode, H2_CODE.CANCEL);
  });

  test('--connect-timeout: a connect that never completes fails as connect-timeout (h1 and h2)', async (t) => {
    // The endpoint must be ready when the request comes (with none ready, the queue holds requests until
    // fail-fast), so each proxy's start-up probe lands in the blocked child's accept queue first; then the
    // queue is filled and the requests' own connects hang. One proxy per protocol: a connect-timeout fails
    // the endpoint, and a second request on the same proxy would wait in the queue instead.
    const { port, fill } = await blackhole(t);
    const args = ['--endpoints', `127.0.0.1:${port}`, '--connect-timeout', '200ms', '--retries', '0'];
    const forH1 = await proxy(args);
    t.after(() => forH1.stop(0));
    const forH2 = await proxy(args);
    t.after(() => forH2.stop(0));
    await fill();

    const h1 = await h1Request(forH1.listen.port, { method: 'GET', path: '/' });
    assert.equal(h1.status, 502);
    assert.equal(h1.headers['x-sluice-error'], 'connect-timeout');
    const client = await connectH2(forH2.listen.port);
    t.after(() => closeSession(client));
    const h2 = await h2Request(client, { ':method': 'GET', ':path': '/', ':authority': 'svc.test' });
    assert.equal(h2.status, 502);
    assert.equal(h2.headers['x-sluice-error'], 'connect-timeout');
    for (const p of [forH1, forH2]) {
      const metrics = await scrapeMetrics(p.admin.port);
      assert.equal(metricValue(metrics, 'sluice_proxy_timeouts_total', { kind: 'connect' }), 1);
    }
  });
});

/** A 127.0.0.1 port whose connects stop completing once `fill` ran: a child process listens with a backlog of 1
 *  and then blocks its event loop, so it accepts nothing; connects still complete while the kernel's accept queue
 *  has room, and `fill` takes that room with filler connections, after which SYNs are dropped. */
async function blackhole(t: { after(fn: () => void | Promise<void>): void }): Promise<{ port: number; fill: () => Promise<void> }> {
  const script = `
    const net = require('node:net');
    const server = net.createServer();
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      console.log(server.address().port);
      setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000), 20);
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    child.kill('SIGKILL');
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const port = Number((await lines.next()).value);
  await new Promise((r) => setTimeout(r, 100)); // the child is blocked by now
  const net = await import('node:net');
  const fill = async (): Promise<void> => {
    // More fillers than the queue can hold; those that do not connect are the proof that it is full.
    const fillers = Array.from({ length: 3 }, () => net.connect(port, '127.0.0.1').on('error', () => {}));
    t.after(() => fillers.forEach((s) => s.destroy()));
    await new Promise((r) => setTimeout(r, 300));
  };
  return { port, fill };
}
