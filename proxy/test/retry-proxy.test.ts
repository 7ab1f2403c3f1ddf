// Retries through the real proxy and real sockets: a reset GET succeeds on its retry, a POST only when it is
// safe (REFUSED_STREAM, body still buffered), a refused endpoint's requests go to the other one, and the budget
// stops retrying once spent. Backends count attempts themselves, so each assertion is about what crossed the wire.
import assert from 'node:assert/strict';
import type http2 from 'node:http2';
import { describe, test } from 'node:test';
import { H2_CODE } from '../src/h2-codes.js';
import { closeSession, connectH2, h1Backend, h1Request, h2Backend, h2Request, metricValue, proxy, scrapeMetrics } from './support.js';

const GET = { ':method': 'GET', ':path': '/', ':authority': 'svc.test' };

/** Reads a server stream's whole request body. */
function bodyOf(stream: http2.ServerHttp2Stream): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

describe('retries through the proxy', { timeout: 20_000 }, () => {
  test('a GET whose first attempt is reset succeeds on the retry; a POST reset the same way is not retried', async (t) => {
    const attempts = new Map<string, number>();
    const backend = await h2Backend((stream, headers) => {
      const id = String(headers['x-test-id']);
      const n = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, n);
      if (n === 1) return void stream.close(H2_CODE.INTERNAL_ERROR);
      stream.respond({ ':status': 200 });
      stream.end(`attempt ${n}`);
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`]);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    const get = await h2Request(client, { ...GET, 'x-test-id': 'get' });
    assert.equal(get.status, 200);
    assert.equal(get.body.toString(), 'attempt 2');

    const post = await h2Request(client, { ...GET, ':method': 'POST', 'x-test-id': 'post' }, Buffer.from('x'));
    assert.equal(post.status, undefined, 'no response, a reset');
    assert.equal(post.rstCode, H2_CODE.INTERNAL_ERROR, 'the upstream reset passed on');
    assert.equal(attempts.get('post'), 1, 'a POST is never sent twice after a reset other than REFUSED_STREAM');

    const metrics = await scrapeMetrics(p.admin.port);
    assert.equal(metricValue(metrics, 'sluice_proxy_retries_total', { reason: 'upstream-reset:INTERNAL_ERROR' }), 1);
  });

  test('REFUSED_STREAM: a POST with a buffered body is retried with its whole body; one past --retry-buffer-bytes is not', async (t) => {
    const attempts = new Map<string, number>();
    const bodies: number[] = [];
    // Reads the whole body, then refuses the first attempt (so the proxy has streamed all of it by then).
    const backend = await h2Backend(async (stream, headers) => {
      const id = String(headers['x-test-id']);
      const n = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, n);
      const body = await bodyOf(stream);
      if (n === 1) return void stream.close(H2_CODE.REFUSED_STREAM);
      bodies.push(body.length);
      stream.respond({ ':status': 200 }, { endStream: true });
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--retry-buffer-bytes', '1024']);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));
    const POST = { ...GET, ':method': 'POST' };

    const small = await h2Request(client, { ...POST, 'x-test-id': 'small' }, Buffer.alloc(1000, 7));
    assert.equal(small.status, 200);
    assert.equal(attempts.get('small'), 2);
    assert.deepEqual(bodies, [1000], 'the retry carried the whole body');

    const large = await h2Request(client, { ...POST, 'x-test-id': 'large' }, Buffer.alloc(64 * 1024, 7));
    assert.equal(large.status, undefined);
    assert.equal(large.rstCode, H2_CODE.REFUSED_STREAM);
    assert.equal(attempts.get('large'), 1, 'a body that was streamed and not kept is never sent again');
  });

  test('a refused endpoint among two: its requests are retried onto the other (POST too: nothing was written)', async (t) => {
    const hits = { a: 0, b: 0 };
    const a = await h1Backend((req, res) => {
      hits.a++;
      req.resume();
      req.on('end', () => res.end('a'));
    });
    t.after(() => a.close());
    const b = await h1Backend((req, res) => {
      hits.b++;
      req.resume();
      req.on('end', () => res.end('b'));
    });
    const p = await proxy(['--balancer', 'round-robin', '--endpoints', `127.0.0.1:${a.port},127.0.0.1:${b.port}`]);
    t.after(() => p.stop(0));
    const post = () => h1Request(p.listen.port, { method: 'POST', path: '/', headers: { 'content-length': '4' } }, Buffer.from('body'));
    for (let i = 0; i < 4; i++) assert.equal((await post()).status, 200);
    assert.ok(hits.a > 0 && hits.b > 0, 'both endpoints served while up');

    await b.close(); // refuses from now on; the proxy still counts it ready until a request fails
    await new Promise((r) => setTimeout(r, 200)); // let the proxy see its keep-alive connections close
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post()).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200]);
    const metrics = await scrapeMetrics(p.admin.port);
    assert.ok(metricValue(metrics, 'sluice_proxy_retries_total', { reason: 'connect-refused' }) >= 1, 'retried after connect-refused');
    assert.equal(metricValue(metrics, 'sluice_proxy_balancer_endpoints', { state: 'failed' }), 1);
  });

  test('the same with --retries 0: the refused attempt reaches the client as a 502', async (t) => {
    const a = await h1Backend((_req, res) => res.end('a'));
    t.after(() => a.close());
    const b = await h1Backend((_req, res) => res.end('b'));
    const p = await proxy(['--retries', '0', '--balancer', 'round-robin', '--endpoints', `127.0.0.1:${a.port},127.0.0.1:${b.port}`]);
    t.after(() => p.stop(0));
    await b.close();
    await new Promise((r) => setTimeout(r, 200));
    const results = [];
    for (let i = 0; i < 2; i++) results.push(await h1Request(p.listen.port, { method: 'GET', path: '/' }));
    const refused = results.filter((r) => r.status === 502);
    assert.equal(refused.length, 1, `statuses ${results.map((r) => r.status).join(',')}`);
    assert.equal(refused[0]!.headers['x-sluice-error'], 'connect-refused');
  });

  test('the budget stops retries once exhausted', async (t) => {
    let attempts = 0;
    const backend = await h2Backend((stream) => {
      attempts++;
      stream.close(H2_CODE.INTERNAL_ERROR);
    });
    t.after(() => backend.close());
    // Every second request earns one retry; no reserve; a window far longer than the test.
    const p = await proxy([
      '--endpoints', `127.0.0.1:${backend.port}`,
      '--retries', '1', '--retry-budget-ratio', '0.5', '--retry-budget-min-per-s', '0', '--retry-budget-ttl', '60s',
    ]);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));
    for (let i = 0; i < 6; i++) assert.equal((await h2Request(client, GET)).rstCode, H2_CODE.INTERNAL_ERROR);
    assert.equal(attempts, 9, '6 requests and 3 retries (requests 2, 4, 6)');
    const metrics = await scrapeMetrics(p.admin.port);
    assert.equal(metricValue(metrics, 'sluice_proxy_retry_budget_exhausted_total'), 3);
    assert.equal(metricValue(metrics, 'sluice_proxy_retries_total'), 3);
  });
});
