// The wire engine's upstream client (src/wire/upstream.ts) against node:http2 backends, on what it must do that
// the shared suite does not pin down: strict receive credit end to end (a slow client holds the backend's window,
// the proxy does not buffer the body), trailers and grpc-status, an upstream reset's code, a backend's GOAWAY
// under load (streams above its last id refused and retried), and the backend's SETTINGS_MAX_CONCURRENT_STREAMS.
// Every proxy here runs `--engine wire` whatever SLUICE_PROXY_ENGINE says (a flag wins over its variable).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import { describe, test } from 'node:test';
import { connectionOverSocket, type H2Connection } from '../../h2/connection.js';
import { H2_CODE } from '../src/h2-codes.js';
import { closeSession, connectH2, eventually, h2Backend, h2Request, metricValue, proxy, scrapeMetrics } from './support.js';

const WIRE = ['--engine', 'wire'];

/** Writes `chunk` until `total` bytes, then ends, with backpressure; `onSent` as each write completes (node:http2
 *  completes a write once its DATA went out, within the peer's windows). */
function writeAll(stream: http2.Http2Stream, chunk: Buffer, total: number, onSent: (n: number) => void): void {
  let written = 0;
  const pump = (): void => {
    while (written < total) {
      written += chunk.length;
      const more = stream.write(chunk, () => onSent(chunk.length));
      if (written >= total) return void stream.end();
      if (!more) return void stream.once('drain', pump);
    }
  };
  pump();
}
const RST = 'sluice_proxy_rst_stream_total';

