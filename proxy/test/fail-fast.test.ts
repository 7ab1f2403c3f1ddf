// Fail-fast and load shedding: the state machine and the queue layer alone over a fake ready signal, a fake
// timer and a fake inner service; then end to end through the real proxy with every endpoint down (503
// fail-fast within --failfast + 0.5 s, traffic resumes once an endpoint listens) and with a full queue.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { describe, test } from 'node:test';
import type { Schedule } from '../src/balancer/endpoint-state.js';
import { ConfigError } from '../src/config.js';
import { CancelledError } from '../src/errors.js';
import { FailFast, type Readiness } from '../src/layers/fail-fast.js';
import * as queue from '../src/layers/queue.js';
import { ProxyMetrics } from '../src/metrics.js';
import type { ProxyRequest, Service } from '../src/service.js';
import { closeSession, configOf, connectH2, h1Request, h2Request, metricValue, proxy, scrapeMetrics } from './support.js';
import { fakeRequest as request, fakeResponse as response } from './fakes.js';

class FakeReadiness implements Readiness {
  readonly listeners = new Set<(ready: boolean) => void>();
  constructor(private ready = false) {}
  hasReady(): boolean {
    return this.ready;
  }
  onReadyChange(listener: (ready: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(ready: boolean): void {
    this.ready = ready;
    for (const l of this.listeners) l(ready);
  }
}

/** A timer the test fires by hand. */
class FakeTimers {
  readonly pending = new Set<{ fn: () => void; ms: number }>();
  readonly schedule: Schedule = (fn, ms) => {
    const timer = { fn, ms };
    this.pending.add(timer);
    return () => this.pending.delete(timer);
  };
  fire(): void {
    const due = [...this.pending];
    this.pending.clear();
    for (const t of due) t.fn();
  }
}



/** An inner service that records the paths it was called with and answers 200. */
function recording(): { service: Service; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    service: async (req) => {
      calls.push(req.path);
      return response(200);
    },
  };
}

/** Resolves with 'pending' if `p` has not settled after the current turn's microtasks and one macrotask. */
async function settledOrPending<T>(p: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);
}

describe('fail-fast state machine', () => {
  test('unready for the timeout: waiting, then failing; ready again: open; a new outage starts a new timer', () => {
    const readiness = new FakeReadiness(false);
    const timers = new FakeTimers();
    const gate = new FailFast({ readiness, timeoutMs: 300, schedule: timers.schedule });
    const seen: string[] = [];
    gate.onChange((s) => seen.push(s));
    assert.equal(gate.state, 'waiting', 'not ready at start counts as unready from now');
    assert.deepEqual([...timers.pending].map((t) => t.ms), [300]);
    timers.fire();
    assert.equal(gate.state, 'failing');
    readiness.set(true);
    assert.equal(gate.state, 'open');
    readiness.set(false);
    assert.equal(gate.state, 'waiting');
    readiness.set(true);
    assert.equal(timers.pending.size, 0, 'the timer of an outage that ended is cancelled');
    assert.equal(gate.state, 'open');
    assert.deepEqual(seen, ['failing', 'open', 'waiting', 'open']);
  });

  test('--failfast 0 fails at once; close() drops the timer and the subscription', () => {
    const readiness = new FakeReadiness(true);
    const timers = new FakeTimers();
    const immediate = new FailFast({ readiness, timeoutMs: 0, schedule: timers.schedule });
    const timed = new FailFast({ readiness, timeoutMs: 300, schedule: timers.schedule });
    readiness.set(false);
    assert.equal(immediate.state, 'failing');
    assert.equal(timed.state, 'waiting');
    immediate.close();
    timed.close();
    assert.equal(timers.pending.size, 0);
    assert.equal(readiness.listeners.size, 0);
  });
});

