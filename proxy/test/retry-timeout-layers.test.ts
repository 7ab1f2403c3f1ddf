// The retry and timeout layers alone, over fake inner services: what is retried and how often, the budget and
// the backoff between attempts, the replayed body, and the timeout's 504 or cancel.
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { describe, test } from 'node:test';
import type { CancelSignal } from '../src/cancel.js';
import { CancelledError, StreamResetError, TimeoutError, UpstreamError } from '../src/errors.js';
import { H2_CODE } from '../src/h2-codes.js';
import * as retry from '../src/layers/retry.js';
import * as route from '../src/layers/route.js';
import * as timeout from '../src/layers/timeout.js';
import { ProxyMetrics } from '../src/metrics.js';
import { compose } from '../src/stack.js';
import type { ProxyRequest, ProxyResponse, Service } from '../src/service.js';
import { configOf, metricValue } from './support.js';
import { fakeRequest } from './fakes.js';

/** The requests here arrive over h2. */
const request = (over: Partial<ProxyRequest> = {}): ProxyRequest => fakeRequest({ downstreamProtocol: 'h2', ...over });

function ok(body: Readable = Readable.from([]), trailers: Promise<undefined> = Promise.resolve(undefined)): ProxyResponse {
  return { status: 200, headers: {}, body, trailers, endStream: false };
}

/** A service answering from `outcomes` in turn (an Error is thrown), recording each attempt's request. */
function scripted(outcomes: (Error | ProxyResponse)[]): Service & { attempts: ProxyRequest[] } {
  const attempts: ProxyRequest[] = [];
  const svc = async (req: ProxyRequest): Promise<ProxyResponse> => {
    attempts.push(req);
    const next = outcomes.shift();
    if (next === undefined) throw new Error('no more outcomes');
    if (next instanceof Error) throw next;
    return next;
  };
  return Object.assign(svc, { attempts });
}

function retryLayer(flags: string[] = [], metrics = new ProxyMetrics(), sleeps: number[] = []) {
  const settings = configOf(['--endpoints', '127.0.0.1:1', ...flags]);
  return {
    metrics,
    sleeps,
    layer: retry.layer({
      settings,
      metrics,
      rng: () => 0.5,
      clock: () => 0,
      sleep: async (ms) => void sleeps.push(ms),
    }),
  };
}

const refused = () => new StreamResetError(H2_CODE.REFUSED_STREAM);
const internal = () => new StreamResetError(H2_CODE.INTERNAL_ERROR);

describe('retry layer', () => {
  test('a reset GET is retried after a jittered backoff and succeeds', async () => {
    const { layer, metrics, sleeps } = retryLayer();
    const inner = scripted([internal(), new UpstreamError('connect-refused'), ok()]);
    const res = await layer(inner)(request());
    assert.equal(res.status, 200);
    assert.equal(inner.attempts.length, 3);
    assert.deepEqual(sleeps, [12.5, 37.5], 'half of 25 ms, then half of 75 ms (rng 0.5)');
    const text = await metrics.registry.metrics();
    assert.equal(metricValue(text, 'sluice_proxy_retries_total', { reason: 'upstream-reset:INTERNAL_ERROR' }), 1);
    assert.equal(metricValue(text, 'sluice_proxy_retries_total', { reason: 'connect-refused' }), 1);
  });

  test('at most --retries retries; the last failure is passed on', async () => {
    const { layer } = retryLayer(['--retries', '1']);
    const inner = scripted([internal(), refused(), ok()]);
    await assert.rejects(layer(inner)(request()), (e: unknown) => e instanceof StreamResetError && e.code === H2_CODE.REFUSED_STREAM);
    assert.equal(inner.attempts.length, 2);
  });

  test('a reset POST is not retried, unless REFUSED_STREAM or a retryable route', async () => {
    const post = request({ method: 'POST', path: '/pkg.Svc/Call' });
    const plain = scripted([internal(), ok()]);
    await assert.rejects(retryLayer().layer(plain)(post), StreamResetError);
    assert.equal(plain.attempts.length, 1);
    const refusedFirst = scripted([refused(), ok()]);
    assert.equal((await retryLayer().layer(refusedFirst)(post)).status, 200);
    const route = scripted([internal(), ok()]);
    assert.equal((await retryLayer(['--retryable-routes', '/pkg.Svc/']).layer(route)(post)).status, 200);
  });

  test('the budget stops retries once exhausted, and counts it', async () => {
    // ratio 0.5, no reserve: every second request earns one retry.
    const { layer, metrics } = retryLayer(['--retry-budget-ratio', '0.5', '--retry-budget-min-per-s', '0', '--retries', '1']);
    let attempts = 0;
    const svc = layer(async () => {
      attempts++;
      throw internal();
    });
    for (let i = 0; i < 6; i++) await assert.rejects(svc(request()), StreamResetError);
    assert.equal(attempts, 9, '6 requests + 3 retries');
    const text = await metrics.registry.metrics();
    assert.equal(metricValue(text, 'sluice_proxy_retry_budget_exhausted_total'), 3);
    assert.equal(metricValue(text, 'sluice_proxy_retries_total'), 3);
  });

  test('each attempt gets the whole body; past --retry-buffer-bytes no retry is made', async () => {
    const small = scripted([refused(), ok()]);
    const seen: string[] = [];
    const reading: Service = async (req) => {
      const chunks: Buffer[] = [];
      for await (const c of req.body) chunks.push(c as Buffer);
      seen.push(Buffer.concat(chunks).toString());
      return small(req);
    };
    const body = new PassThrough();
    body.end('payload');
    await retryLayer().layer(reading)(request({ method: 'POST', body, endStream: false }));
    assert.deepEqual(seen, ['payload', 'payload']);

    const big = scripted([refused(), ok()]);
    const drain: Service = async (req) => {
      for await (const _ of req.body) void _;
      return big(req);
    };
    const large = Readable.from([Buffer.alloc(2048)]);
    await assert.rejects(retryLayer(['--retry-buffer-bytes', '1024']).layer(drain)(request({ method: 'POST', body: large, endStream: false })), StreamResetError);
    assert.equal(big.attempts.length, 1);
  });

  test('a client that leaves during the backoff ends the retries', async () => {
    const client = new AbortController();
    const metrics = new ProxyMetrics();
    const settings = configOf(['--endpoints', '127.0.0.1:1']);
    const inner = scripted([internal(), ok()]);
    const layer = retry.layer({ settings, metrics, sleep: async () => client.abort() });
    await assert.rejects(layer(inner)(request({ signal: client.signal })), CancelledError);
    assert.equal(inner.attempts.length, 1);
  });

  test('--retries 0 is no layer at all', () => {
    const inner = scripted([]);
    assert.equal(retryLayer(['--retries', '0']).layer(inner), inner);
  });
});

