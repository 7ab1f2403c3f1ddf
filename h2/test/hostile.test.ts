// Hostile input (issue 15, step 2, item 4): each refusal of the server connection, with its exact reaction
// (GOAWAY code, RST_STREAM code, or the connection dropped) and the defined state it ends in. Bounds are the
// defaults of limits.ts (h2/README.md, "Bounds", names their nghttp2 / Envoy sources).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H2Connection, type ConnectionOptions, type H2Listener } from '../connection.js';
import { H2_ERROR } from '../errors.js';
import { FLAG, FRAME, pingFrame, PREFACE as PREFACE_BYTES, SETTING, settingsFrame, windowUpdateFrame } from '../frames.js';
import { data, FakeClient, frame, MemoryTransport, Recorder, u32 } from './wire.js';

const E = H2_ERROR;

function server(opts: ConnectionOptions = {}, listener?: H2Listener): { conn: H2Connection; t: MemoryTransport; rec: Recorder; c: FakeClient } {
  const t = new MemoryTransport();
  const rec = new Recorder();
  const conn = new H2Connection('server', t, listener ?? rec, opts);
  return { conn, t, rec, c: new FakeClient() };
}

/** The connection was closed by us with `code`, a GOAWAY(code) on the wire, and nothing left in its state. */
function goneWith(conn: H2Connection, t: MemoryTransport, code: number): void {
  assert.equal(conn.state, 'closed');
  assert.equal(conn.closeReason?.code, code, conn.closeReason?.message);
  assert.equal(conn.closeReason?.by, 'local');
  const goaways = t.of('GOAWAY');
  assert.equal(goaways.length, 1, 'one GOAWAY');
  assert.equal(goaways[0]!.code, code);
  assert.ok(t.destroyed, 'transport destroyed');
  assert.deepEqual(conn.stats(), { streams: 0, bufferedBytes: 0, queuedControlFrames: 0, queuedFrames: 0, queuedOutputBytes: 0 });
}

test('hostile: a bad client preface closes the connection (PROTOCOL_ERROR) without a GOAWAY', () => {
  const { conn, t } = server();
  assert.doesNotThrow(() => conn.receive(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')));
  assert.equal(conn.state, 'closed');
  assert.equal(conn.closeReason?.code, E.PROTOCOL_ERROR);
  assert.equal(t.of('GOAWAY').length, 0, 'RFC 9113 3.4: the GOAWAY may be omitted; nghttp2 omits it');
  assert.ok(t.destroyed);
  // The preface split across chunks is fine.
  const ok = server();
  const bytes = ok.c.preface();
  for (let i = 0; i < bytes.length; i++) ok.conn.receive(bytes.subarray(i, i + 1));
  assert.equal(ok.conn.state, 'open');
});

test('hostile: a first frame other than SETTINGS is a PROTOCOL_ERROR', () => {
  const { conn, t } = server();
  conn.receive(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), pingFrame(Buffer.alloc(8), false)]));
  goneWith(conn, t, E.PROTOCOL_ERROR);
});

test('hostile: a frame over SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR', () => {
  const { conn, t, c } = server();
  conn.receive(Buffer.concat([c.preface(), c.get(1, '/', false), data(1, 16_385)]));
  goneWith(conn, t, E.FRAME_SIZE_ERROR);
});

test('hostile: DATA or HEADERS on stream 0 is a PROTOCOL_ERROR', () => {
  for (const bad of [data(0, 10), frame(FRAME.HEADERS, FLAG.END_HEADERS, 0, Buffer.from([0x82]))]) {
    const { conn, t, c } = server();
    conn.receive(Buffer.concat([c.preface(), bad]));
    goneWith(conn, t, E.PROTOCOL_ERROR);
  }
});

