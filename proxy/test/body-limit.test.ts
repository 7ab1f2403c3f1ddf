// The body-limit layer and the connection-life timers alone, over fakes: no sockets.
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { ConnLife } from '../src/downstream/conn-life.js';
import { CancelledError } from '../src/errors.js';
import * as bodyLimit from '../src/layers/body-limit.js';
import * as rescue from '../src/layers/rescue.js';
import { ProxyMetrics } from '../src/metrics.js';
import type { ProxyRequest, ProxyResponse, Service } from '../src/service.js';
import { compose } from '../src/stack.js';
import { metricValue } from './support.js';
import { fakeRequest } from './fakes.js';
import { buffer as readAll } from 'node:stream/consumers';

/** A POST whose body follows the headers. */
const request = (over: Partial<ProxyRequest> = {}): ProxyRequest => fakeRequest({ method: 'POST', endStream: false, ...over });

/** An upstream that reads the whole body and answers with its length; cancelled like the real clients. */
const echoLength: Service = (req) =>
  new Promise<ProxyResponse>((resolve, reject) => {
    req.signal.addEventListener('abort', () => reject(new CancelledError()), { once: true });
    readAll(req.body).then((body) =>
      resolve({ status: 200, headers: {}, body: Readable.from([Buffer.from(String(body.length))]), trailers: Promise.resolve(undefined), endStream: false }),
    );
  });

describe('body-limit layer', () => {
  const stack = (maxBytes: number, inner: Service): Service => compose([bodyLimit.layer({ maxBytes }), rescue.layer()], inner);

  test('a Content-Length over the limit is a 413 at once; the upstream is never asked', async () => {
    let asked = 0;
    const svc = stack(1000, (req) => {
      asked++;
      return echoLength(req);
    });
    const res = await svc(request({ headers: { 'content-length': '1001' }, body: new PassThrough() }));
    assert.equal(res.status, 413);
    assert.equal(res.headers['x-sluice-error'], 'request-body-too-large');
    assert.equal(asked, 0);
  });

  test('a body without a length is cut past the limit: the upstream is cancelled and the client gets 413', async () => {
    const body = new PassThrough();
    const pending = stack(1000, echoLength)(request({ body }));
    body.write(Buffer.alloc(600));
    body.write(Buffer.alloc(600)); // 1200 > 1000; the client keeps its stream open
    const res = await pending;
    assert.equal(res.status, 413);
  });

  test('a body within the limit passes intact; 0 turns the limit off; bodiless requests are untouched', async () => {
    const within = await stack(1000, echoLength)(request({ body: Readable.from([Buffer.alloc(400), Buffer.alloc(600)]) }));
    assert.equal((await readAll(within.body)).toString(), '1000');
    const off = await stack(0, echoLength)(request({ headers: { 'content-length': '5000' }, body: Readable.from([Buffer.alloc(5000)]) }));
    assert.equal((await readAll(off.body)).toString(), '5000');
    const get = await stack(10, echoLength)(request({ method: 'GET', endStream: true }));
    assert.equal(get.status, 200);
  });
});

describe('connection life timers', () => {
  const config = (over: Partial<{ downstreamIdleTimeout: number; maxConnectionDuration: number; drainTimeout: number }>) => ({
    downstreamIdleTimeout: 0,
    maxConnectionDuration: 0,
    drainTimeout: 1000,
    metrics: new ProxyMetrics(),
    ...over,
  });
  const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  test('idle: drains only after the idle time without a request in flight', async () => {
    const calls: string[] = [];
    const life = new ConnLife(config({ downstreamIdleTimeout: 60 }), { drain: () => calls.push('drain'), close: () => calls.push('close') });
    life.started();
    await wait(120);
    assert.deepEqual(calls, [], 'a request is in flight');
    life.finished();
    await wait(150);
    assert.deepEqual(calls, ['drain']);
    assert.equal(life.reason, 'idle');
    life.closed('peer');
  });

  test('max duration drains even while busy; the drain timeout then closes; the close is counted once with its reason', async () => {
    const calls: string[] = [];
    const cfg = config({ maxConnectionDuration: 50, drainTimeout: 80 });
    const life = new ConnLife(cfg, { drain: () => calls.push('drain'), close: () => calls.push('close') });
    life.started();
    await wait(250);
    assert.deepEqual(calls, ['drain', 'close']);
    life.closed('peer');
    life.closed('error');
    const text = await cfg.metrics.registry.metrics();
    assert.equal(metricValue(text, 'sluice_proxy_connections_closed_total', { side: 'downstream', reason: 'max-duration' }), 1);
    assert.equal(metricValue(text, 'sluice_proxy_connections_closed_total', { side: 'downstream' }), 1);
  });
});