describe('timeout layer', () => {
  test('before the response headers: 504 timeout, and the attempt is cancelled through its signal', async () => {
    const metrics = new ProxyMetrics();
    let innerSignal: CancelSignal | undefined;
    const svc = timeout.layer({ timeoutMs: 50, metrics })((req) => {
      innerSignal = req.signal;
      return new Promise((_, reject) => req.signal.addEventListener('abort', () => reject(new CancelledError())));
    });
    const res = await svc(request());
    assert.equal(res.status, 504);
    assert.equal(res.headers['x-sluice-error'], 'timeout');
    assert.equal(innerSignal?.aborted, true);
    assert.equal(metricValue(await metrics.registry.metrics(), 'sluice_proxy_timeouts_total', { kind: 'request' }), 1);
  });

  test('after the headers: the response fails with TimeoutError (an h2 client sees CANCEL)', async () => {
    const metrics = new ProxyMetrics();
    const svc = timeout.layer({ timeoutMs: 50, metrics })(async (req) => {
      let fail!: (e: unknown) => void;
      const trailers = new Promise<undefined>((_, rej) => (fail = rej));
      req.signal.addEventListener('abort', () => fail(new CancelledError()));
      return ok(new PassThrough(), trailers);
    });
    const res = await svc(request());
    assert.equal(res.status, 200);
    await assert.rejects(res.trailers, (e: unknown) => e instanceof TimeoutError && e instanceof CancelledError);
  });

  test('a response that completes in time is left alone, and the client going away still cancels', async () => {
    const metrics = new ProxyMetrics();
    const svc = timeout.layer({ timeoutMs: 100, metrics })(async () => ok());
    const res = await svc(request());
    assert.equal(await res.trailers, undefined);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(metricValue(await metrics.registry.metrics(), 'sluice_proxy_timeouts_total'), 0, 'timer cleared');

    const client = new AbortController();
    const waiting = timeout.layer({ timeoutMs: 10_000, metrics })((req) =>
      new Promise((_, reject) => req.signal.addEventListener('abort', () => reject(new CancelledError()))),
    )(request({ signal: client.signal }));
    client.abort();
    await assert.rejects(waiting, CancelledError);
  });
});

describe('profile routes (--destination GetProfile)', () => {
  /** A profile whose one route is /pkg.Svc/Slow: retryable, with a 50 ms timeout. */
  const routes = {
    routeFor: (req: Pick<ProxyRequest, 'method' | 'path'>) =>
      req.path === '/pkg.Svc/Slow' ? { name: 'slow', retryable: true, timeoutMs: 50 } : { retryable: false },
  };

  test("a route marked retryable is retried whatever its method; other POSTs are not", async () => {
    const settings = configOf(['--endpoints', '127.0.0.1:1']);
    const retryLayer = retry.layer({ settings, metrics: new ProxyMetrics(), rng: () => 0.5, clock: () => 0, sleep: async () => {} });
    const layer = (inner: Service): Service => compose([route.layer(routes), retryLayer], inner);
    const onRoute = scripted([internal(), ok()]);
    assert.equal((await layer(onRoute)(request({ method: 'POST', path: '/pkg.Svc/Slow' }))).status, 200);
    assert.equal(onRoute.attempts.length, 2);
    const offRoute = scripted([internal(), ok()]);
    await assert.rejects(layer(offRoute)(request({ method: 'POST', path: '/pkg.Svc/Fast' })), StreamResetError);
    assert.equal(offRoute.attempts.length, 1);
  });

  test("a route's timeout applies even with --request-timeout off; other routes are not timed", async () => {
    const metrics = new ProxyMetrics();
    const hang: Service = (req) =>
      new Promise((resolve, reject) => {
        req.signal.addEventListener('abort', () => reject(new CancelledError()));
        if (req.path !== '/pkg.Svc/Slow') setTimeout(() => resolve(ok()), 150);
      });
    const svc = compose([route.layer(routes), timeout.layer({ timeoutMs: 0, metrics, routeTimeouts: true })], hang);
    assert.equal((await svc(request({ path: '/pkg.Svc/Slow' }))).status, 504);
    assert.equal((await svc(request({ path: '/pkg.Svc/Fast' }))).status, 200, 'no timeout: answered after 150 ms');
    assert.equal(metricValue(await metrics.registry.metrics(), 'sluice_proxy_timeouts_total', { kind: 'request' }), 1);
  });
});
