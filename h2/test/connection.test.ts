// H2Connection in memory: a scripted client against a server connection, and two connections wired together
// (request, response with a body larger than the windows, trailers, strict credit, graceful GOAWAY).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H2Connection, type ConnectionOptions, type H2Listener, type Transport } from '../connection.js';
import { H2_ERROR } from '../errors.js';
import { FLAG, FRAME, settingsFrame } from '../frames.js';
import { nextState } from '../stream-state.js';
import { data, FakeClient, frame, MemoryTransport, Recorder } from './wire.js';

test('h2 stream states: the RFC 9113 5.1 table', () => {
  assert.equal(nextState('idle', 'recv-headers'), 'open');
  assert.equal(nextState('open', 'recv-end'), 'half-closed-remote');
  assert.equal(nextState('half-closed-remote', 'send-end'), 'closed');
  assert.equal(nextState('half-closed-remote', 'recv-end'), undefined);
  assert.equal(nextState('open', 'send-end'), 'half-closed-local');
  assert.equal(nextState('half-closed-local', 'recv-end'), 'closed');
  assert.equal(nextState('idle', 'recv-end'), undefined);
  assert.equal(nextState('closed', 'reset'), undefined);
  // The shortcuts nextState takes before its table.
  assert.equal(nextState('idle', 'send-headers'), 'open');
  assert.equal(nextState('open', 'reset'), 'closed');
  assert.equal(nextState('open', 'send-headers'), undefined);
  assert.equal(nextState('idle', 'send-end'), undefined);
});

test('h2 connection: server answers a scripted GET with headers, data and trailers', () => {
  const t = new MemoryTransport();
  const rec = new Recorder();
  const server = new H2Connection('server', t, {
    onHeaders: (id, headers, end) => {
      rec.onHeaders(id, headers, end);
      server.respond(id, [[':status', '200']]);
      server.sendData(id, Buffer.from('hello'));
      server.sendTrailers(id, [['grpc-status', '0']]);
    },
  });
  assert.equal(t.of('SETTINGS').length, 1, 'our SETTINGS at start');
  const c = new FakeClient();
  server.receive(Buffer.concat([c.preface(), c.get(1)]));
  assert.deepEqual(rec.events[0]![1], 1);
  const types = t.frames.map((f) => f.type);
  assert.deepEqual(types, ['SETTINGS', 'SETTINGS', 'HEADERS', 'DATA', 'HEADERS']);
  assert.deepEqual(t.of('HEADERS')[1]!.fields, [['grpc-status', '0']]);
  assert.equal(t.of('HEADERS')[1]!.endStream, true);
  assert.equal(server.stats().streams, 0, 'stream closed after both ends');
  assert.equal(server.streamState(1), 'closed');
  assert.equal(server.state, 'open');
});

/** Two connections wired in memory, bytes delivered on a microtask (as a socket would, later). */
function pair(serverListener: (server: () => H2Connection) => H2Listener, clientListener: H2Listener, clientOpts: ConnectionOptions = {}, serverOpts: ConnectionOptions = {}): { client: H2Connection; server: H2Connection; settle: () => Promise<void> } {
  const ref: { client?: H2Connection; server?: H2Connection } = {};
  let pending = 0;
  const wire = (to: () => H2Connection): Transport => ({
    write: (buf) => {
      pending++;
      const copy = Buffer.from(buf);
      setImmediate(() => {
        pending--;
        to().receive(copy);
      });
      return true;
    },
    end: () => {},
    destroy: () => {},
  });
  const server = new H2Connection('server', wire(() => ref.client!), serverListener(() => ref.server!), serverOpts);
  ref.server = server;
  const client = new H2Connection('client', wire(() => server), clientListener, clientOpts);
  ref.client = client;
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 10_000 && pending > 0; i++) await new Promise((r) => setImmediate(r));
  };
  return { client, server, settle };
}