describe('wire engine: upstream client', { timeout: 60_000 }, () => {
  test('a 16 MiB response to a paused client is held by flow control, not buffered in the proxy, then arrives whole', async (t) => {
    const total = 16 * 2 ** 20;
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7) & 0xff;
    let accepted = 0; // bytes the backend's stream has handed to nghttp2 (write callbacks), i.e. sent within our windows
    const backend = await h2Backend((stream) => {
      stream.respond({ ':status': 200 });
      writeAll(stream, chunk, total, (n) => (accepted += n));
    });
    t.after(() => backend.close());
    const p = await proxy([...WIRE, '--endpoints', `127.0.0.1:${backend.port}`, '--stream-window', '65535', '--conn-window', '1048576']);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port, { initialWindowSize: 65535 });
    t.after(() => closeSession(client));

    const stream = client.request({ ':path': '/big' }, { endStream: true });
    stream.on('error', () => {});
    await new Promise((r) => stream.once('response', r));
    stream.pause();
    await new Promise((r) => setTimeout(r, 1000));
    const held = accepted;
    // The client's window, the proxy's two stream buffers and the upstream's windows: a few hundred KiB.
    assert.ok(held < 2 * 2 ** 20, `the backend sent ${held} bytes to a paused client: the proxy buffered them`);

    const hash = createHash('sha256');
    let received = 0;
    stream.on('data', (c: Buffer) => {
      received += c.length;
      hash.update(c);
    });
    stream.resume();
    await new Promise((r) => stream.once('end', r));
    assert.equal(received, total);
    const expected = createHash('sha256');
    for (let n = 0; n < total; n += chunk.length) expected.update(chunk);
    assert.equal(hash.digest('hex'), expected.digest('hex'), 'bytes intact');
  });

  test('an 8 MiB upload to a backend that does not read is held by flow control, not buffered in the proxy, then arrives whole', async (t) => {
    const total = 8 * 2 ** 20;
    let backendStream: http2.ServerHttp2Stream | undefined;
    const backend = await h2Backend((stream) => {
      backendStream = stream;
      stream.pause(); // reads nothing until the test says so
    });
    t.after(() => backend.close());
    const p = await proxy([...WIRE, '--endpoints', `127.0.0.1:${backend.port}`]);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    const stream = client.request({ ':method': 'POST', ':path': '/upload' });
    stream.on('error', () => {});
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    let accepted = 0; // bytes the client's stream handed to the wire, i.e. sent within the proxy's windows
    writeAll(stream, chunk, total, (n) => (accepted += n));
    assert.ok(await eventually(() => backendStream !== undefined));
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(accepted < 2 * 2 ** 20, `the client sent ${accepted} bytes toward a backend that reads nothing: the proxy buffered them`);

    let received = 0;
    const backendDone = new Promise<void>((resolve) => {
      backendStream!.on('data', (c: Buffer) => (received += c.length));
      backendStream!.once('end', () => {
        backendStream!.respond({ ':status': 200 });
        backendStream!.end(String(received));
        resolve();
      });
    });
    const status = new Promise<number>((r) => stream.once('response', (h) => r(Number(h[':status']))));
    stream.resume(); // the answer read to its end, else the client's stream (and session) never closes
    backendStream!.resume();
    await backendDone;
    assert.equal(await status, 200);
    assert.equal(received, total, 'every byte arrived');
  });

  test('trailers and grpc-status are carried, and a trailers-only answer stays trailers-only', async (t) => {
    const backend = await h2Backend((stream, headers) => {
      if (headers[':path'] === '/only') {
        return void stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'gone' }, { endStream: true });
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'ok', 'x-multi': ['a', 'b'] }));
      stream.end(Buffer.from([0, 0, 0, 0, 3, 1, 2, 3]));
    });
    t.after(() => backend.close());
    const p = await proxy([...WIRE, '--endpoints', `127.0.0.1:${backend.port}`]);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    const grpc = { ':method': 'POST', ':path': '/pkg.Svc/Call', 'content-type': 'application/grpc', te: 'trailers' };
    const res = await h2Request(client, grpc, Buffer.from([0, 0, 0, 0, 0]));
    assert.equal(res.status, 200);
    assert.deepEqual([...res.body], [0, 0, 0, 0, 3, 1, 2, 3]);
    assert.equal(res.trailers?.['grpc-status'], '0');
    assert.equal(res.trailers?.['grpc-message'], 'ok');
    assert.equal(res.rstCode, H2_CODE.NO_ERROR);

    const only = await h2Request(client, { ...grpc, ':path': '/only' }, Buffer.from([0, 0, 0, 0, 0]));
    assert.equal(only.status, 200);
    assert.equal(only.endStreamOnHeaders, true, 'trailers-only stays trailers-only');
    assert.equal(only.headers['grpc-status'], '14');
    assert.equal(only.headers['grpc-message'], 'gone');
  });

  test("an upstream RST_STREAM reaches the client with the backend's code, before and after the headers", async (t) => {
    const backend = await h2Backend((stream, headers) => {
      if (headers[':path'] === '/before') return void stream.close(H2_CODE.HTTP_1_1_REQUIRED);
      stream.respond({ ':status': 200 }, { waitForTrailers: true });
      stream.write('partial', () => setTimeout(() => stream.close(H2_CODE.ENHANCE_YOUR_CALM), 20));
    });
    t.after(() => backend.close());
    const p = await proxy([...WIRE, '--endpoints', `127.0.0.1:${backend.port}`, '--retries', '0']);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    const before = await h2Request(client, { ':path': '/before' });
    assert.equal(before.status, undefined);
    assert.equal(before.rstCode, H2_CODE.HTTP_1_1_REQUIRED);
    const after = await h2Request(client, { ':path': '/after' });
    assert.equal(after.status, 200);
    assert.equal(after.body.toString(), 'partial');
    assert.equal(after.rstCode, H2_CODE.ENHANCE_YOUR_CALM);
    const text = await scrapeMetrics(p.admin.port);
    assert.equal(metricValue(text, RST, { side: 'upstream', direction: 'received', code: 'HTTP_1_1_REQUIRED' }), 1);
    assert.equal(metricValue(text, RST, { side: 'upstream', direction: 'received', code: 'ENHANCE_YOUR_CALM' }), 1);
  });

  test("a backend's GOAWAY under load: streams up to its last id finish, those above are refused and retried", async (t) => {
    const load = 6;
    const lastId = 5; // the first session's streams 1, 3, 5 are processed; 7, 9, 11 are not
    const held: Array<{ stream: http2.ServerHttp2Stream; id: number }> = [];
    const seen = new Map<http2.Http2Session, number>();
    const backend = await h2Backend((stream) => {
      const session = stream.session!;
      if (!seen.has(session)) seen.set(session, seen.size + 1);
      const n = seen.get(session)!;
      if (n > 1) {
        stream.respond({ ':status': 200 });
        return void stream.end(`session ${n}`);
      }
      held.push({ stream, id: stream.id! });
      if (held.length < load) return;
      session.goaway(H2_CODE.NO_ERROR, lastId);
      setTimeout(() => {
        for (const h of held) {
          if (h.id > lastId || h.stream.destroyed) continue;
          h.stream.respond({ ':status': 200 });
          h.stream.end('session 1');
        }
      }, 50);
    });
    t.after(() => backend.close());
    const p = await proxy([...WIRE, '--endpoints', `127.0.0.1:${backend.port}`]);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    const results = await Promise.all(Array.from({ length: load }, (_, i) => h2Request(client, { ':path': `/r${i}` })));
    assert.deepEqual(
      results.map((r) => r.status),
      Array(load).fill(200),
    );
    const bodies = results.map((r) => r.body.toString()).sort();
    assert.deepEqual(bodies, ['session 1', 'session 1', 'session 1', 'session 2', 'session 2', 'session 2']);
    const text = await scrapeMetrics(p.admin.port);
    assert.equal(metricValue(text, 'sluice_proxy_goaway_total', { side: 'upstream', direction: 'received', code: 'NO_ERROR' }), 1);
    assert.equal(metricValue(text, RST, { side: 'upstream', direction: 'received', code: 'REFUSED_STREAM' }), 3);
    assert.equal(metricValue(text, 'sluice_proxy_retries_total'), 3);
  });

  test("requests beyond the backend's SETTINGS_MAX_CONCURRENT_STREAMS wait for a slot on the one session, none refused", async (t) => {
    let open = 0;
    let peak = 0;
    const carrying = new Set<http2.Http2Session>(); // the balancer's TCP probes make sessions too, without streams
    const backend = await h2Backend(
      (stream) => {
        carrying.add(stream.session!);
        open++;
        peak = Math.max(peak, open);
        stream.once('close', () => open--);
        setTimeout(() => {
          stream.respond({ ':status': 200 });
          stream.end('ok');
        }, 30);
      },
      { settings: { maxConcurrentStreams: 2 } },
    );
    t.after(() => backend.close());
    const p = await proxy([...WIRE, '--endpoints', `127.0.0.1:${backend.port}`, '--retries', '0']);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => h2Request(client, { ':path': `/c${i}` })));
    assert.deepEqual(
      results.map((r) => r.status),
      Array(12).fill(200),
    );
    assert.ok(peak <= 2, `the backend saw ${peak} concurrent streams`);
    assert.equal(carrying.size, 1, 'one session: waiting, not a second connection');
    const text = await scrapeMetrics(p.admin.port);
    assert.equal(metricValue(text, RST, { side: 'upstream', code: 'REFUSED_STREAM' }), 0);
    assert.ok(await eventually(() => open === 0));
  });
  test('--absorb-cancels: bodiless cancels up to the bound finish upstream unreset, answers dropped; the rest are reset CANCEL', async (t) => {
    const arrived: http2.ServerHttp2Stream[] = [];
    const backendResets: number[] = [];
    const backend = await h2Backend((stream) => {
      arrived.push(stream);
      stream.once('close', () => backendResets.push(stream.rstCode ?? 0));
      setTimeout(() => {
        if (stream.destroyed) return;
        stream.respond({ ':status': 200 });
        stream.end('answer nobody reads');
      }, 150);
    });
    t.after(() => backend.close());
    const p = await proxy([...WIRE, '--endpoints', `127.0.0.1:${backend.port}`, '--absorb-cancels', '2']);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    const round = async (n: number): Promise<void> => {
      const before = arrived.length;
      const streams = Array.from({ length: n }, (_, i) => {
        const s = client.request({ ':path': `/cancel${i}` }, { endStream: true });
        s.on('error', () => {});
        return s;
      });
      assert.ok(await eventually(() => arrived.length === before + n), 'every request reached the backend');
      for (const s of streams) s.close(H2_CODE.CANCEL);
      assert.ok(await eventually(() => backendResets.length === before + n), 'every backend stream closed');
    };
    await round(3);
    assert.deepEqual([...backendResets].sort(), [0, 0, H2_CODE.CANCEL], 'two let finish, one reset');
    await round(2); // the absorbed streams finished: their slots are free again
    assert.deepEqual([...backendResets.slice(3)].sort(), [0, 0]);
    const text = await scrapeMetrics(p.admin.port);
    assert.equal(metricValue(text, 'sluice_proxy_upstream_cancels_absorbed_total'), 4);
    assert.equal(metricValue(text, RST, { side: 'upstream', direction: 'sent', code: 'CANCEL' }), 1);
    const ok = await h2Request(client, { ':path': '/after' });
    assert.equal(ok.status, 200, 'the session still serves');
  });
  test('a response complete before the request body has left: the body still goes out whole, then the stream is let go', async (t) => {
    // RFC 9113 8.1: the client keeps sending after an early answer; the stream's slot (and the idle eviction) waits
    // for the proxy's END_STREAM, held back here by the backend's small window.
    const backend = await earlyAnswerBackend();
    t.after(() => backend.close());
    const p = await proxy([...WIRE, '--endpoints', `127.0.0.1:${backend.port}`, '--idle-evict', '500ms']);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    const body = Buffer.alloc(48 * 1024, 0x41); // within the proxy's downstream window: the client ends at once
    const res = await h2Request(client, { ':method': 'POST', ':path': '/early' }, body);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'early');
    backend.release();
    assert.ok(await eventually(() => backend.received() === body.length, 3000), `the backend got ${backend.received()} of ${body.length} bytes`);
    assert.equal(await upstreamGauge(p.admin.port, 'sluice_proxy_streams', 0, 3000), 0, 'the stream is let go');
    assert.equal(await upstreamGauge(p.admin.port, 'sluice_proxy_sessions', 0, 3000), 0, 'and the idle session is evicted');
  });

});