describe('queue layer', () => {
  function setup(capacity: number, ready = false) {
    const readiness = new FakeReadiness(ready);
    const timers = new FakeTimers();
    const gate = new FailFast({ readiness, timeoutMs: 300, schedule: timers.schedule });
    const metrics = new ProxyMetrics();
    const inner = recording();
    const svc = queue.layer({ gate, capacity, metrics })(inner.service);
    const metric = async (name: string, labels: Record<string, string> = {}): Promise<number> =>
      metricValue(await metrics.registry.metrics(), name, labels);
    return { readiness, timers, svc, inner, metric };
  }

  test('with a ready endpoint requests pass straight through', async () => {
    const { svc, inner, metric } = setup(10, true);
    assert.equal((await svc(request())).status, 200);
    assert.deepEqual(inner.calls, ['/']);
    assert.equal(await metric('sluice_proxy_failfast'), 0);
  });

  test('without one they wait, unread, and go on in arrival order once one is ready', async () => {
    const { readiness, svc, inner, metric } = setup(10);
    const pending = ['/a', '/b', '/c'].map((path) => svc(request({ path })));
    assert.equal(await settledOrPending(pending[0]!), 'pending');
    assert.deepEqual(inner.calls, [], 'nothing reaches the balancer while no endpoint is ready');
    assert.equal(await metric('sluice_proxy_queue_length'), 3);
    readiness.set(true);
    assert.deepEqual((await Promise.all(pending)).map((r) => r.status), [200, 200, 200]);
    assert.deepEqual(inner.calls, ['/a', '/b', '/c']);
    assert.equal(await metric('sluice_proxy_queue_length'), 0);
  });

  test('a full queue sheds the newcomer at once with 503 load-shed', async () => {
    const { svc, inner, metric } = setup(2);
    const held = [svc(request()), svc(request())];
    const shed = await svc(request());
    assert.equal(shed.status, 503);
    assert.equal(shed.headers['x-sluice-error'], 'load-shed');
    assert.equal(await settledOrPending(held[0]!), 'pending', 'the queued ones still wait');
    assert.equal(await metric('sluice_proxy_shed_total', { reason: 'queue-full' }), 1);
    assert.equal(await metric('sluice_proxy_queue_length'), 2);
    assert.deepEqual(inner.calls, []);
  });

  test('fail-fast answers everything queued and new at once, until an endpoint is ready again', async () => {
    const { readiness, timers, svc, inner, metric } = setup(10);
    const queued = [svc(request()), svc(request())];
    timers.fire(); // --failfast elapsed without a ready endpoint
    for (const res of await Promise.all(queued)) {
      assert.equal(res.status, 503);
      assert.equal(res.headers['x-sluice-error'], 'fail-fast');
    }
    assert.equal((await svc(request())).headers['x-sluice-error'], 'fail-fast', 'a new request too');
    assert.equal(await metric('sluice_proxy_failfast'), 1);
    assert.equal(await metric('sluice_proxy_shed_total', { reason: 'fail-fast' }), 3);
    assert.equal(await metric('sluice_proxy_queue_length'), 0);
    readiness.set(true);
    assert.equal((await svc(request())).status, 200);
    assert.equal(await metric('sluice_proxy_failfast'), 0);
    assert.equal(inner.calls.length, 1);
  });

  test('sluice_proxy_failfast_seconds_total counts the time in fail-fast, a running period up to each scrape', async () => {
    let now = 0;
    const metrics = new ProxyMetrics(() => now);
    const readiness = new FakeReadiness(false);
    const timers = new FakeTimers();
    const gate = new FailFast({ readiness, timeoutMs: 300, schedule: timers.schedule });
    queue.layer({ gate, capacity: 10, metrics })(recording().service);
    const seconds = async (): Promise<number> =>
      metricValue(await metrics.registry.metrics(), 'sluice_proxy_failfast_seconds_total');
    now = 1000;
    assert.equal(await seconds(), 0, 'waiting for an endpoint is not fail-fast');
    timers.fire(); // failing from 1000
    now = 3500;
    assert.equal(await seconds(), 2.5, 'a running period counts up to the scrape');
    now = 4000;
    assert.equal(await seconds(), 3, 'and is not counted twice by the next scrape');
    readiness.set(true); // open at 4000
    now = 9000;
    assert.equal(await seconds(), 3, 'the time after an endpoint is ready again is not counted');
    readiness.set(false);
    now = 10_000;
    timers.fire(); // failing again from 10 000
    now = 10_250;
    readiness.set(true);
    now = 20_000;
    assert.equal(await seconds(), 3.25, 'a second period adds its own time');
  });

  test('a gRPC request gets HTTP 200 + grpc-status 14 (UNAVAILABLE), trailers-only', async () => {
    const { timers, svc } = setup(0);
    const grpc = (): ProxyRequest => request({ downstreamProtocol: 'h2', headers: { 'content-type': 'application/grpc+proto' } });
    const shed = await svc(grpc()); // capacity 0: no queue
    assert.equal(shed.status, 200);
    assert.equal(shed.endStream, true, 'END_STREAM on the headers');
    assert.equal(shed.headers['grpc-status'], '14');
    assert.equal(shed.headers['x-sluice-error'], 'load-shed');
    timers.fire();
    const failed = await svc(grpc());
    assert.equal(failed.headers['grpc-status'], '14');
    assert.match(String(failed.headers['grpc-message']), /fail-fast/);
  });

  test('a client that leaves while queued is removed from the queue', async () => {
    const { readiness, svc, inner, metric } = setup(10);
    const gone = new AbortController();
    const leaving = svc(request({ path: '/gone', signal: gone.signal }));
    const staying = svc(request({ path: '/stays' }));
    gone.abort();
    await assert.rejects(leaving, CancelledError);
    assert.equal(await metric('sluice_proxy_queue_length'), 1);
    readiness.set(true);
    assert.equal((await staying).status, 200);
    assert.deepEqual(inner.calls, ['/stays']);
  });
});

