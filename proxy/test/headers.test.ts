// What crosses the proxy: end-to-end fields only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endToEnd, forH1 } from '../src/headers.js';

test('endToEnd drops pseudo headers, hop-by-hop fields and those named in Connection; keeps te: trailers', () => {
  const out = endToEnd({
    ':method': 'GET',
    ':path': '/',
    host: 'svc',
    connection: 'keep-alive, X-Private',
    'keep-alive': 'timeout=5',
    'proxy-connection': 'keep-alive',
    'transfer-encoding': 'chunked',
    upgrade: 'h2c',
    'http2-settings': 'AAA',
    'x-private': 'hop',
    te: 'trailers, deflate',
    'content-type': 'application/grpc',
    'set-cookie': ['a=1', 'b=2'],
  });
  assert.deepEqual(out, { te: 'trailers', 'content-type': 'application/grpc', 'set-cookie': ['a=1', 'b=2'] });
  assert.deepEqual(endToEnd({ te: 'gzip' }), {}, 'te other than trailers is never forwarded');
});

test('forH1 drops te, which HTTP/1.1 ties to a Connection option', () => {
  assert.deepEqual(forH1({ te: 'trailers', accept: '*/*' }), { accept: '*/*' });
});