test('hostile: a window pushed over 2^31-1 is a FLOW_CONTROL_ERROR (connection: GOAWAY; stream: RST_STREAM)', () => {
  const one = server();
  one.conn.receive(Buffer.concat([one.c.preface(), windowUpdateFrame(0, 2 ** 31 - 1)]));
  goneWith(one.conn, one.t, E.FLOW_CONTROL_ERROR);

  const two = server();
  two.conn.receive(Buffer.concat([two.c.preface(), two.c.get(1, '/', false), windowUpdateFrame(1, 2 ** 31 - 1)]));
  assert.equal(two.conn.state, 'open');
  assert.deepEqual(two.t.of('RST_STREAM').map((f) => [f.streamId, f.code]), [[1, E.FLOW_CONTROL_ERROR]]);
  assert.equal(two.conn.streamState(1), 'closed');

  // SETTINGS_INITIAL_WINDOW_SIZE moving an open stream's window past 2^31-1: connection FLOW_CONTROL_ERROR (6.9.2).
  const three = server();
  three.conn.receive(Buffer.concat([three.c.preface(), three.c.get(1, '/', false), windowUpdateFrame(1, 2 ** 31 - 1 - 65_535)]));
  three.conn.receive(settingsFrame([[SETTING.INITIAL_WINDOW_SIZE, 65_536]]));
  goneWith(three.conn, three.t, E.FLOW_CONTROL_ERROR);
});

test('hostile: DATA past the stream window is a stream FLOW_CONTROL_ERROR, past the connection window a connection one', () => {
  const { conn, t, c } = server({ settings: { initialWindowSize: 1000 }, connectionWindow: 1 << 20 });
  // Before the client acknowledges our SETTINGS its streams may use the RFC's 65 535 (6.9.2).
  conn.receive(Buffer.concat([c.preface(), c.get(1, '/', false), data(1, 16_000)]));
  assert.equal(t.of('RST_STREAM').length, 0, 'within 65 535 before the ACK');
  // The ACK shrinks stream 1's window by 64 535: it is now below zero, and the next DATA is refused.
  conn.receive(frame(FRAME.SETTINGS, FLAG.ACK, 0));
  conn.receive(Buffer.concat([c.get(3, '/', false), data(3, 1001)]));
  assert.deepEqual(t.of('RST_STREAM').map((f) => [f.streamId, f.code]), [[3, E.FLOW_CONTROL_ERROR]]);
  conn.receive(data(1, 1));
  assert.deepEqual(t.of('RST_STREAM').map((f) => [f.streamId, f.code]), [[3, E.FLOW_CONTROL_ERROR], [1, E.FLOW_CONTROL_ERROR]]);
  assert.equal(conn.state, 'open');
});

test('hostile: frames on idle streams are PROTOCOL_ERROR (DATA, WINDOW_UPDATE, RST_STREAM)', () => {
  for (const bad of [data(5, 1), windowUpdateFrame(5, 1), frame(FRAME.RST_STREAM, 0, 5, u32(E.CANCEL))]) {
    const { conn, t, c } = server();
    conn.receive(Buffer.concat([c.preface(), c.get(1, '/', false), bad]));
    goneWith(conn, t, E.PROTOCOL_ERROR);
  }
  // A client-side stream id the server never opened (even), at a server: PROTOCOL_ERROR too.
  const { conn, t, c } = server();
  conn.receive(Buffer.concat([c.preface(), c.headers(2, [[':method', 'GET']], true)]));
  goneWith(conn, t, E.PROTOCOL_ERROR);
});

test('hostile: DATA on a half-closed (remote) stream is a stream STREAM_CLOSED, then ignored; a reused stream id is a connection STREAM_CLOSED', () => {
  const { conn, t, c } = server();
  conn.receive(Buffer.concat([c.preface(), c.get(1, '/', true)]));
  assert.equal(conn.streamState(1), 'half-closed-remote');
  conn.receive(data(1, 10));
  assert.deepEqual(t.of('RST_STREAM').map((f) => [f.streamId, f.code]), [[1, E.STREAM_CLOSED]]);
  assert.equal(conn.streamState(1), 'closed');
  assert.equal(conn.state, 'open');
  // 5.1: what the peer still sends on a stream we reset is ignored (no second RST_STREAM), its DATA credited back.
  conn.receive(Buffer.concat([data(1, 10), c.get(1, '/', true)]));
  assert.equal(t.of('RST_STREAM').length, 1);
  assert.equal(conn.state, 'open');
  // A stream that closed normally (both END_STREAMs), opened again: the connection's STREAM_CLOSED.
  conn.receive(c.get(3, '/', true));
  conn.respond(3, [[':status', '204']], true);
  assert.equal(conn.streamState(3), 'closed');
  conn.receive(c.get(3, '/', true));
  goneWith(conn, t, E.STREAM_CLOSED);
});