/** A backend on our own engine that answers every request at once (200 "early", END_STREAM) without reading it and
 *  without resetting it (node:http2 would reset a stream whose request it never read), its stream window 16 KiB:
 *  request bodies wait for window until release(), then are read as they come. */
async function earlyAnswerBackend(): Promise<{ port: number; received(): number; release(): void; close(): Promise<void> }> {
  let received = 0;
  let holding = true;
  const held: Array<() => void> = [];
  const conns: H2Connection[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    const conn: H2Connection = connectionOverSocket(
      socket,
      'server',
      {
        onHeaders: (id) => {
          conn.respond(id, [[':status', '200']]);
          conn.sendData(id, Buffer.from('early'), true);
        },
        onData: (id, data) => {
          received += data.length;
          const credit = (): void => conn.consume(id, data.length);
          if (holding) held.push(credit);
          else credit();
        },
      },
      { settings: { initialWindowSize: 16384 } },
    );
    conns.push(conn);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => received,
    release: () => {
      holding = false;
      for (const credit of held.splice(0)) credit();
    },
    close: () => {
      for (const c of conns) c.close();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Polls an upstream gauge until it reads `want` or `ms` pass; its last value. */
async function upstreamGauge(adminPort: number, name: string, want: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = metricValue(await scrapeMetrics(adminPort), name, { side: 'upstream' });
    if (value === want || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}
