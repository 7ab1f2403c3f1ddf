// What node:http2 does with flow-control credit, which seed 000's scenario rests on (no proxy code here: a canary
// for a Node upgrade, and the evidence behind proxy/README.md's "Seed 000 in node:http2"). Node's C++ returns
// connection credit for DATA as it arrives (nghttp2_session_consume_connection in OnDataChunkReceived) and stream
// credit only as the stream is read, so a paused stream holds its own window and never the connection. A client
// can still hold connection credit the way linkerd's h2 crate did, with the public API: shrinking its local
// connection window (session.setLocalWindowSize) makes nghttp2 withhold WINDOW_UPDATE for the reduction; then one
// unread stream stops every other stream of the connection, as in the incident.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type net from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { eventually } from './support.js';

const WINDOW = 65_535;
const CHUNK = Buffer.alloc(1024, 1);

interface Pair {
  client: http2.ClientHttp2Session;
  /** The server side of the connection and its streams by path. */
  server: () => http2.ServerHttp2Session;
  serverStream: (path: string) => http2.ServerHttp2Stream;
}

/** A server that answers every stream with headers and keeps it open; a client with 65535-byte windows. */
async function pair(t: TestContext): Promise<Pair> {
  const streams = new Map<string, http2.ServerHttp2Stream>();
  let session: http2.ServerHttp2Session | undefined;
  const server = http2.createServer();
  server.on('session', (s) => (session = s));
  server.on('stream', (stream, headers) => {
    streams.set(String(headers[':path']), stream);
    stream.on('error', () => {});
    stream.respond({ ':status': 200 });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = http2.connect(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, { settings: { initialWindowSize: WINDOW } });
  client.on('error', () => {});
  await new Promise((resolve) => client.once('connect', resolve));
  t.after(() => {
    client.destroy();
    server.close();
  });
  return { client, server: () => session!, serverStream: (path) => streams.get(path)! };
}

/** Opens `path` and waits until the server has it. */
async function open(p: Pair, path: string): Promise<http2.ClientHttp2Stream> {
  const stream = p.client.request({ ':path': path });
  stream.on('error', () => {});
  assert.ok(await eventually(() => p.serverStream(path)), `the server got ${path}`);
  return stream;
}

function flood(stream: http2.ServerHttp2Stream, kib: number): void {
  for (let i = 0; i < kib; i++) stream.write(CHUNK);
}

describe('node:http2 flow-control credit', { timeout: 15_000 }, () => {
  test('a paused stream holds its stream window; the connection credit of its bytes comes back as they arrive', async (t) => {
    const p = await pair(t);
    const idle = await open(p, '/idle');
    idle.pause();
    const live = await open(p, '/live');
    let liveBytes = 0;
    live.on('data', (chunk: Buffer) => (liveBytes += chunk.length));

    flood(p.serverStream('/idle'), 1024); // 1 MiB for a stream nobody reads
    assert.ok(await eventually(() => idle.readableLength === WINDOW), `idle holds its window (${idle.readableLength})`);
    flood(p.serverStream('/live'), 256); // 4x the connection window
    assert.ok(await eventually(() => liveBytes === 256 * 1024), `the other stream got everything (${liveBytes})`);
    assert.equal(idle.state.localWindowSize, 0, 'idle: no stream credit returned');
    assert.ok(p.server().state.remoteWindowSize! > 0, 'the connection stays open');
  });

  test('shrinking the local connection window by the unread bytes holds connection credit: the other stream stalls', async (t) => {
    const p = await pair(t);
    const idle = await open(p, '/idle');
    // The h2 crate's accounting, by hand: bytes taken from Node but "not read by the application" keep their
    // connection credit withheld (nghttp2 cuts that much from its next WINDOW_UPDATEs).
    let unread = 0;
    idle.on('data', (chunk: Buffer) => {
      unread += chunk.length;
      p.client.setLocalWindowSize(Math.max(0, WINDOW - unread));
      if (unread >= WINDOW) idle.pause();
    });
    const live = await open(p, '/live');
    let liveBytes = 0;
    live.on('data', (chunk: Buffer) => (liveBytes += chunk.length));

    flood(p.serverStream('/idle'), 1024);
    assert.ok(await eventually(() => p.server().state.remoteWindowSize === 0), 'the connection window is spent');
    flood(p.serverStream('/live'), 64);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(liveBytes, 0, 'the other stream gets nothing: linkerd\'s incident');

    // "Reading" the held bytes gives the credit back (a larger local window queues a WINDOW_UPDATE, which Node
    // sends with the next frame it writes: here a PING): it moves again. Growing by the held amount over-credits
    // a little, since Node had returned some credit before the 'data' event that counted it.
    p.client.setLocalWindowSize(WINDOW + unread);
    p.client.ping(() => {});
    assert.ok(await eventually(() => liveBytes === 64 * 1024), `released, the other stream gets its bytes (${liveBytes})`);
    t.diagnostic(`held ${unread} bytes (idle's buffer ${idle.readableLength}); after the release the server may send ${p.server().state.remoteWindowSize} on the connection`);
  });
});