test('hostile: a CONTINUATION flood is ENHANCE_YOUR_CALM past 8 CONTINUATION frames', () => {
  const { conn, t, c } = server();
  const parts = [c.preface(), frame(FRAME.HEADERS, 0, 1, Buffer.from([0x82]))];
  for (let i = 0; i < 9; i++) parts.push(frame(FRAME.CONTINUATION, 0, 1, Buffer.from([0x86])));
  conn.receive(Buffer.concat(parts));
  goneWith(conn, t, E.ENHANCE_YOUR_CALM);
});

test('hostile: an HPACK bomb through the connection is answered 431 on its stream, the connection stays up', () => {
  const rec = new Recorder();
  const { conn, t, c } = server({}, rec);
  // :method GET, :path /, then a 4000-octet literal indexed once and referenced 10 000 times (40 MB decoded, 14 KB encoded).
  const value = Buffer.alloc(4000, 0x62);
  const literal = Buffer.concat([Buffer.from([0x40, 0x01, 0x78, 0x7f]), Buffer.from([0x81, 0x1f]), value]); // length 4000 = 127 + 3873 (0xf21: 0xa1 0x1e)
  literal[4] = 0xa1;
  literal[5] = 0x1e;
  const block = Buffer.concat([Buffer.from([0x82, 0x84, 0x86]), literal, Buffer.alloc(10_000, 0xbe)]);
  const started = performance.now();
  conn.receive(Buffer.concat([c.preface(), frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, block)]));
  assert.ok(performance.now() - started < 500, 'cheap');
  assert.equal(conn.state, 'open');
  const h = t.of('HEADERS');
  assert.deepEqual(h.map((f) => [f.streamId, f.fields, f.endStream]), [[1, [[':status', '431']], true]]);
  assert.equal(rec.events.filter((e) => e[0] === 'headers').length, 0, 'the application never saw the request');
  assert.equal(conn.stats().streams, 0);
  // The HPACK table stayed in step: the next request decodes.
  conn.receive(c.get(3));
  assert.equal(rec.events.filter((e) => e[0] === 'headers').length, 1);
});

test('hostile: SETTINGS with more than 32 entries is ENHANCE_YOUR_CALM (nghttp2 max_settings)', () => {
  const { conn, t, c } = server();
  conn.receive(c.preface());
  conn.receive(settingsFrame(Array.from({ length: 33 }, () => [SETTING.MAX_CONCURRENT_STREAMS, 10] as const)));
  goneWith(conn, t, E.ENHANCE_YOUR_CALM);
});

test('hostile: a SETTINGS flood (acks owed past 1000) is ENHANCE_YOUR_CALM', () => {
  const { conn, t, c } = server();
  conn.receive(Buffer.concat([c.preface(), ...Array.from({ length: 1000 }, () => settingsFrame([]))]));
  goneWith(conn, t, E.ENHANCE_YOUR_CALM);
});

test('hostile: a PING flood is ENHANCE_YOUR_CALM past 1000 queued PING ACKs, in one read or against a peer that does not read', () => {
  const { conn, t, c } = server();
  conn.receive(Buffer.concat([c.preface(), ...Array.from({ length: 1001 }, () => pingFrame(Buffer.alloc(8), false))]));
  goneWith(conn, t, E.ENHANCE_YOUR_CALM);

  // 1000 PINGs in one read are answered; a peer that stops reading accumulates ACKs across reads until the bound.
  const slow = server();
  slow.conn.receive(Buffer.concat([slow.c.preface(), ...Array.from({ length: 999 }, () => pingFrame(Buffer.alloc(8), false))]));
  assert.equal(slow.conn.state, 'open');
  assert.equal(slow.t.of('PING').length, 999);
  slow.t.accept = false;
  slow.conn.ping(); // the write that finds the transport full
  for (let i = 0; i < 1001 && slow.conn.state === 'open'; i++) slow.conn.receive(pingFrame(Buffer.alloc(8), false));
  assert.equal(slow.conn.state, 'closed');
  assert.equal(slow.conn.closeReason?.code, E.ENHANCE_YOUR_CALM);
  assert.equal(slow.t.of('GOAWAY')[0]!.code, E.ENHANCE_YOUR_CALM);
});

