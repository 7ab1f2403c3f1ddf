// RFC 9113 section 8's message rules on received header blocks: each malformed request is a stream
// PROTOCOL_ERROR (RST_STREAM, the connection carries on), as nghttp2 answers it; content-length against DATA.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H2Connection } from '../connection.js';
import { H2_ERROR } from '../errors.js';
import { checkHeaders, contentLength } from '../http-semantics.js';
import type { HeaderList } from '../hpack/encoder.js';
import { data, FakeClient, MemoryTransport, Recorder } from './wire.js';

const GET: HeaderList = [[':method', 'GET'], [':scheme', 'https'], [':authority', 'x'], [':path', '/']];

test('h2 semantics: well-formed requests, responses and trailers pass', () => {
  assert.equal(checkHeaders([...GET, ['accept', '*/*'], ['te', 'trailers']], 'request'), undefined);
  assert.equal(checkHeaders([[':method', 'CONNECT'], [':authority', 'x:443']], 'request'), undefined);
  assert.equal(checkHeaders([[':status', '200'], ['content-type', 'a/b']], 'response'), undefined);
  assert.equal(checkHeaders([['grpc-status', '0']], 'trailers'), undefined);
  // host instead of :authority (an HTTP/1.1 request turned HTTP/2), OPTIONS *, a scheme with + - . and digits.
  assert.equal(checkHeaders([[':method', 'GET'], [':scheme', 'http'], [':path', '/'], ['host', 'x']], 'request'), undefined);
  assert.equal(checkHeaders([[':method', 'OPTIONS'], [':scheme', 'http'], [':authority', 'x'], [':path', '*']], 'request'), undefined);
  assert.equal(checkHeaders([[':method', 'GET'], [':scheme', 'coap+tcp.v2-1'], [':authority', 'x'], [':path', 'urn:x']], 'request'), undefined);
  assert.equal(contentLength([['content-length', '12']]), 12);
  assert.equal(contentLength([['content-length', '12'], ['content-length', '12']]), 12);
  assert.equal(contentLength([['content-length', '1x']]), -1);
  assert.equal(contentLength([['content-length', '1'], ['content-length', '2']]), -1);
});

const MALFORMED: Array<[string, HeaderList]> = [
  ['upper-case name', [...GET, ['Accept', '*/*']]],
  ['name with a space', [...GET, ['a b', '1']]],
  ['value with CR LF', [...GET, ['x', 'a\r\nb: c']]],
  ['value with leading space', [...GET, ['x', ' a']]],
  ['connection-specific field', [...GET, ['connection', 'keep-alive']]],
  ['transfer-encoding', [...GET, ['transfer-encoding', 'chunked']]],
  ['te other than trailers', [...GET, ['te', 'gzip']]],
  ['pseudo after regular', [[':method', 'GET'], [':scheme', 'https'], ['a', 'b'], [':path', '/']]],
  ['duplicate pseudo', [...GET, [':path', '/again']]],
  ['unknown pseudo', [...GET, [':foo', 'x']]],
  [':status in a request', [...GET, [':status', '200']]],
  ['no :method', [[':scheme', 'https'], [':path', '/']]],
  ['no :scheme', [[':method', 'GET'], [':path', '/']]],
  ['neither :authority nor host', [[':method', 'GET'], [':scheme', 'https'], [':path', '/']]],
  ['a path not absolute', [[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', 'index.html']]],
  ['* without OPTIONS', [[':method', 'GET'], [':scheme', 'https'], [':authority', 'x'], [':path', '*']]],
  ['a scheme starting with a digit', [[':method', 'GET'], [':scheme', '1http'], [':authority', 'x'], [':path', '/']]],
  [':protocol without :authority', [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':path', '/chat']]],
  ['empty :path', [[':method', 'GET'], [':scheme', 'https'], [':path', '']]],
  ['CONNECT with :path', [[':method', 'CONNECT'], [':authority', 'x'], [':path', '/']]],
  ['bad content-length', [...GET, ['content-length', 'ten']]],
];

test('h2 semantics: each malformed request is RST_STREAM(PROTOCOL_ERROR), never delivered, the connection stays up', () => {
  for (const [what, headers] of MALFORMED) {
    const t = new MemoryTransport();
    const rec = new Recorder();
    const conn = new H2Connection('server', t, rec);
    const c = new FakeClient();
    conn.receive(Buffer.concat([c.preface(), c.raw(1, headers, false)]));
    assert.deepEqual(t.of('RST_STREAM').map((f) => [f.streamId, f.code]), [[1, H2_ERROR.PROTOCOL_ERROR]], what);
    assert.equal(rec.events.filter((e) => e[0] === 'headers').length, 0, what);
    assert.equal(conn.state, 'open', what);
    conn.receive(c.headers(3, GET, true));
    assert.equal(rec.events.filter((e) => e[0] === 'headers').length, 1, `${what}: the next request passes`);
  }
});

test('h2 semantics: pseudo-headers in trailers, and DATA against content-length, are stream PROTOCOL_ERRORs', () => {
  const cases: Array<[string, (c: FakeClient) => Buffer]> = [
    ['pseudo in trailers', (c) => Buffer.concat([c.headers(1, GET, false), c.headers(1, [[':path', '/x']], true)])],
    ['DATA beyond content-length', (c) => Buffer.concat([c.headers(1, [...GET, ['content-length', '3']], false), data(1, 4)])],
    ['DATA short of content-length', (c) => Buffer.concat([c.headers(1, [...GET, ['content-length', '5']], false), data(1, 4, true)])],
    ['content-length on a request without a body', (c) => c.headers(1, [...GET, ['content-length', '5']], true)],
  ];
  for (const [what, bytes] of cases) {
    const t = new MemoryTransport();
    const conn = new H2Connection('server', t, new Recorder());
    const c = new FakeClient();
    conn.receive(Buffer.concat([c.preface(), bytes(c)]));
    assert.deepEqual(t.of('RST_STREAM').map((f) => [f.streamId, f.code]), [[1, H2_ERROR.PROTOCOL_ERROR]], what);
    assert.equal(conn.state, 'open', what);
  }
  // Exactly content-length: delivered.
  const t = new MemoryTransport();
  const rec = new Recorder();
  const conn = new H2Connection('server', t, rec);
  const c = new FakeClient();
  conn.receive(Buffer.concat([c.preface(), c.headers(1, [...GET, ['content-length', '4']], false), data(1, 4, true)]));
  assert.equal(t.of('RST_STREAM').length, 0);
  assert.deepEqual(rec.events.filter((e) => e[0] === 'data'), [['data', 1, 4, true]]);
  // validateHttp: false hands anything over.
  const raw = new MemoryTransport();
  const rawRec = new Recorder();
  const rawConn = new H2Connection('server', raw, rawRec, { validateHttp: false });
  rawConn.receive(Buffer.concat([c.preface(), c.raw(1, [['Upper', 'x']], true)]));
  assert.equal(rawRec.events.filter((e) => e[0] === 'headers').length, 1);
});
