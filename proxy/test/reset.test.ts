// Failures keep their identity through the proxy: an upstream RST_STREAM reaches an h2 client with the same
// code (before or after the response headers), an HTTP/1.1 client gets a 502 naming the reason or a cut
// connection, a client's cancel reaches the upstream, and every reset is counted by side, direction, code.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { describe, test } from 'node:test';
import { H2_CODE } from '../src/h2-codes.js';
import { closeSession, connectH2, eventually, h1Backend, h1Request, h2Backend, h2Request, metricValue, proxy, scrapeMetrics } from './support.js';

const RST = 'sluice_proxy_rst_stream_total';

describe('resets and upstream failures', { timeout: 15_000 }, () => {
  test('an upstream REFUSED_STREAM before the headers reaches the h2 client as REFUSED_STREAM', async (t) => {
    const backend = await h2Backend((stream) => stream.close(H2_CODE.REFUSED_STREAM));
    t.after(() => backend.close());
    // --retries 0: one attempt, so one reset each way (retrying REFUSED_STREAM is retry-proxy.test.ts's).
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--retries', '0']);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    const res = await h2Request(client, { ':path': '/' });
    assert.equal(res.status, undefined, 'no response headers');
    assert.equal(res.rstCode, H2_CODE.REFUSED_STREAM);
    const text = await scrapeMetrics(p.admin.port);
    assert.equal(metricValue(text, RST, { side: 'upstream', direction: 'received', code: 'REFUSED_STREAM' }), 1);
    assert.equal(metricValue(text, RST, { side: 'downstream', direction: 'sent', code: 'REFUSED_STREAM' }), 1);
    assert.equal(metricValue(text, 'sluice_proxy_requests_total', { protocol: 'h2', status_class: 'reset' }), 1);
  });

  test('an upstream reset after the headers and some body resets the h2 client with the same code', async (t) => {
    const backend = await h2Backend((stream) => {
      // waitForTrailers: else Node's close(code) after respond() ends the stream cleanly before the reset.
      stream.respond({ ':status': 200 }, { waitForTrailers: true });
      stream.write('partial', () => setTimeout(() => stream.close(H2_CODE.ENHANCE_YOUR_CALM), 20));
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`]);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    const res = await h2Request(client, { ':path': '/' });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'partial');
    assert.equal(res.rstCode, H2_CODE.ENHANCE_YOUR_CALM, 'a reset, not a clean END_STREAM');
    assert.equal(res.trailers, undefined);
  });

  test('HTTP/1.1 client: a reset before the headers is a 502 naming it; one after the headers cuts the connection', async (t) => {
    const backend = await h2Backend((stream, headers) => {
      if (headers[':path'] === '/early') return void stream.close(H2_CODE.REFUSED_STREAM);
      stream.respond({ ':status': 200 }, { waitForTrailers: true });
      stream.write('partial', () => setTimeout(() => stream.close(H2_CODE.INTERNAL_ERROR), 20));
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--upstream-protocol', 'h2']);
    t.after(() => p.stop(0));

    const early = await h1Request(p.listen.port, { path: '/early' });
    assert.equal(early.status, 502);
    assert.equal(early.headers['x-sluice-error'], 'upstream-reset:REFUSED_STREAM');
    await assert.rejects(h1Request(p.listen.port, { path: '/late' }), /aborted|socket hang up|ECONNRESET/);
  });

  test('an endpoint that refuses once it was ready is a 502 with x-sluice-error: connect-refused, on h1 and h2', async (t) => {
    // Two ready endpoints that go away: each request fails on one of them with its cause. (Endpoints known to
    // be down from the start are not tried at all: requests wait for fail-fast, see fail-fast.test.ts.)
    const [a, b] = await Promise.all([h1Backend((_req, res) => res.end()), h1Backend((_req, res) => res.end())]);
    // --retries 0: a retry would take the request to the other dead endpoint and then into the queue (none ready).
    const p = await proxy(['--endpoints', `127.0.0.1:${a.port},127.0.0.1:${b.port}`, '--retries', '0']);
    t.after(() => p.stop(0));
    await Promise.all([a.close(), b.close()]);
    const h1 = await h1Request(p.listen.port, { path: '/' });
    assert.equal(h1.status, 502);
    assert.equal(h1.headers['x-sluice-error'], 'connect-refused');

    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));
    const h2 = await h2Request(client, { ':path': '/' });
    assert.equal(h2.status, 502);
    assert.equal(h2.headers['x-sluice-error'], 'connect-refused');
    const text = await scrapeMetrics(p.admin.port);
    assert.equal(metricValue(text, 'sluice_proxy_requests_total', { status_class: '5xx' }), 2);
  });

  test('h2 spoken to an HTTP/1.1-only endpoint is a 502 with x-sluice-error: protocol-error', async (t) => {
    const backend = await h1Backend((_req, res) => res.end('h1 only'));
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--upstream-protocol', 'h2']);
    t.after(() => p.stop(0));
    const res = await h1Request(p.listen.port, { path: '/' });
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-sluice-error'], 'protocol-error');
  });

  test("a client's CANCEL reaches the upstream as CANCEL and is counted on both sides", async (t) => {
    const upstreamCodes: number[] = [];
    const backend = await h2Backend((stream) => {
      stream.respond({ ':status': 200 });
      stream.write('hold'); // and never end: only the cancel closes it
      stream.on('close', () => upstreamCodes.push(stream.rstCode));
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`]);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    const stream = client.request({ ':path': '/' });
    stream.on('error', () => {});
    await new Promise((r) => stream.once('data', r));
    stream.close(http2.constants.NGHTTP2_CANCEL);

    assert.ok(await eventually(() => upstreamCodes.length === 1), 'the upstream stream closed');
    assert.deepEqual(upstreamCodes, [H2_CODE.CANCEL]);
    const text = await scrapeMetrics(p.admin.port);
    assert.equal(metricValue(text, RST, { side: 'downstream', direction: 'received', code: 'CANCEL' }), 1);
    assert.equal(metricValue(text, RST, { side: 'upstream', direction: 'sent', code: 'CANCEL' }), 1);
    assert.equal(metricValue(text, 'sluice_proxy_requests_total', { status_class: 'cancelled' }), 1);
  });
});