test('hostile: rapid reset (HEADERS + RST_STREAM) past the burst of 1000 is ENHANCE_YOUR_CALM; at 33/s it is not', () => {
  let now = 0;
  const { conn, t, c } = server({ now: () => now });
  conn.receive(c.preface());
  for (let i = 0; i < 1001 && conn.state === 'open'; i++) {
    const id = 1 + 2 * i;
    conn.receive(Buffer.concat([c.get(id, '/', false), frame(FRAME.RST_STREAM, 0, id, u32(E.CANCEL))]));
  }
  goneWith(conn, t, E.ENHANCE_YOUR_CALM);

  const slow = server({ now: () => now, limits: { resetBurst: 10 } });
  slow.conn.receive(slow.c.preface());
  for (let i = 0; i < 200; i++) {
    now += 31; // ~32 per second
    const id = 1 + 2 * i;
    slow.conn.receive(Buffer.concat([slow.c.get(id, '/', false), frame(FRAME.RST_STREAM, 0, id, u32(E.CANCEL))]));
  }
  assert.equal(slow.conn.state, 'open');
  assert.equal(slow.conn.stats().streams, 0);
});

test('hostile: consecutive empty DATA / HEADERS frames past 1 are ENHANCE_YOUR_CALM (Envoy)', () => {
  const one = server();
  one.conn.receive(Buffer.concat([one.c.preface(), one.c.get(1, '/', false), data(1, 0), data(1, 5), data(1, 0)]));
  assert.equal(one.conn.state, 'open', 'non-consecutive empty frames pass');
  one.conn.receive(data(1, 0));
  goneWith(one.conn, one.t, E.ENHANCE_YOUR_CALM);

  const two = server();
  two.conn.receive(Buffer.concat([two.c.preface(), frame(FRAME.HEADERS, 0, 1), frame(FRAME.CONTINUATION, 0, 1)]));
  goneWith(two.conn, two.t, E.ENHANCE_YOUR_CALM);
});

test('hostile: a client that never opens its window: past 1 MiB buffered the stream is reset ENHANCE_YOUR_CALM', () => {
  const rec = new Recorder();
  const { conn, t, c } = server({}, rec);
  conn.receive(Buffer.concat([c.preface([[SETTING.INITIAL_WINDOW_SIZE, 0]]), c.get(1), c.get(3)]));
  conn.respond(1, [[':status', '200']]);
  conn.respond(3, [[':status', '200']]);
  assert.equal(conn.sendData(1, Buffer.alloc(600_000)), true);
  assert.equal(conn.stats().bufferedBytes, 600_000);
  assert.equal(conn.sendData(3, Buffer.alloc(600_000)), false);
  assert.deepEqual(t.of('RST_STREAM').map((f) => [f.streamId, f.code]), [[3, E.ENHANCE_YOUR_CALM]]);
  assert.equal(conn.stats().bufferedBytes, 600_000, 'the reset stream gave its bytes back');
  assert.deepEqual(rec.events.filter((e) => e[0] === 'reset'), [['reset', 3, E.ENHANCE_YOUR_CALM, true]]);
  assert.equal(t.of('DATA').length, 0, 'nothing sent into a zero window');
  assert.equal(conn.state, 'open');
});

test('hostile: streams past SETTINGS_MAX_CONCURRENT_STREAMS are refused (REFUSED_STREAM)', () => {
  const { conn, t, c } = server({ settings: { maxConcurrentStreams: 2 } });
  conn.receive(Buffer.concat([c.preface(), c.get(1, '/', false), c.get(3, '/', false), c.get(5, '/', false)]));
  assert.deepEqual(t.of('RST_STREAM').map((f) => [f.streamId, f.code]), [[5, E.REFUSED_STREAM]]);
  assert.equal(conn.stats().streams, 2);
});

