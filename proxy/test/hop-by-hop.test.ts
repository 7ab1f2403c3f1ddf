// Hop-by-hop fields never cross the proxy, in either direction: Connection and the fields it names,
// Keep-Alive, Proxy-Connection, TE (except `te: trailers` towards an h2 upstream), Upgrade. Each side's
// connection is its own (seed 003): a client's `Connection: close` closes only the client's connection.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import { okResponse, rawH1Backend } from './raw-h1.js';
import { closeSession, connectH2, h1Backend, h1Request, h2Backend, h2Request, proxy } from './support.js';

const HOP_RESPONSE = [
  'Connection: keep-alive, X-Secret',
  'X-Secret: for this hop only',
  'Keep-Alive: timeout=99',
  'Proxy-Connection: keep-alive',
  'Upgrade: websocket',
  'X-Kept: yes',
  '',
].join('\r\n');

describe('hop-by-hop headers', { timeout: 20_000 }, () => {
  test('upstream -> client: an HTTP/1.1 upstream\'s hop-by-hop fields reach neither an HTTP/1.1 nor an h2 client', async (t) => {
    const backend = await rawH1Backend((socket) => socket.write(okResponse('ok', HOP_RESPONSE)));
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--upstream-protocol', 'h1']);
    t.after(() => p.stop(0));

    const h1 = await h1Request(p.listen.port, { path: '/' });
    assert.equal(h1.status, 200);
    assert.equal(h1.headers['x-kept'], 'yes');
    assert.equal(h1.headers['x-secret'], undefined, 'a field named in Connection stays on its hop');
    assert.equal(h1.headers['proxy-connection'], undefined);
    assert.equal(h1.headers.upgrade, undefined);
    assert.notEqual(h1.headers['keep-alive'], 'timeout=99', "the upstream's keep-alive is not the client's");

    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));
    const h2 = await h2Request(client, { ':path': '/' });
    assert.equal(h2.status, 200, 'HTTP/2 forbids these fields: forwarding one would fail the response');
    assert.equal(h2.headers['x-kept'], 'yes');
    for (const name of ['connection', 'x-secret', 'keep-alive', 'proxy-connection', 'upgrade']) {
      assert.equal(h2.headers[name], undefined, name);
    }
  });

  test('client -> upstream: an HTTP/1.1 client\'s hop-by-hop fields stop at the proxy; te: trailers goes on to h2', async (t) => {
    const seen: http.IncomingHttpHeaders[] = [];
    const backend = await h2Backend((stream, headers) => {
      seen.push(headers);
      stream.respond({ ':status': 200 }, { endStream: true });
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--upstream-protocol', 'h2']);
    t.after(() => p.stop(0));

    const headers = {
      connection: 'X-Private, TE, close',
      'x-private': '1',
      te: 'trailers',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      'x-kept': 'yes',
    };
    assert.equal((await h1Request(p.listen.port, { path: '/', headers })).status, 200);
    const got = seen[0]!;
    assert.equal(got['x-kept'], 'yes');
    assert.equal(got.te, 'trailers', 'the one TE value HTTP/2 allows');
    for (const name of ['connection', 'x-private', 'keep-alive', 'proxy-connection']) assert.equal(got[name], undefined, name);
  });

  test('client -> upstream: te is dropped towards HTTP/1.1; a client\'s Connection: close does not close the upstream connection', async (t) => {
    const seen: http.IncomingHttpHeaders[] = [];
    const ports: number[] = [];
    const backend = await h1Backend((req, res) => {
      seen.push(req.headers);
      ports.push(req.socket.remotePort ?? 0);
      res.end('ok');
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--upstream-protocol', 'h1']);
    t.after(() => p.stop(0));

    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));
    assert.equal((await h2Request(client, { ':path': '/', te: 'trailers', 'x-kept': 'yes' })).status, 200);
    assert.equal(seen[0]!.te, undefined, 'HTTP/1.1 ties TE to a Connection option: not forwarded');
    assert.equal(seen[0]!['x-kept'], 'yes');

    await new Promise((r) => setTimeout(r, 20)); // the upstream connection is back in the pool
    const res = await h1Request(p.listen.port, { path: '/', headers: { connection: 'close' } });
    assert.equal(res.headers.connection, 'close', 'the client asked to close its connection: it is closed');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await h1Request(p.listen.port, { path: '/' })).status, 200);
    assert.equal(seen[1]!.connection, 'keep-alive', 'the upstream request keeps its own connection alive');
    assert.equal(new Set(ports).size, 1, 'all three requests used one upstream connection');
  });
});
