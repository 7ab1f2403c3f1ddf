// Early responses reach the client intact: a 413 for a body over --max-request-body-bytes (or an upstream's
// early 4xx) on HTTP/1.1 is followed by a delayed close, not a reset, even while the client is still sending;
// on h2 the response ends the stream and RST_STREAM NO_ERROR stops the body, and the session lives on.
import assert from 'node:assert/strict';
import type http2 from 'node:http2';
import type net from 'node:net';
import { describe, test } from 'node:test';
import { runLoad } from '../../harness/load/run-load.js';
import { collect, connect, parseResponse, sleep, type RawExchange } from './raw-h1.js';
import { closeSession, connectH2, h1Backend, h2Backend, h2Request, metricValue, proxy, scrapeMetrics } from './support.js';

const CHUNK = Buffer.alloc(16 * 1024, 0x61);

/** A client that declares a 64 MiB body and sends it slowly: `blindMs` without reading (as clients that read
 *  only once their upload is done), then reading as well, until the connection ends. */
async function slowUpload(port: number, blindMs: number): Promise<RawExchange> {
  const socket: net.Socket = await connect(port);
  socket.pause();
  const done = collect(socket);
  socket.pause(); // collect's 'data' listener would start the flow
  socket.write(`POST /upload HTTP/1.1\r\nHost: svc.test\r\nContent-Length: ${64 * 2 ** 20}\r\n\r\n`);
  const started = Date.now();
  const writer = setInterval(() => {
    if (socket.destroyed || !socket.writable) return clearInterval(writer);
    socket.write(CHUNK);
    if (Date.now() - started >= blindMs && socket.isPaused()) socket.resume();
  }, 10);
  const bound = setTimeout(() => socket.destroy(), 10_000); // a test bound, never reached when the proxy closes
  const result = await done;
  clearTimeout(bound);
  clearInterval(writer);
  return result;
}