test('hostile: PUSH_PROMISE sent to a server is a PROTOCOL_ERROR; a throwing listener closes with INTERNAL_ERROR, never throws', () => {
  const one = server();
  one.conn.receive(Buffer.concat([one.c.preface(), one.c.get(1, '/', false), frame(FRAME.PUSH_PROMISE, FLAG.END_HEADERS, 1, Buffer.from([0, 0, 0, 2, 0x82]))]));
  goneWith(one.conn, one.t, E.PROTOCOL_ERROR);

  const two = server({}, {
    onHeaders: () => {
      throw new Error('application bug');
    },
  });
  assert.doesNotThrow(() => two.conn.receive(Buffer.concat([two.c.preface(), two.c.get(1)])));
  goneWith(two.conn, two.t, E.INTERNAL_ERROR);
});

test('hostile: a GOAWAY whose last stream id grows, and a HEADERS depending on itself, are connection PROTOCOL_ERRORs', () => {
  const goaway = (last: number): Buffer => frame(FRAME.GOAWAY, 0, 0, Buffer.concat([u32(last), u32(0)]));
  const one = server();
  one.conn.receive(Buffer.concat([one.c.preface(), one.c.get(1, '/', false), goaway(1)]));
  assert.equal(one.conn.state, 'draining');
  one.conn.receive(goaway(3));
  goneWith(one.conn, one.t, E.PROTOCOL_ERROR);

  // The block of a refused HEADERS cannot be decoded, so the stream error of 5.3.1 becomes the connection's.
  const two = server();
  const selfDependent = Buffer.concat([u32(1), Buffer.from([15, 0x82])]);
  two.conn.receive(Buffer.concat([two.c.preface(), frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.PRIORITY, 1, selfDependent)]));
  goneWith(two.conn, two.t, E.PROTOCOL_ERROR);
});

test('hostile: a stream reset with unread DATA gives its connection credit back (no window leak per reset)', () => {
  const { conn, t, c } = server();
  conn.receive(Buffer.concat([c.preface(), c.get(1, '/', false), data(1, 16_000), data(1, 16_000), data(1, 16_000), data(1, 12_000)]));
  assert.equal(t.of('WINDOW_UPDATE').length, 0, 'strict: nothing consumed, no credit');
  conn.receive(frame(FRAME.RST_STREAM, 0, 1, u32(E.CANCEL)));
  assert.deepEqual(t.of('WINDOW_UPDATE').map((f) => [f.streamId, f.increment]), [[0, 60_000]]);
  assert.equal(conn.state, 'open');
});

test('hostile: timers (tick): SETTINGS never acknowledged is SETTINGS_TIMEOUT; an idle stream is reset CANCEL; an unanswered graceful PING does not stall the GOAWAY', () => {
  let now = 0;
  const one = server({ now: () => now });
  one.conn.receive(Buffer.concat([PREFACE_BYTES, settingsFrame([])])); // the client never ACKs our SETTINGS
  now = 10_000;
  one.conn.tick();
  assert.equal(one.conn.state, 'open', 'not before the timeout');
  now = 10_001;
  one.conn.tick();
  goneWith(one.conn, one.t, E.SETTINGS_TIMEOUT);

  now = 0;
  const rec = new Recorder();
  const two = server({ now: () => now, limits: { streamIdleTimeoutMs: 1000 } }, rec);
  two.conn.receive(Buffer.concat([two.c.preface(), frame(FRAME.SETTINGS, FLAG.ACK, 0), two.c.get(1, '/', false), two.c.get(3, '/', false)]));
  now = 900;
  two.conn.receive(data(3, 1));
  now = 1500;
  two.conn.tick();
  assert.deepEqual(two.t.of('RST_STREAM').map((f) => [f.streamId, f.code]), [[1, E.CANCEL]]);
  assert.deepEqual(rec.events.filter((e) => e[0] === 'reset'), [['reset', 1, E.CANCEL, true]]);
  assert.equal(two.conn.streamState(3), 'open');

  // Graceful GOAWAY whose PING is never answered: after goawayPingTimeoutMs the second GOAWAY names the last stream.
  two.conn.goaway();
  assert.deepEqual(two.t.of('GOAWAY').map((f) => f.lastStreamId), [2 ** 31 - 1]);
  now = 1500 + 2001;
  two.conn.receive(data(3, 1)); // stream 3 still busy
  two.conn.tick();
  assert.deepEqual(two.t.of('GOAWAY').map((f) => f.lastStreamId), [2 ** 31 - 1, 3]);
  assert.equal(two.conn.state, 'draining');
});

