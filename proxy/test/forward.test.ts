// The proxy forwards HTTP/1.1 and h2c end to end: request and response bytes intact, end-to-end headers
// through and hop-by-hop ones not, trailers (gRPC's grpc-status) through, endpoints taken in turn.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import { describe, test } from 'node:test';
import { closeSession, connectH2, h1Backend, h1Request, h2Backend, h2Request, proxy } from './support.js';
import { buffer as readAll } from 'node:stream/consumers';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('forwarding', { timeout: 20_000 }, () => {
  test('HTTP/1.1: request line, end-to-end headers and body reach the backend; the response comes back intact', async (t) => {
    const seen: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
    const backend = await h1Backend(async (req, res) => {
      const body = await readAll(req);
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.setHeader('x-backend', 'h1');
      res.end(Buffer.concat([Buffer.from('echo:'), body]));
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`]);
    t.after(() => p.stop(0));

    const body = randomBytes(300 * 1024);
    const res = await h1Request(
      p.listen.port,
      { method: 'POST', path: '/upload?x=1', headers: { 'x-custom': 'kept', 'keep-alive': 'timeout=99', 'x-hop': 'gone', connection: 'x-hop' } },
      body,
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-backend'], 'h1');
    assert.equal(sha(res.body), sha(Buffer.concat([Buffer.from('echo:'), body])));
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.method, 'POST');
    assert.equal(seen[0]!.url, '/upload?x=1');
    assert.equal(seen[0]!.headers['x-custom'], 'kept');
    assert.equal(seen[0]!.headers.host, `127.0.0.1:${p.listen.port}`, 'the client Host is forwarded');
    assert.equal(seen[0]!.headers['keep-alive'], undefined, 'hop-by-hop fields stay on their hop');
    assert.equal(seen[0]!.headers['x-hop'], undefined, 'fields named in Connection are hop-by-hop too');
    assert.equal(sha(seen[0]!.body), sha(body));
  });

  test('h2c: a body larger than both windows goes through both ways, and gRPC-style trailers reach the client', async (t) => {
    const seen: { headers: Record<string, unknown>; body: Buffer }[] = [];
    const backend = await h2Backend(async (stream, headers) => {
      const body = await readAll(stream);
      seen.push({ headers, body });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'x-backend': 'h2' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'fine' }));
      stream.end(Buffer.concat([body, body]));
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`]);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    const body = randomBytes(3 * 1024 * 1024); // > 65535 stream window and > 1 MiB connection window
    const res = await h2Request(
      client,
      { ':method': 'POST', ':path': '/pkg.Svc/Echo', 'content-type': 'application/grpc', te: 'trailers' },
      body,
    );
    assert.equal(res.rstCode, 0);
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-backend'], 'h2');
    assert.equal(sha(res.body), sha(Buffer.concat([body, body])));
    assert.equal(res.trailers?.['grpc-status'], '0');
    assert.equal(res.trailers?.['grpc-message'], 'fine');
    assert.equal(seen[0]!.headers[':path'], '/pkg.Svc/Echo');
    assert.equal(seen[0]!.headers.te, 'trailers', 'te: trailers is end to end on h2');
    assert.equal(sha(seen[0]!.body), sha(body));
  });

  test('h2c: a trailers-only response (END_STREAM on the headers) stays trailers-only', async (t) => {
    const backend = await h2Backend((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'nope' }, { endStream: true });
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`]);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    const res = await h2Request(client, { ':method': 'POST', ':path': '/pkg.Svc/Get', 'content-type': 'application/grpc' }, Buffer.from('x'));
    assert.equal(res.rstCode, 0);
    assert.equal(res.endStreamOnHeaders, true, 'a gRPC client reads grpc-status from headers only when they end the stream');
    assert.equal(res.headers['grpc-status'], '5');
    assert.equal(res.body.length, 0);
  });

  test('HTTP/1.1 client to an h2 upstream (--upstream-protocol h2): body and trailers cross protocols', async (t) => {
    const backend = await h2Backend(async (stream, headers) => {
      const body = await readAll(stream);
      stream.respond({ ':status': 201 }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': sha(body) }));
      stream.end(`${headers[':method']} ${headers[':authority']} ${body.length}`);
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--upstream-protocol', 'h2']);
    t.after(() => p.stop(0));

    const body = randomBytes(100_000);
    const res = await h1Request(p.listen.port, { method: 'PUT', path: '/x', headers: { host: 'svc.test' } }, body);
    assert.equal(res.status, 201);
    assert.equal(res.body.toString(), `PUT svc.test ${body.length}`);
    assert.equal(res.trailers['x-checksum'], sha(body));
  });

  test('h2c client to an HTTP/1.1 upstream (--upstream-protocol h1)', async (t) => {
    const backend = await h1Backend(async (req, res) => {
      const body = await readAll(req);
      res.end(`${req.httpVersion} ${req.headers.host} ${req.headers.te ?? 'no-te'} ${sha(body)}`);
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--upstream-protocol', 'h1']);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    const body = randomBytes(70_000);
    const res = await h2Request(client, { ':method': 'POST', ':path': '/', ':authority': 'svc.test', te: 'trailers' }, body);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), `1.1 svc.test no-te ${sha(body)}`);
  });

  test('round robin: requests go to the endpoints in turn', async (t) => {
    const backends = await Promise.all(
      ['a', 'b', 'c'].map((name) => h1Backend((_req, res) => res.end(name))),
    );
    t.after(() => Promise.all(backends.map((b) => b.close())));
    const p = await proxy(['--balancer', 'round-robin', '--endpoints', backends.map((b) => `127.0.0.1:${b.port}`).join(',')]);
    t.after(() => p.stop(0));

    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push((await h1Request(p.listen.port, { path: '/' })).body.toString());
    assert.deepEqual(answers, ['a', 'b', 'c', 'a', 'b', 'c']);
  });
});
