// Interop smoke over loopback sockets: node:http2 (nghttp2) as the client of an H2Connection server, and an
// H2Connection client of a node:http2 server; a GET answered with a 1 MiB body and trailers, both ways.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { connectionOverSocket, type H2Connection } from '../connection.js';
import { H2_ERROR } from '../errors.js';

const BODY = Buffer.alloc(1 << 20, 0x5a);

test('h2 interop: a node:http2 client GETs 1 MiB and trailers from an H2Connection server', async () => {
  const conns: H2Connection[] = [];
  const server = net.createServer((socket) => {
    const ref: { conn?: H2Connection } = {};
    ref.conn = connectionOverSocket(socket, 'server', {
      onHeaders: (id, headers, endStream) => {
        const path = headers.find(([n]) => n === ':path')?.[1];
        assert.equal(path, '/big');
        assert.equal(endStream, true);
        ref.conn!.respond(id, [[':status', '200'], ['content-type', 'application/octet-stream']]);
        ref.conn!.sendData(id, BODY);
        ref.conn!.sendTrailers(id, [['x-checksum', String(BODY.length)]]);
      },
      onData: (id, data) => ref.conn!.consume(id, data.length),
    });
    conns.push(ref.conn);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const client = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const result = await new Promise<{ status: number | undefined; bytes: Buffer; trailers: http2.IncomingHttpHeaders }>((resolve, reject) => {
      const req = client.request({ ':path': '/big' });
      let status: number | undefined;
      const parts: Buffer[] = [];
      let trailers: http2.IncomingHttpHeaders = {};
      req.on('response', (h) => (status = h[':status']));
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('trailers', (t) => (trailers = t));
      req.on('end', () => resolve({ status, bytes: Buffer.concat(parts), trailers }));
      req.on('error', reject);
      req.end();
    });
    assert.equal(result.status, 200);
    assert.ok(result.bytes.equals(BODY));
    assert.equal(result.trailers['x-checksum'], String(BODY.length));
  } finally {
    client.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
  assert.equal(conns.length, 1);
  assert.equal(conns[0]!.state, 'closed');
});

test('h2 interop: an H2Connection client GETs 1 MiB and trailers from a node:http2 server, then goes away gracefully', async () => {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    assert.equal(headers[':path'], '/big');
    stream.respond({ ':status': 200 }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': String(BODY.length) }));
    stream.end(BODY);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', r));
  const ref: { conn?: H2Connection } = {};
  let closed: (reason: string) => void = () => {};
  try {
    const result = await new Promise<{ headers: Array<[string, string]>; bytes: Buffer; trailers: Array<[string, string]> }>((resolve, reject) => {
      const parts: Buffer[] = [];
      let headers: Array<[string, string]> = [];
      ref.conn = connectionOverSocket(socket, 'client', {
        onHeaders: (_id, h, end) => {
          if (end) resolve({ headers, bytes: Buffer.concat(parts), trailers: h });
          else headers = h;
        },
        onData: (id, d) => {
          parts.push(Buffer.from(d));
          ref.conn!.consume(id, d.length);
        },
        onReset: (id, code) => reject(new Error(`stream ${id} reset ${code}`)),
        onClose: (reason) => {
          closed(reason.message);
          reject(new Error(`closed: ${reason.message}`));
        },
      });
      ref.conn.request([[':method', 'GET'], [':scheme', 'http'], [':authority', `127.0.0.1:${port}`], [':path', '/big']], true);
    });
    assert.equal(result.headers.find(([n]) => n === ':status')?.[1], '200');
    assert.ok(result.bytes.equals(BODY));
    assert.deepEqual(result.trailers, [['x-checksum', String(BODY.length)]]);
    // Graceful GOAWAY: GOAWAY(2^31-1) + PING, the server's PING ACK, GOAWAY(0), then the socket ended.
    const done = new Promise<string>((r) => (closed = r));
    ref.conn!.goaway();
    assert.equal(await done, 'GOAWAY, all streams done');
    assert.equal(ref.conn!.closeReason?.code, H2_ERROR.NO_ERROR);
  } finally {
    socket.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('h2 interop: an adaptive H2Connection client downloads 8 MiB from a node:http2 server; its windows grow, bytes intact', async () => {
  const big = Buffer.alloc(8 << 20, 0x33);
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200 });
    stream.end(big);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', r));
  const ref: { conn?: H2Connection } = {};
  let streamWindow = 0;
  try {
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      const parts: Buffer[] = [];
      ref.conn = connectionOverSocket(
        socket,
        'client',
        {
          onData: (id, d, end) => {
            parts.push(Buffer.from(d));
            ref.conn!.consume(id, d.length);
            if (end) resolve(Buffer.concat(parts));
          },
          onReset: (id, code) => reject(new Error(`stream ${id} reset ${code}`)),
          onClose: (reason) => reject(new Error(`closed: ${reason.message}`)),
        },
        { flow: { adaptive: { minIntervalMs: 0 } }, onBdpSample: (_s, stream) => (streamWindow = stream) },
      );
      ref.conn.request([[':method', 'GET'], [':scheme', 'http'], [':authority', `127.0.0.1:${port}`], [':path', '/big']], true);
    });
    assert.ok(bytes.equals(big));
    assert.ok(streamWindow > 65_535, `the stream window grew (${streamWindow})`);
    assert.equal(ref.conn!.state, 'open');
  } finally {
    socket.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
