// The wire engine's downstream (--engine wire, proxy/src/wire/downstream.ts), whatever SLUICE_PROXY_ENGINE says:
// response backpressure against a client that never opens its window, large bodies with trailers both ways, a
// client's RST_STREAM reaching the upstream as CANCEL, an upload answered early (RFC 9113 8.1: the client is
// stopped with RST_STREAM(NO_ERROR) and the upstream stream reset CANCEL, not left half open; on both engines), header lists as
// node:http2 would hand them over, and the GOAWAY and RST_STREAM the engine sends on its own counted in /metrics.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import http2 from 'node:http2';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { connectionOverSocket, type H2Connection, type H2Listener } from '../../h2/connection.js';
import { encodeFrame, FLAG, FRAME } from '../../h2/frames.js';
import { encodeHeaderBlock } from '../../h2/hpack/encoder.js';
import { H2_CODE } from '../src/h2-codes.js';
import { InboundBody } from '../src/wire/body.js';
import { closeSession, connectH2, eventually, h2Backend, h2Request, metricValue, proxy, scrapeMetrics } from './support.js';

const WIRE = ['--engine', 'wire'];
const MiB = 2 ** 20;

/** A raw client H2Connection to the proxy: strict credit, so nothing is acknowledged unless the test consumes. */
async function rawClient(port: number, listener: H2Listener): Promise<{ conn: H2Connection; socket: net.Socket }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('error', () => {});
  return { conn: connectionOverSocket(socket, 'client', listener), socket };
}

const GET: Array<[string, string]> = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':path', '/'],
  [':authority', 'proxy.test'],
];