test('hostile: PRIORITY and WINDOW_UPDATE floods are ENHANCE_YOUR_CALM past Envoy\'s bounds', () => {
  const priority = (id: number): Buffer => frame(FRAME.PRIORITY, 0, id, Buffer.from([0, 0, 0, 0, 15]));
  // One stream opened: 100 * (1 + 1) PRIORITY frames pass, the 201st does not.
  const one = server();
  one.conn.receive(Buffer.concat([one.c.preface(), one.c.get(1, '/', false), ...Array.from({ length: 200 }, (_, i) => priority(3 + 2 * i))]));
  assert.equal(one.conn.state, 'open');
  one.conn.receive(priority(1001));
  goneWith(one.conn, one.t, E.ENHANCE_YOUR_CALM);

  // No DATA sent, one stream: 1 + 2 * 1 = 3 WINDOW_UPDATEs pass, the 4th does not; after DATA we sent, 10 more per frame.
  const two = server();
  two.conn.receive(Buffer.concat([two.c.preface(), two.c.get(1, '/', false), ...Array.from({ length: 3 }, () => windowUpdateFrame(0, 1))]));
  assert.equal(two.conn.state, 'open');
  two.conn.respond(1, [[':status', '200']]);
  two.conn.sendData(1, Buffer.alloc(10));
  two.conn.receive(Buffer.concat(Array.from({ length: 20 }, () => windowUpdateFrame(1, 1))));
  assert.equal(two.conn.state, 'open', '3 + 20 <= 1 + 2 * (1 + 10 * 1)');
  two.conn.receive(windowUpdateFrame(1, 1));
  goneWith(two.conn, two.t, E.ENHANCE_YOUR_CALM);
});

test('hostile: a peer that stops reading while its requests make us queue frames: past maxOutboundFrames queued frames (10 000 by default, 300 here), ENHANCE_YOUR_CALM', () => {
  // The application answers every request (HEADERS out); the transport takes nothing; control-frame bounds stay clear.
  const t = new MemoryTransport();
  const c = new FakeClient();
  const conn: H2Connection = new H2Connection('server', t, { onHeaders: (id) => conn.respond(id, [[':status', '204']], true) }, { limits: { maxOutboundFrames: 300 } });
  conn.receive(c.preface());
  t.accept = false;
  conn.ping(); // the write that finds the transport full
  for (let i = 0; i < 400 && conn.state === 'open'; i++) conn.receive(c.get(1 + 2 * i));
  assert.equal(conn.state, 'closed');
  assert.equal(conn.closeReason?.code, E.ENHANCE_YOUR_CALM);
  assert.match(conn.closeReason?.message ?? '', /frames queued/);
});

