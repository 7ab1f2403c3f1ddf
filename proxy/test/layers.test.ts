// The per-request layers alone, over fake inner services: rescue, metrics, round robin and their order.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, StreamResetError, UpstreamError } from '../src/errors.js';
import { H2_CODE } from '../src/h2-codes.js';
import * as metricsLayer from '../src/layers/metrics.js';
import * as rescue from '../src/layers/rescue.js';
import * as routeLayer from '../src/layers/route.js';
import { ProxyMetrics } from '../src/metrics.js';
import type { Layer, Service } from '../src/service.js';
import { compose } from '../src/stack.js';
import { metricValue } from './support.js';
import { fakeRequest as request, fakeResponse as response } from './fakes.js';



const failing = (err: Error): Service => () => Promise.reject(err);

describe('rescue layer', () => {
  test('an upstream failure before the headers becomes a 502 naming the reason', async () => {
    const svc = rescue.layer()(failing(new UpstreamError('connect-refused')));
    const res = await svc(request());
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-sluice-error'], 'connect-refused');
  });

  test('an upstream reset is a 502 for h1 and passes through for h2 (the adapter resets with its code)', async () => {
    const svc = rescue.layer()(failing(new StreamResetError(H2_CODE.REFUSED_STREAM)));
    assert.equal((await svc(request())).headers['x-sluice-error'], 'upstream-reset:REFUSED_STREAM');
    await assert.rejects(svc(request({ downstreamProtocol: 'h2' })), (e: unknown) => e instanceof StreamResetError && e.code === 7);
  });

  test('nothing is made up for a client that already left', async () => {
    const gone = new AbortController();
    gone.abort();
    await assert.rejects(rescue.layer()(failing(new CancelledError()))(request({ signal: gone.signal })), CancelledError);
  });
});

describe('metrics layer', () => {
  test('counts by protocol and outcome once the response completes, and times it', async () => {
    const metrics = new ProxyMetrics();
    let failMidway!: (e: unknown) => void;
    const midway = new Promise<undefined>((_, rej) => (failMidway = rej));
    midway.catch(() => {});
    const answers = [response(200), response(503), response(200, midway)];
    const svc = metricsLayer.layer({ metrics })(async () => answers.shift()!);
    await svc(request());
    await svc(request({ downstreamProtocol: 'h2', headers: { 'content-type': 'application/grpc+proto' } }));
    await svc(request({ downstreamProtocol: 'h2' }));
    let text = await metrics.registry.metrics();
    assert.equal(metricValue(text, 'sluice_proxy_requests_total', { protocol: 'h2' }), 0, 'not before the body ends');
    failMidway(new StreamResetError(H2_CODE.CANCEL));
    await new Promise((r) => setImmediate(r));
    text = await metrics.registry.metrics();
    assert.equal(metricValue(text, 'sluice_proxy_requests_total', { protocol: 'h1', status_class: '2xx' }), 1);
    assert.equal(metricValue(text, 'sluice_proxy_requests_total', { protocol: 'grpc', status_class: '5xx' }), 1);
    assert.equal(metricValue(text, 'sluice_proxy_requests_total', { protocol: 'h2', status_class: 'reset' }), 1);
    assert.equal(metricValue(text, 'sluice_proxy_request_duration_seconds_count'), 3);
  });

  test('a failure before the headers is counted and rethrown', async () => {
    const metrics = new ProxyMetrics();
    await assert.rejects(metricsLayer.layer({ metrics })(failing(new UpstreamError('goaway')))(request()), UpstreamError);
    const text = await metrics.registry.metrics();
    assert.equal(metricValue(text, 'sluice_proxy_requests_total', { protocol: 'h1', status_class: 'error' }), 1);
  });

  test("requests are labelled with their profile route's name, the others with default", async () => {
    const metrics = new ProxyMetrics();
    const routes = { routeFor: (req: { path: string }) => (req.path.startsWith('/pkg.Svc/') ? { name: 'svc', retryable: false } : { retryable: false }) };
    const svc = compose([routeLayer.layer(routes), metricsLayer.layer({ metrics })], async () => response(200));
    await svc(request({ path: '/pkg.Svc/Call' }));
    await svc(request({ path: '/pkg.Svc/Call' }));
    await svc(request({ path: '/other' }));
    await new Promise((r) => setImmediate(r));
    const text = await metrics.registry.metrics();
    assert.equal(metricValue(text, 'sluice_proxy_requests_total', { route: 'svc', status_class: '2xx' }), 2);
    assert.equal(metricValue(text, 'sluice_proxy_requests_total', { route: 'default', status_class: '2xx' }), 1);
    assert.equal(metricValue(text, 'sluice_proxy_request_duration_seconds_count', { route: 'svc' }), 2);
  });
});

describe('composition', () => {
  test('compose puts the first layer outermost', async () => {
    const order: string[] = [];
    const tag = (name: string): Layer => (inner) => async (req) => {
      order.push(name);
      return inner(req);
    };
    await compose([tag('outer'), tag('inner')], async () => response(200))(request());
    assert.deepEqual(order, ['outer', 'inner']);
  });
});