test('h2 connection: client and server connections, a 1 MiB body through 64 KiB windows with strict credit, then trailers', async () => {
  const body = Buffer.alloc(1 << 20, 7);
  const got: Buffer[] = [];
  let trailers: Array<[string, string]> | undefined;
  const ref: { client?: H2Connection } = {};
  const { client, server, settle } = pair(
    (srv) => ({
      onHeaders: (id) => {
        srv().respond(id, [[':status', '200']]);
        srv().sendData(id, body);
        srv().sendTrailers(id, [['x-done', 'yes']]);
      },
    }),
    {
      onData: (id, d) => {
        got.push(Buffer.from(d));
        ref.client!.consume(id, d.length);
      },
      onHeaders: (_id, h, end) => {
        if (end) trailers = h;
      },
    },
  );
  ref.client = client;
  const id = client.request([[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', '/big']], true);
  await settle();
  assert.equal(Buffer.concat(got).length, body.length);
  assert.ok(Buffer.concat(got).equals(body));
  assert.deepEqual(trailers, [['x-done', 'yes']]);
  assert.equal(client.streamState(id), 'closed');
  assert.equal(server.stats().bufferedBytes, 0);
  // Graceful GOAWAY: two steps, then both sides closed.
  server.goaway();
  await settle();
  assert.equal(server.state, 'closed');
  assert.equal(server.closeReason?.code, H2_ERROR.NO_ERROR);
  assert.equal(client.state, 'closed');
});

test('h2 connection: many small chunks queued behind a shut window each pay the window for their own octets, not a frame\'s worth', async () => {
  // 200 chunks of 1000 octets through a 65 535 window: past the window they queue, and a WINDOW_UPDATE lets out
  // frames of up to 16 384 octets made of the queue's head alone. A window charged 16 384 for a 465-octet head
  // lost the difference every time, until the stream stalled on a window it still had (an echo through the proxy hung).
  const chunks = 200;
  let received = 0;
  const ref: { client?: H2Connection } = {};
  const { client, server, settle } = pair(
    (srv) => ({
      onHeaders: (id) => {
        srv().respond(id, [[':status', '200']]);
        for (let i = 0; i < chunks; i++) srv().sendData(id, Buffer.alloc(1000, i));
        srv().sendData(id, Buffer.alloc(0), true);
      },
    }),
    {
      onData: (id, d) => {
        received += d.length;
        ref.client!.consume(id, d.length);
      },
    },
  );
  ref.client = client;
  const id = client.request([[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', '/small-chunks']], true);
  await settle();
  assert.equal(received, chunks * 1000);
  assert.equal(client.streamState(id), 'closed');
  assert.equal(server.stats().bufferedBytes, 0);
});

test('h2 connection: a stream that never consumes keeps its window shut (strict credit)', () => {
  const t = new MemoryTransport();
  const rec = new Recorder();
  const server = new H2Connection('server', t, rec);
  const c = new FakeClient();
  server.receive(Buffer.concat([c.preface(), c.get(1, '/', false), data(1, 16_384), data(1, 16_384), data(1, 16_384), data(1, 16_383)]));
  assert.equal(t.of('WINDOW_UPDATE').length, 0, 'no credit without consume');
  server.receive(data(1, 1));
  assert.equal(server.state, 'closed', 'one octet past the connection window');
  assert.equal(server.closeReason?.code, H2_ERROR.FLOW_CONTROL_ERROR);
  assert.equal(t.of('GOAWAY')[0]!.code, H2_ERROR.FLOW_CONTROL_ERROR);
  void FRAME;
});

test('h2 connection: a client takes an informational 100 before the final response, and trailers after it', () => {
  const t = new MemoryTransport(true);
  const rec = new Recorder();
  const client = new H2Connection('client', t, rec);
  const id = client.request([[':method', 'POST'], [':scheme', 'http'], [':authority', 'x'], [':path', '/']], false);
  const srv = new FakeClient();
  client.receive(Buffer.concat([
    settingsFrame([]),
    srv.headers(id, [[':status', '100']], false),
    srv.headers(id, [[':status', '200']], false),
    data(id, 3),
    srv.headers(id, [['grpc-status', '0']], true),
  ]));
  assert.equal(client.state, 'open', client.closeReason?.message);
  assert.deepEqual(rec.events.filter((e) => e[0] === 'headers').map((e) => [e[2], e[3]]), [
    [[[':status', '100']], false],
    [[[':status', '200']], false],
    [[['grpc-status', '0']], true],
  ]);
  assert.equal(client.streamState(id), 'half-closed-remote');
  assert.equal(t.of('RST_STREAM').length, 0);
});

test('h2 connection: adaptive flow (BDP): a PING rides the first DATA, its ACK after a window-third of bytes doubles both windows (WINDOW_UPDATE, SETTINGS)', () => {
  let now = 1000;
  const t = new MemoryTransport(true);
  const samples: Array<[number, number]> = [];
  const client = new H2Connection('client', t, new Recorder(), {
    now: () => now,
    flow: { adaptive: {} },
    onBdpSample: (_s, stream, conn) => samples.push([stream, conn]),
  });
  const id = client.request([[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', '/']], true);
  const srv = new FakeClient();
  client.receive(Buffer.concat([settingsFrame([]), frame(FRAME.SETTINGS, FLAG.ACK, 0), srv.headers(id, [[':status', '200']], false), data(id, 10_000)]));
  const pings = t.of('PING').filter((p) => !p.ack);
  assert.equal(pings.length, 1, 'one BDP PING in flight');
  now += 20;
  client.receive(data(id, 16_000));
  client.receive(data(id, 16_000));
  assert.equal(t.of('PING').filter((p) => !p.ack).length, 1, 'never two at once');
  // The ACK: 32 000 octets arrived during the sample, more than a third of 65 535: both windows double.
  client.receive(frame(FRAME.PING, FLAG.ACK, 0, pings[0]!.opaque));
  assert.deepEqual(samples, [[131_070, 131_070]]);
  assert.deepEqual(t.of('WINDOW_UPDATE').filter((w) => w.streamId === 0).map((w) => w.increment), [65_535]);
  const settings = t.of('SETTINGS').filter((s) => !s.ack);
  assert.deepEqual(settings.at(-1)!.settings, [[0x4, 131_070]]);
  assert.equal(client.local.initialWindowSize, 131_070);
  // Until the server acknowledges it, stream 1 keeps its 65 535 window; after, 65 535 more: 65 535 + 65 535 - 42 000 left.
  client.receive(frame(FRAME.SETTINGS, FLAG.ACK, 0));
  client.receive(data(id, 16_000));
  client.receive(data(id, 16_000));
  client.receive(data(id, 16_000));
  client.receive(data(id, 16_000));
  client.receive(data(id, 15_000));
  assert.equal(client.state, 'open', client.closeReason?.message);
  assert.equal(t.of('RST_STREAM').length, 0, '121 000 octets fit the grown windows without any consume');
  // Both windows (131 070 each) have 10 070 left: 11 000 more pass the connection's first.
  client.receive(data(id, 11_000));
  assert.equal(client.state, 'closed');
  assert.equal(client.closeReason?.code, H2_ERROR.FLOW_CONTROL_ERROR);
});

test('h2 connection: an adaptive client downloads 4 MiB from a server connection in memory; windows only grow, bytes intact', async () => {
  const body = Buffer.alloc(4 << 20, 3);
  const got: Buffer[] = [];
  const ref: { client?: H2Connection } = {};
  const grew: number[] = [];
  const { client, server, settle } = pair(
    (srv) => ({
      onHeaders: (id) => {
        srv().respond(id, [[':status', '200']]);
        srv().sendData(id, body, true);
      },
    }),
    {
      onData: (id, d) => {
        got.push(Buffer.from(d));
        ref.client!.consume(id, d.length);
      },
    },
    { flow: { adaptive: { minIntervalMs: 0 } }, onBdpSample: (_s, stream) => grew.push(stream) },
    // The whole body is queued at once: above the default 1 MiB buffered bound, which would reset the stream.
    { limits: { maxBufferedBytes: 8 << 20 } },
  );
  ref.client = client;
  client.request([[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', '/']], true);
  await settle();
  assert.ok(Buffer.concat(got).equals(body));
  assert.equal(client.state, 'open', client.closeReason?.message);
  assert.equal(server.state, 'open', server.closeReason?.message);
  assert.ok(grew.length > 0, 'BDP samples were taken');
  assert.ok(grew.every((w, i) => w >= 65_535 && (i === 0 || w >= grew[i - 1]!)), `windows never shrink: ${grew.join(',')}`);
});

test('h2 connection: receive() re-entered from a listener (a synchronous transport) reads the chunk after the current one', () => {
  const t = new MemoryTransport();
  const c = new FakeClient();
  const seen: number[] = [];
  const first = Buffer.concat([c.preface(), c.get(1)]);
  const second = c.get(3); // encoded after the first: the HPACK tables stay in order
  const server: H2Connection = new H2Connection('server', t, {
    onHeaders: (id) => {
      seen.push(id);
      if (id === 1) server.receive(second);
      seen.push(-id);
    },
  });
  server.receive(first);
  assert.deepEqual(seen, [1, -1, 3, -3]);
  assert.equal(server.state, 'open');
});

test('h2 connection: onWritable paces a sender to the peer window; sendQueued tells what waits (backpressure)', async () => {
  // The server sends 64 KiB chunks only when the last one has gone out; the client consumes slowly. The queue
  // never holds more than one chunk, and every chunk's drain is announced once.
  const chunk = Buffer.alloc(64 * 1024, 3);
  const total = 16;
  let sent = 0;
  let maxQueued = 0;
  let writables = 0;
  let received = 0;
  const ref: { client?: H2Connection } = {};
  const { client, server, settle } = pair(
    (srv) => {
      const pushMore = (id: number): void => {
        while (sent < total && srv().sendQueued(id) === 0) {
          sent++;
          srv().sendData(id, chunk, sent === total);
          maxQueued = Math.max(maxQueued, srv().sendQueued(id));
        }
      };
      return {
        onHeaders: (id) => {
          srv().respond(id, [[':status', '200']]);
          pushMore(id);
        },
        onWritable: (id) => {
          writables++;
          pushMore(id);
        },
      };
    },
    {
      onData: (id, d) => {
        received += d.length;
        setImmediate(() => ref.client!.consume(id, d.length));
      },
    },
  );
  ref.client = client;
  client.request([[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', '/paced']], true);
  for (let i = 0; i < 1000 && received < total * chunk.length; i++) {
    await settle();
    await new Promise((r) => setImmediate(r)); // the client's consume() runs a turn later
  }
  assert.equal(received, total * chunk.length);
  assert.ok(maxQueued <= chunk.length, `queued ${maxQueued} > one chunk`);
  assert.ok(writables >= total - 2, `onWritable ${writables} times for ${total} chunks`);
  assert.equal(server.stats().bufferedBytes, 0);
  assert.equal(server.sendQueued(1), 0);
});

test('h2 connection: the application\'s own resets are not owed to the peer: 1 200 staged in one turn are all written, no ENHANCE_YOUR_CALM', () => {
  // The outbound bound (1000 control frames queued) is for frames the peer's input makes us owe (PING and SETTINGS
  // ACKs, resets of its bad streams); a client that cancels many streams in one turn (a rapid-reset attacker with
  // deep concurrency) must not trip it on itself.
  const t = new MemoryTransport(true);
  let closed: unknown;
  const client = new H2Connection('client', t, { onClose: (reason) => (closed = reason) }, { validateHttp: false, deferFlush: () => undefined });
  client.receive(settingsFrame([]));
  client.flushOutput();
  const ids: number[] = [];
  for (let i = 0; i < 1200; i++) ids.push(client.request([[':method', 'GET'], [':scheme', 'http'], [':authority', 'a'], [':path', '/']], true));
  for (const id of ids) client.reset(id, H2_ERROR.CANCEL);
  client.flushOutput();
  assert.equal(closed, undefined, `closed: ${String(closed)}`);
  assert.equal(t.frames.filter((f) => f.type === 'RST_STREAM').length, 1200);
  assert.equal(t.frames.filter((f) => f.type === 'GOAWAY').length, 0);
});