test('hostile, client side: PUSH_PROMISE, SETTINGS_ENABLE_PUSH = 1, a server-opened stream, and a response without :status', () => {
  const client = (): { conn: H2Connection; t: MemoryTransport; srv: FakeClient; id: number } => {
    const t = new MemoryTransport(true);
    const conn = new H2Connection('client', t, new Recorder());
    const id = conn.request([[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', '/']], true);
    return { conn, t, srv: new FakeClient(), id };
  };
  const one = client();
  one.conn.receive(Buffer.concat([settingsFrame([]), frame(FRAME.PUSH_PROMISE, FLAG.END_HEADERS, one.id, Buffer.from([0, 0, 0, 2, 0x82]))]));
  goneWith(one.conn, one.t, E.PROTOCOL_ERROR);

  const two = client();
  two.conn.receive(settingsFrame([[SETTING.ENABLE_PUSH, 1]]));
  goneWith(two.conn, two.t, E.PROTOCOL_ERROR);

  const three = client();
  three.conn.receive(Buffer.concat([settingsFrame([]), three.srv.headers(2, [[':status', '200']], true)]));
  goneWith(three.conn, three.t, E.PROTOCOL_ERROR);

  const four = client();
  four.conn.receive(Buffer.concat([settingsFrame([]), four.srv.headers(four.id, [['content-type', 'text/plain']], true)]));
  assert.deepEqual(four.t.of('RST_STREAM').map((f) => [f.streamId, f.code]), [[four.id, E.PROTOCOL_ERROR]]);
  assert.equal(four.conn.state, 'open');
});

test('hostile: timers (tick): an idle connection goes away gracefully; a drain that never ends is cut after drainTimeoutMs', () => {
  let now = 0;
  const one = server({ now: () => now, limits: { connectionIdleTimeoutMs: 1000 } });
  one.conn.receive(Buffer.concat([one.c.preface(), frame(FRAME.SETTINGS, FLAG.ACK, 0), one.c.get(1)]));
  one.conn.respond(1, [[':status', '204']], true);
  now = 900;
  one.conn.tick();
  assert.equal(one.t.of('GOAWAY').length, 0);
  now = 1001;
  one.conn.tick();
  assert.deepEqual(one.t.of('GOAWAY').map((f) => [f.lastStreamId, f.code]), [[2 ** 31 - 1, E.NO_ERROR]]);
  assert.equal(one.conn.state, 'draining');

  now = 0;
  const rec = new Recorder();
  const two = server({ now: () => now }, rec);
  two.conn.receive(Buffer.concat([two.c.preface(), frame(FRAME.SETTINGS, FLAG.ACK, 0), two.c.get(1, '/', false)]));
  two.conn.goaway();
  two.conn.receive(frame(FRAME.PING, FLAG.ACK, 0, Buffer.from('h2-goawy', 'latin1')));
  assert.deepEqual(two.t.of('GOAWAY').map((f) => f.lastStreamId), [2 ** 31 - 1, 1]);
  now = 4000;
  two.conn.receive(data(1, 1)); // the stream is busy, but the drain has a deadline
  two.conn.tick();
  assert.equal(two.conn.state, 'draining');
  now = 5001;
  two.conn.tick();
  assert.equal(two.conn.state, 'closed');
  assert.equal(two.conn.closeReason?.message, 'drain took longer than 5000 ms');
  assert.deepEqual(two.t.of('RST_STREAM').map((f) => [f.streamId, f.code]), [[1, E.CANCEL]]);
  assert.ok(two.t.ended, 'ended, not destroyed');
});

test('h2 hostile: a flood of malformed requests drains the glitch bucket (nghttp2: 10000, 330/s): ENHANCE_YOUR_CALM', () => {
  let clock = 0;
  const t = new MemoryTransport();
  const rec = new Recorder();
  const conn = new H2Connection('server', t, rec, { now: () => clock, limits: { glitchBurst: 5, glitchRatePerSecond: 2 } });
  const c = new FakeClient();
  const bad = (id: number): Buffer => c.raw(id, [[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', 'no-slash']], true);
  conn.receive(Buffer.concat([c.preface(), bad(1), bad(3), bad(5), bad(7), bad(9)]));
  assert.equal(t.of('RST_STREAM').length, 5, 'the burst: each answered RST_STREAM(PROTOCOL_ERROR)');
  assert.equal(conn.state, 'open');
  clock += 1000; // two tokens back
  conn.receive(Buffer.concat([bad(11), bad(13)]));
  assert.equal(conn.state, 'open', 'at the refill rate, still served');
  conn.receive(bad(15));
  assert.equal(conn.state, 'closed');
  assert.equal(conn.closeReason?.code, H2_ERROR.ENHANCE_YOUR_CALM);
  assert.equal(t.of('GOAWAY')[0]!.code, H2_ERROR.ENHANCE_YOUR_CALM);
  assert.equal(t.of('RST_STREAM').length, 7);
  // Our own bound (the buffered bytes) is not the peer's glitch: see the buffered-bound test above.
});