describe('fail-fast flags', () => {
  const EP = ['--endpoints', '127.0.0.1:9001'];
  test("defaults are linkerd's outbound ones", () => {
    const config = configOf(EP);
    assert.equal(config.failfast, 3000);
    assert.equal(config.queueCapacity, 10_000);
    assert.equal(config.idleEvict, 5000);
  });
  test('bad values name the flag', () => {
    for (const [flag, value] of [['--failfast', '3'], ['--queue-capacity', '-1'], ['--idle-evict', '0ms'], ['--idle-evict', 'soon']]) {
      assert.throws(() => configOf([...EP, flag!, value!]), (e: unknown) => e instanceof ConfigError && e.where === flag);
    }
  });
});

/** A free port that refuses connections (bound once, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** An h2c backend on `port`, answering 200 "ok". */
async function backendOn(port: number) {
  const server = http2.createServer((_req, res) => res.end('ok'));
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Runs `send` and resolves with its result and the ms it took. */
async function timed<T>(send: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await send();
  return { value, ms: Date.now() - started };
}

describe('fail-fast through the proxy', { timeout: 20_000 }, () => {
  const FAILFAST_MS = 300;
  const MARGIN_MS = 500;

  test('every endpoint down: 503 fail-fast within --failfast + 0.5 s (gRPC: UNAVAILABLE); 200s once one listens', async (t) => {
    const port = await closedPort();
    // h2 upstream for every client, so the one h2c backend below also answers the HTTP/1.1 client.
    const p = await proxy(['--endpoints', `127.0.0.1:${port}`, '--failfast', `${FAILFAST_MS}ms`, '--upstream-protocol', 'h2']);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    // Sent at once: they wait in the queue until fail-fast fires (or meet it already on).
    const [h1, h2, grpc] = await Promise.all([
      timed(() => h1Request(p.listen.port, { path: '/' })),
      timed(() => h2Request(client, { ':path': '/' })),
      timed(() => h2Request(client, { ':method': 'POST', ':path': '/pkg.Svc/Get', 'content-type': 'application/grpc' }, Buffer.from('x'))),
    ]);
    t.diagnostic(`answered after h1 ${h1.ms} ms, h2 ${h2.ms} ms, gRPC ${grpc.ms} ms (--failfast ${FAILFAST_MS}ms)`);
    for (const { ms } of [h1, h2, grpc]) assert.ok(ms < FAILFAST_MS + MARGIN_MS, `answered after ${ms} ms`);
    assert.equal(h1.value.status, 503);
    assert.equal(h1.value.headers['x-sluice-error'], 'fail-fast');
    assert.equal(h2.value.status, 503);
    assert.equal(h2.value.headers['x-sluice-error'], 'fail-fast');
    assert.equal(grpc.value.status, 200);
    assert.equal(grpc.value.headers['grpc-status'], '14');
    assert.equal(grpc.value.endStreamOnHeaders, true, 'trailers-only');

    // In fail-fast a new request does not wait at all.
    const again = await timed(() => h1Request(p.listen.port, { path: '/' }));
    assert.equal(again.value.headers['x-sluice-error'], 'fail-fast');
    assert.ok(again.ms < MARGIN_MS, `answered after ${again.ms} ms`);
    let text = await scrapeMetrics(p.admin.port);
    assert.equal(metricValue(text, 'sluice_proxy_failfast'), 1);
    assert.ok(metricValue(text, 'sluice_proxy_failfast_seconds_total') > 0, 'the running fail-fast period is counted');
    assert.equal(metricValue(text, 'sluice_proxy_shed_total', { reason: 'fail-fast' }), 4);
    assert.equal(metricValue(text, 'sluice_proxy_requests_total', { status_class: '5xx' }), 3);

    // The endpoint comes back: a backoff probe (at most 500 ms apart) finds it and traffic resumes.
    const backend = await backendOn(port);
    t.after(() => backend.close());
    let status = 0;
    for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      status = (await h2Request(client, { ':path': '/' })).status ?? 0;
      if (status === 200) break;
    }
    assert.equal(status, 200, 'traffic resumes once the endpoint listens');
    assert.equal((await h1Request(p.listen.port, { path: '/' })).status, 200);
    text = await scrapeMetrics(p.admin.port);
    assert.equal(metricValue(text, 'sluice_proxy_failfast'), 0);
  });

  test('a full queue sheds at once while the queued requests wait, and those go on once an endpoint listens', async (t) => {
    const port = await closedPort();
    // A long fail-fast, so only the capacity decides.
    const p = await proxy(['--endpoints', `127.0.0.1:${port}`, '--failfast', '10s', '--queue-capacity', '2']);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    const queued = [h2Request(client, { ':path': '/1' }), h2Request(client, { ':path': '/2' })];
    const length = async (): Promise<number> => metricValue(await scrapeMetrics(p.admin.port), 'sluice_proxy_queue_length');
    let n = 0;
    for (const deadline = Date.now() + 3000; Date.now() < deadline && n < 2; await new Promise((r) => setTimeout(r, 20))) n = await length();
    assert.equal(n, 2, 'both requests are held');

    const shed = await h2Request(client, { ':path': '/3' });
    assert.equal(shed.status, 503);
    assert.equal(shed.headers['x-sluice-error'], 'load-shed');
    assert.equal(await settledOrPending(queued[0]!), 'pending', 'the queued ones are still waiting');
    const text = await scrapeMetrics(p.admin.port);
    assert.equal(metricValue(text, 'sluice_proxy_shed_total', { reason: 'queue-full' }), 1);
    assert.equal(metricValue(text, 'sluice_proxy_failfast'), 0);

    const backend = await backendOn(port);
    t.after(() => backend.close());
    const answers = await Promise.all(queued);
    assert.deepEqual(answers.map((r) => r.status), [200, 200]);
    assert.equal(await length(), 0);
  });
});