function sha(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

describe('wire engine downstream', { timeout: 60_000 }, () => {
  test('InboundBody credits every byte its reader took, also across backpressure pauses', async () => {
    let credited = 0;
    const conn = { consume: (_id: number, n: number) => (credited += n) } as unknown as H2Connection;
    const body = new InboundBody(conn, 1, 1024);
    let written = 0;
    // A reader slower than the sender: pipe pauses the body, the chunks wait in its buffer, then flow again.
    const slow = new Writable({
      highWaterMark: 1,
      write: (chunk: Buffer, _enc, done) => {
        written += chunk.length;
        setTimeout(done, 1);
      },
    });
    body.pipe(slow);
    for (let i = 0; i < 8; i++) body.deliver(Buffer.alloc(1000), false);
    assert.ok(await eventually(() => written === 8000), 'the reader took everything');
    // Nothing more arrives (the sender's window is spent): the credit must not wait for more DATA.
    assert.ok(await eventually(() => credited === 8000), `credited ${credited} of 8000 without any more DATA`);
    body.deliver(Buffer.alloc(500), true);
    assert.ok(await eventually(() => credited === 8500));
  });


  test('a client that never opens its window holds the 16 MiB upstream body at the backend, not in the proxy', async (t) => {
    const body = Buffer.alloc(16 * MiB, 7);
    let written = 0;
    let finished = false;
    const backend = await h2Backend((stream) => {
      stream.respond({ ':status': 200 }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-done': 'yes' }));
      // In 64 KiB writes, counting what node:http2 accepted: it stops taking them (write() false, no 'drain')
      // once the proxy's upstream stream window is full and the proxy no longer reads.
      let at = 0;
      const pump = (): void => {
        while (at < body.length) {
          const chunk = body.subarray(at, at + 64 * 1024);
          at += chunk.length;
          written = at;
          if (!stream.write(chunk)) return void stream.once('drain', pump);
        }
        stream.end();
        finished = true;
      };
      pump();
    });
    t.after(() => backend.close());
    const p = await proxy([...WIRE, '--endpoints', `127.0.0.1:${backend.port}`, '--upstream-protocol', 'h2']);
    t.after(() => p.stop(0));

    const received: Buffer[] = [];
    let trailers: Array<[string, string]> | undefined;
    let ended = false;
    let id = 0;
    let reading = false;
    const { conn } = await rawClient(p.listen.port, {
      onData: (_id, data, endStream) => {
        received.push(data);
        ended ||= endStream;
        if (reading) conn.consume(id, data.length);
      },
      onHeaders: (_id, headers, endStream) => {
        if (endStream) {
          trailers = headers;
          ended = true;
        }
      },
    });
    t.after(() => conn.close());
    id = conn.request(GET, true);
    // The client's windows (65 535 each, never credited) fill; then the proxy must stop reading the upstream.
    assert.ok(await eventually(() => received.reduce((n, b) => n + b.length, 0) === 65_535), 'the client got its window');
    await new Promise((r) => setTimeout(r, 500));
    const got = received.reduce((n, b) => n + b.length, 0);
    assert.equal(got, 65_535, 'not a byte past the window');
    assert.equal(finished, false, 'the backend could not finish');
    t.diagnostic(`backend had handed ${written} bytes to node:http2 while the client held its window shut`);
    // What the proxy can hold: its upstream windows (65 535 stream, 1 MiB connection) plus a chunk, and the
    // backend's own socket and session buffers: far from 16 MiB.
    assert.ok(written < 4 * MiB, `the backend was held back (${written} bytes written)`);

    // Open the windows as the bytes are read: the rest arrives intact, then the trailers.
    reading = true;
    conn.consume(id, got);
    assert.ok(await eventually(() => ended, 30_000), 'the response completed');
    const all = Buffer.concat(received);
    assert.equal(all.length, body.length);
    assert.equal(sha(all), sha(body));
    assert.deepEqual(trailers, [['x-done', 'yes']]);
  });

  for (const size of [1 * MiB, 16 * MiB]) {
    test(`a ${size / MiB} MiB request body echoed back with trailers, intact both ways`, async (t) => {
      const backend = await h2Backend((stream) => {
        stream.respond({ ':status': 200 }, { waitForTrailers: true });
        const hash = createHash('sha256');
        stream.on('data', (c: Buffer) => hash.update(c));
        stream.on('end', () => (stream as unknown as { sha: string }).sha = hash.digest('hex'));
        stream.on('wantTrailers', () => stream.sendTrailers({ 'x-sha': (stream as unknown as { sha: string }).sha }));
        stream.pipe(stream);
      });
      t.after(() => backend.close());
      const p = await proxy([...WIRE, '--endpoints', `127.0.0.1:${backend.port}`, '--upstream-protocol', 'h2']);
      t.after(() => p.stop(0));
      // The client's own nghttp2 would reset a 16 MiB echo past its default 10 MB session memory.
      const client = http2.connect(`http://127.0.0.1:${p.listen.port}`, { maxSessionMemory: 64 });
      t.after(() => closeSession(client));
      const body = Buffer.alloc(size);
      for (let i = 0; i < size; i += 4) body.writeUInt32LE(i, i);
      const res = await h2Request(client, { ':method': 'POST', ':path': '/echo' }, body);
      assert.equal(res.status, 200);
      assert.equal(res.rstCode, 0);
      assert.equal(res.body.length, size);
      assert.equal(sha(res.body), sha(body));
      assert.equal(res.trailers?.['x-sha'], sha(body), 'the trailers came after the whole body');
    });
  }

  // On both engines: the node one (the reference) left the client unstopped when it sent nothing more, and the
  // upstream stream half open, until 12-07.
  for (const engine of ['wire', 'node'] as const) {
  test(`an upload answered early (${engine} engine): the client is stopped with RST_STREAM(NO_ERROR) and the upstream stream is let go, not left open`, async (t) => {
    // A backend on h2/ that answers at once, reads nothing and never resets: node:http2 would reset the stream
    // NO_ERROR itself after its answer (RFC 9113 8.1), which would hide a stream the proxy left open.
    const resets: number[] = [];
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      const conn: H2Connection = connectionOverSocket(socket, 'server', {
        onHeaders: (id) => conn.respond(id, [[':status', '200']], true),
        onReset: (_id, code) => resets.push(code),
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const s of sockets) s.destroy();
      server.close();
    });
    const backendPort = (server.address() as net.AddressInfo).port;
    const p = await proxy(['--engine', engine, '--endpoints', `127.0.0.1:${backendPort}`]);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));
    const req = client.request({ ':method': 'POST', ':path': '/upload' }, { endStream: false });
    req.write(Buffer.alloc(1000, 1)); // the upload has begun and is never finished by the client
    const status = await new Promise<number>((resolve) => req.once('response', (h) => resolve(Number(h[':status']))));
    assert.equal(status, 200);
    const clientReset = await new Promise<number>((resolve) => req.once('close', () => resolve(req.rstCode ?? -1)));
    assert.equal(clientReset, H2_CODE.NO_ERROR, 'the client is told to stop sending (RFC 9113 8.1)');
    assert.ok(await eventually(() => resets.length > 0), 'the upstream stream is reset, not left half open');
    assert.deepEqual(resets, [H2_CODE.CANCEL]);
    let upstreamStreams: number | undefined;
    for (let i = 0; i < 100 && upstreamStreams !== 0; i++) {
      upstreamStreams = metricValue(await scrapeMetrics(p.admin.port), 'sluice_proxy_streams', { side: 'upstream' });
      if (upstreamStreams !== 0) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(upstreamStreams, 0, 'no upstream stream stays open');
  });
  }

  test('a client that ignores SETTINGS_MAX_CONCURRENT_STREAMS: streams past it are refused (REFUSED_STREAM, counted), the rest are served', async (t) => {
    const held: http2.ServerHttp2Stream[] = [];
    const backend = await h2Backend((stream) => held.push(stream)); // answers only when the test says
    t.after(() => backend.close());
    // --max-session-buffered-bytes / --stream-window: 10 streams advertised.
    const p = await proxy([...WIRE, '--endpoints', `127.0.0.1:${backend.port}`, '--stream-window', '100000', '--max-session-buffered-bytes', '1000000']);
    t.after(() => p.stop(0));
    const socket = net.connect(p.listen.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    t.after(() => socket.destroy());
    const resets = new Map<number, number>();
    const answered = new Set<number>();
    let advertised: number | undefined;
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 9 && pending.length >= 9 + pending.readUIntBE(0, 3)) {
        const length = pending.readUIntBE(0, 3);
        const [type, stream, payload] = [pending[3]!, pending.readUInt32BE(5) & 0x7fffffff, pending.subarray(9, 9 + length)];
        if (type === FRAME.RST_STREAM) resets.set(stream, payload.readUInt32BE(0));
        if (type === FRAME.HEADERS) answered.add(stream);
        if (type === FRAME.SETTINGS && stream === 0) {
          for (let i = 0; i + 6 <= payload.length; i += 6) if (payload.readUInt16BE(i) === 0x3) advertised = payload.readUInt32BE(i + 2);
        }
        pending = pending.subarray(9 + length);
      }
    });
    // The preface and empty SETTINGS, then 12 GETs at once, without waiting for the proxy's SETTINGS.
    const block = encodeHeaderBlock(GET);
    const frames = [Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), encodeFrame(FRAME.SETTINGS, 0, 0)];
    for (let id = 1; id <= 23; id += 2) frames.push(encodeFrame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, id, block));
    socket.write(Buffer.concat(frames));
    assert.ok(await eventually(() => resets.size === 2 && held.length === 10), `resets ${[...resets]}, at the endpoint ${held.length}`);
    assert.equal(advertised, 10);
    assert.deepEqual([...resets], [[21, H2_CODE.REFUSED_STREAM], [23, H2_CODE.REFUSED_STREAM]], 'the 11th and 12th streams are refused');
    for (const stream of held) stream.respond({ ':status': 200 }, { endStream: true });
    assert.ok(await eventually(() => answered.size === 10), `${answered.size} answered`);
    assert.deepEqual([...answered].sort((a, b) => a - b), [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    const text = await scrapeMetrics(p.admin.port);
    assert.equal(metricValue(text, 'sluice_proxy_rst_stream_total', { side: 'downstream', direction: 'sent', code: 'REFUSED_STREAM' }), 2);
  });

  test('a client RST_STREAM reaches the upstream as CANCEL and is counted both sides', async (t) => {
    const upstreamResets: number[] = [];
    const backend = await h2Backend((stream) => {
      stream.respond({ ':status': 200 });
      stream.write('first');
      stream.on('close', () => upstreamResets.push(stream.rstCode));
    });
    t.after(() => backend.close());
    const p = await proxy([...WIRE, '--endpoints', `127.0.0.1:${backend.port}`, '--upstream-protocol', 'h2']);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));
    for (const code of [H2_CODE.CANCEL, H2_CODE.INTERNAL_ERROR]) {
      const stream = client.request({ ':path': '/held' });
      stream.on('error', () => {});
      await new Promise<void>((resolve) => stream.once('data', () => resolve()));
      stream.close(code);
    }
    assert.ok(await eventually(() => upstreamResets.length === 2), 'both upstream streams closed');
    assert.deepEqual(upstreamResets, [H2_CODE.CANCEL, H2_CODE.CANCEL], 'the proxy cancels upstream whatever the client said');
    const text = await scrapeMetrics(p.admin.port);
    const RST = 'sluice_proxy_rst_stream_total';
    assert.equal(metricValue(text, RST, { side: 'downstream', direction: 'received', code: 'CANCEL' }), 1);
    assert.equal(metricValue(text, RST, { side: 'downstream', direction: 'received', code: 'INTERNAL_ERROR' }), 1);
    assert.equal(metricValue(text, RST, { side: 'upstream', direction: 'sent', code: 'CANCEL' }), 2);
    assert.equal(metricValue(text, 'sluice_proxy_streams', { side: 'downstream' }), 0);
  });

  test('repeated fields and cookie crumbs reach the endpoint as through the node engine', async (t) => {
    const seen: Record<string, http2.IncomingHttpHeaders> = {};
    const responses: Record<string, Array<[string, string]>> = {};
    for (const engine of ['node', 'wire']) {
      const backend = await h2Backend((stream, headers) => {
        seen[engine] = headers;
        stream.respond({ ':status': 200, 'set-cookie': ['a=1', 'b=2'] }, { endStream: true });
      });
      t.after(() => backend.close());
      const p = await proxy(['--engine', engine, '--endpoints', `127.0.0.1:${backend.port}`, '--upstream-protocol', 'h2']);
      t.after(() => p.stop(0));
      const { conn } = await rawClient(p.listen.port, { onHeaders: (_id, headers) => (responses[engine] = headers) });
      t.after(() => conn.close());
      conn.request(
        [...GET, ['x-rep', 'one'], ['cookie', 'c=1'], ['x-rep', 'two'], ['cookie', 'd=2'], ['user-agent', 'first'], ['user-agent', 'second']],
        true,
      );
      assert.ok(await eventually(() => responses[engine] !== undefined), `${engine}: answered`);
    }
    const { node, wire } = seen;
    assert.equal(wire!.cookie, 'c=1; d=2', 'cookie crumbs joined (RFC 9113 8.2.3)');
    assert.equal(wire!['user-agent'], 'first', 'a single-value field keeps its first value');
    assert.equal(wire![':authority'], 'proxy.test');
    for (const name of ['x-rep', 'cookie', 'user-agent', ':authority', ':path', ':method']) {
      assert.deepEqual(wire![name], node![name], `${name} as through the node engine`);
    }
    const setCookies = (list: Array<[string, string]>): string[] => list.filter(([n]) => n === 'set-cookie').map(([, v]) => v);
    assert.deepEqual(setCookies(responses.wire!), ['a=1', 'b=2'], 'an array response field: one field per value');
    assert.deepEqual(setCookies(responses.wire!), setCookies(responses.node!));
  });

  test('the engine\'s own RST_STREAM (a malformed request) and GOAWAY (a connection error) are counted', async (t) => {
    let backendStreams = 0;
    const backend = await h2Backend((stream) => {
      backendStreams++;
      stream.respond({ ':status': 200 }, { endStream: true });
    });
    t.after(() => backend.close());
    const p = await proxy([...WIRE, '--endpoints', `127.0.0.1:${backend.port}`]);
    t.after(() => p.stop(0));
    const resets: number[] = [];
    let goaway: number | undefined;
    const { conn, socket } = await rawClient(p.listen.port, {
      onReset: (_id, code) => resets.push(code),
      onGoaway: (_last, code) => (goaway = code),
    });
    t.after(() => conn.close());
    conn.request([...GET, ['connection', 'close']], true); // RFC 9113 8.2.2: malformed, a stream PROTOCOL_ERROR
    assert.ok(await eventually(() => resets.length === 1));
    assert.deepEqual(resets, [H2_CODE.PROTOCOL_ERROR]);
    socket.write(encodeFrame(FRAME.PING, 0, 0, Buffer.alloc(7))); // a PING of 7 octets: FRAME_SIZE_ERROR
    assert.ok(await eventually(() => goaway !== undefined));
    assert.equal(goaway, H2_CODE.FRAME_SIZE_ERROR);
    assert.equal(backendStreams, 0, 'the malformed request never reached the endpoint');
    let text = '';
    for (let i = 0; i < 200; i++) {
      text = await scrapeMetrics(p.admin.port);
      if (metricValue(text, 'sluice_proxy_sessions', { side: 'downstream' }) === 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const GOAWAY = 'sluice_proxy_goaway_total';
    assert.equal(metricValue(text, 'sluice_proxy_rst_stream_total', { side: 'downstream', direction: 'sent', code: 'PROTOCOL_ERROR' }), 1);
    assert.equal(metricValue(text, GOAWAY, { side: 'downstream', direction: 'sent', code: 'FRAME_SIZE_ERROR' }), 1);
    assert.equal(metricValue(text, 'sluice_proxy_connections_closed_total', { side: 'downstream', reason: 'error' }), 1);
  });

  test('stop: two-step GOAWAY; the in-flight request finishes, then the connection closes', async (t) => {
    let release: (() => void) | undefined;
    const backend = await h2Backend((stream) => {
      release = () => stream.respond({ ':status': 200 }, { endStream: true });
    });
    t.after(() => backend.close());
    const p = await proxy([...WIRE, '--endpoints', `127.0.0.1:${backend.port}`]);
    const client = await connectH2(p.listen.port);
    client.on('error', () => {});
    t.after(() => client.destroy());
    const goaways: number[] = [];
    client.on('goaway', (code: number) => goaways.push(code));
    const pending = h2Request(client, { ':path': '/slow' });
    assert.ok(await eventually(() => release !== undefined));
    const stopped = p.stop(2000);
    assert.ok(await eventually(() => goaways.length > 0), 'GOAWAY while the request is in flight');
    release!();
    const res = await pending;
    assert.equal(res.status, 200, 'the in-flight request finished');
    await stopped;
    assert.ok(await eventually(() => client.closed || client.destroyed), 'the client connection closed');
  });
});
