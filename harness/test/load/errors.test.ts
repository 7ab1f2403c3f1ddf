// Error classification: the names every client reports in RepResult.errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  classifyError,
  goawayClass,
  grpcClass,
  h2Code,
  h2CodeName,
  rstClass,
  statusClass,
  Tally,
} from '../../load/errors.js';

test('HTTP/2 error codes are named as in RFC 9113', () => {
  assert.equal(h2CodeName(0), 'NO_ERROR');
  assert.equal(h2CodeName(7), 'REFUSED_STREAM');
  assert.equal(h2CodeName(8), 'CANCEL');
  assert.equal(h2CodeName(11), 'ENHANCE_YOUR_CALM');
  assert.equal(h2CodeName(13), 'HTTP_1_1_REQUIRED');
  assert.equal(h2CodeName(0x1f), '0x1f');
  assert.equal(h2Code('FLOW_CONTROL_ERROR'), 3);
  assert.equal(rstClass(7), 'rst:REFUSED_STREAM');
  assert.equal(goawayClass(2), 'goaway:INTERNAL_ERROR');
});

test('gRPC statuses are named', () => {
  assert.equal(grpcClass(14), 'grpc:UNAVAILABLE');
  assert.equal(grpcClass(4), 'grpc:DEADLINE_EXCEEDED');
  assert.equal(grpcClass(99), 'grpc:CODE_99');
});

test('HTTP statuses: 4xx and 5xx are error classes, the rest are not', () => {
  assert.equal(statusClass(503), 'status:5xx');
  assert.equal(statusClass(404), 'status:4xx');
  assert.equal(statusClass(200), undefined);
  assert.equal(statusClass(304), undefined);
});

test('socket errors by code, wrapped causes, timeouts, and the rest as other:<code>', () => {
  const sys = (code: string): Error => Object.assign(new Error(`read ${code}`), { code });
  assert.equal(classifyError(sys('ECONNRESET')), 'ECONNRESET');
  assert.equal(classifyError(sys('ECONNREFUSED')), 'ECONNREFUSED');
  assert.equal(classifyError(sys('EPIPE')), 'EPIPE');
  assert.equal(classifyError(sys('ETIMEDOUT')), 'timeout');
  // autocannon's timeout
  assert.equal(classifyError(new Error('request timed out')), 'timeout');
  // node:http2 cancelling pending streams because the connect failed
  const cancelled = Object.assign(new Error('The pending stream has been canceled'), {
    code: 'ERR_HTTP2_STREAM_CANCEL',
    cause: sys('ECONNREFUSED'),
  });
  assert.equal(classifyError(cancelled), 'ECONNREFUSED');
  assert.equal(classifyError(sys('EHOSTUNREACH')), 'other:EHOSTUNREACH');
  assert.equal(classifyError(new TypeError('boom')), 'other:TypeError');
  assert.equal(classifyError('a string'), 'other:unknown');
});

test('Tally counts and sorts its keys', () => {
  const t = new Tally();
  t.add('status:5xx');
  t.add('ECONNRESET', 2);
  t.add('status:5xx');
  assert.equal(t.total, 4);
  assert.deepEqual(Object.entries(t.toRecord()), [
    ['ECONNRESET', 2],
    ['status:5xx', 2],
  ]);
});