describe('delayed close and early responses', { timeout: 30_000 }, () => {
  test('HTTP/1.1: a 413 for a too-large Content-Length reaches a client that is still sending, then the connection closes', async (t) => {
    let reached = 0;
    const backend = await h1Backend((_req, res) => {
      reached++;
      res.end();
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--max-request-body-bytes', '1024']);
    t.after(() => p.stop(0));

    const exchange = await slowUpload(p.listen.port, 300);
    const res = parseResponse(exchange.received);
    assert.ok(res, `a response arrived (error: ${exchange.error?.code ?? 'none'}, ${exchange.received.length} bytes)`);
    assert.equal(res.status, 413);
    assert.equal(res.complete, true, 'the whole 413 body arrived');
    assert.equal(res.body.toString(), 'request-body-too-large\n');
    assert.equal(res.headers.connection, 'close', 'the client is told the connection ends');
    assert.equal(res.headers['x-sluice-error'], 'request-body-too-large');
    assert.equal(exchange.ended, true, 'then a FIN, not only a reset');
    assert.equal(reached, 0, 'the request never reached the endpoint');
    const text = await scrapeMetrics(p.admin.port);
    assert.equal(metricValue(text, 'sluice_proxy_delayed_close_total'), 1);
    assert.equal(metricValue(text, 'sluice_proxy_requests_total', { status_class: '4xx' }), 1);
    assert.equal(
      await eventually(async () => metricValue(await scrapeMetrics(p.admin.port), 'sluice_proxy_connections_closed_total', { side: 'downstream', reason: 'early-response' })),
      1,
    );
  });

  test('HTTP/1.1: an upstream that answers 413 without reading the body: the client still gets the 413', async (t) => {
    const backend = await h1Backend((_req, res) => {
      res.writeHead(413, { 'content-type': 'text/plain' }).end('upstream says no\n');
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--upstream-protocol', 'h1', '--max-request-body-bytes', '0']);
    t.after(() => p.stop(0));

    const exchange = await slowUpload(p.listen.port, 300);
    const res = parseResponse(exchange.received.length > 0 ? exchange.received : Buffer.alloc(0));
    // The upstream's response is chunked through the proxy; its status and first bytes are what matter here.
    assert.ok(res, `a response arrived (error: ${exchange.error?.code ?? 'none'})`);
    assert.equal(res.status, 413);
    assert.match(exchange.received.toString('latin1'), /upstream says no/);
    assert.equal(res.headers.connection, 'close');
    assert.equal(exchange.ended, true);
    const text = await scrapeMetrics(p.admin.port);
    assert.equal(metricValue(text, 'sluice_proxy_delayed_close_total'), 1);
    assert.equal(metricValue(text, 'sluice_proxy_connections_closed_total', { side: 'upstream', reason: 'early-response' }), 1);
  });

  test('h2: 413 at once for a too-large content-length, then RST_STREAM NO_ERROR; a body growing past the limit gets 413 too', async (t) => {
    const backend = await h2Backend((stream) => {
      stream.resume();
      stream.on('end', () => {
        if (stream.destroyed) return; // cut by the proxy
        stream.respond({ ':status': 200 });
        stream.end('read it all');
      });
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--max-request-body-bytes', '65536']);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    // Declared too large: answered before any body byte, while the client is still sending.
    const declared = await slowH2Upload(client, { 'content-length': String(64 * 2 ** 20) });
    assert.equal(declared.status, 413);
    assert.equal(declared.body, 'request-body-too-large\n');
    assert.equal(declared.ended, true, 'the response ended with END_STREAM');
    assert.equal(declared.rstCode, 0, 'then RST_STREAM NO_ERROR: stop sending, the response stands');

    // No content-length: cut once it grows past the limit.
    const grown = await slowH2Upload(client, {});
    assert.equal(grown.status, 413);
    assert.equal(grown.body, 'request-body-too-large\n');
    assert.equal(grown.ended, true);

    // Under the limit, and on the same session: the session was not harmed.
    const small = await h2Request(client, { ':method': 'POST', ':path': '/' }, Buffer.alloc(1000, 1));
    assert.equal(small.status, 200);
    assert.equal(small.body.toString(), 'read it all');
  });

  test('h2 on the wire: the 413 ends with END_STREAM before any RST_STREAM, while the client is still uploading', async (t) => {
    // node:http2 reports a RST_STREAM(NO_ERROR) as a clean end, so the frames are read by the generator's own framing
    // client: a RST_STREAM before END_STREAM counts as rst:NO_ERROR, one after it (the stream over) is not counted.
    const backend = await h2Backend((stream) => {
      stream.resume();
      stream.respond({ ':status': 200 });
      stream.end();
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--max-request-body-bytes', '65536']);
    t.after(() => p.stop(0));

    // 1 MiB with its content-length: answered 413 at once, while the body is still held back by the stream window.
    // 50 a second: the client stops each upload with its own RST_STREAM, and a Node server answers more than 1000
    // of them on a session with GOAWAY(INTERNAL_ERROR) (nghttp2's rapid-reset bucket).
    const result = await runLoad({
      url: `http://127.0.0.1:${p.listen.port}/`,
      protocol: 'h2',
      connections: 1,
      streamsPerConnection: 4,
      rate: 50,
      durationMs: 1000,
      warmupMs: 0,
      timeoutMs: 5000,
      method: 'POST',
      bodyBytes: 2 ** 20,
    });
    assert.ok(result.requests >= 20, `${result.requests} requests`);
    assert.deepEqual(result.errors, { 'status:4xx': result.requests }, 'every request answered 413, none reset');
    assert.deepEqual(result.rst.received, {}, 'no RST_STREAM before END_STREAM');
  });
});

/** Sends 16 KiB every 5 ms until the response has ended and the stream is closed (by the proxy's RST_STREAM:
 *  Node's client never emits 'close' for a stream reset with NO_ERROR while its own writes are pending). */
async function slowH2Upload(
  client: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
): Promise<{ status: number; body: string; ended: boolean; rstCode: number }> {
  const stream = client.request({ ':method': 'POST', ':path': '/', ...headers });
  const out = { status: 0, body: '', ended: false, rstCode: -1 };
  stream.on('response', (h) => (out.status = Number(h[':status'])));
  stream.on('data', (c: Buffer) => (out.body += c.toString()));
  stream.on('end', () => (out.ended = true));
  stream.on('error', () => {});
  const writer = setInterval(() => {
    if (stream.closed || stream.destroyed || !stream.writable) clearInterval(writer);
    else stream.write(CHUNK);
  }, 5);
  await eventually(async () => out.ended && stream.closed, 10_000);
  clearInterval(writer);
  out.rstCode = stream.rstCode;
  stream.destroy();
  return out;
}

async function eventually<T>(check: () => Promise<T>, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await check();
  while (!value && Date.now() < deadline) {
    await sleep(20);
    value = await check();
  }
  return value;
}
