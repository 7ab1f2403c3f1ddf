// The Destination source (--destination, --service) against the synthetic control plane in process
// (workloads/destination/server.ts; test-only: the proxy's own code imports nothing of workloads/). Through the
// proxy: /ready waits for the first endpoints; Remove stops traffic to an endpoint without failing the requests
// in flight on it; Add brings traffic to a new one; NoEndpoints fails requests (503 fail-fast); the profile
// reaches routeFor. The resolver alone: a lost stream is reported and reconnected with backoff, the old set
// stays meanwhile and the new stream's first message replaces it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DestinationServer } from '../../workloads/destination/server.js';
import { DestinationResolver } from '../src/discovery/destination.js';
import type { EndpointChange } from '../src/discovery/index.js';
import { ProfileStore } from '../src/discovery/profile.js';
import { burst, endpointCount, readyStatus, slowBackend, within } from './discovery-support.js';
import { closeSession, connectH2, h2Request, metricValue, proxy, scrapeMetrics } from './support.js';

const SERVICE = 'web.default.svc.cluster.local:8080';

describe('destination through the proxy', { timeout: 30_000 }, () => {
  test('ready at the first Add; Remove keeps in-flight requests and stops new ones; Add takes traffic; NoEndpoints fails requests', async (t) => {
    const [a, b, c] = await Promise.all([slowBackend(300), slowBackend(300), slowBackend(300)]);
    t.after(() => Promise.all([a.close(), b.close(), c.close()]));
    const control = await DestinationServer.start();
    t.after(() => control.close(true));
    // --failfast 200ms: without endpoints, requests wait in the queue that long, then get 503 fail-fast.
    const p = await proxy(['--destination', `127.0.0.1:${control.port}`, '--service', SERVICE, '--balancer', 'least-request', '--failfast', '200ms']);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    // Subscribed, but the service is unknown to the control plane: not ready, requests fail fast.
    assert.ok((await within(5000, () => control.subscribers(SERVICE) === 1)) >= 0, 'the proxy subscribed');
    assert.equal(await readyStatus(p.admin.port), 503);
    const early = await h2Request(client, { ':method': 'GET', ':path': '/', ':authority': 'svc.test' });
    assert.equal(early.status, 503);
    assert.equal(early.headers['x-sluice-error'], 'fail-fast');

    control.setEndpoints(SERVICE, [a.address, b.address]);
    const ready = await within(5000, async () => (await readyStatus(p.admin.port)) === 200);
    t.diagnostic(`ready ${ready} ms after the first Add`);
    assert.ok(ready >= 0, '/ready turns 200 once the first endpoints are known');

    // Remove b while requests are in flight on it.
    const inFlight = burst(client, 8);
    await within(2000, () => a.hits + b.hits === 8);
    assert.ok(b.hits > 0, `b has requests in flight (${b.hits})`);
    control.remove(SERVICE, [b.address]);
    const applied = await within(3000, async () => (await endpointCount(p.admin.port)) === 1);
    t.diagnostic(`Remove applied within ${applied} ms`);
    assert.ok(applied >= 0 && applied < 1000, `Remove applied within a second (${applied} ms)`);
    assert.deepEqual(await inFlight, Array(8).fill(200), 'every request in flight at the Remove succeeded');
    const bBefore = b.hits;
    assert.deepEqual(await burst(client, 8), Array(8).fill(200));
    assert.equal(b.hits, bBefore, 'no request reached the removed endpoint');

    control.add(SERVICE, [c.address]);
    assert.ok((await within(3000, async () => (await endpointCount(p.admin.port)) === 2)) >= 0);
    assert.deepEqual(await burst(client, 8), Array(8).fill(200));
    assert.ok(c.hits > 0, `the added endpoint got ${c.hits} of 8`);

    // NoEndpoints: every endpoint goes; requests fail fast; /ready stays 200 (see README).
    control.noEndpoints(SERVICE);
    assert.ok((await within(3000, async () => (await endpointCount(p.admin.port)) === 0)) >= 0);
    const none = await h2Request(client, { ':method': 'GET', ':path': '/', ':authority': 'svc.test' });
    assert.equal(none.status, 503);
    assert.equal(none.headers['x-sluice-error'], 'fail-fast');
    assert.equal(await readyStatus(p.admin.port), 200);

    const metrics = await scrapeMetrics(p.admin.port);
    const updates = (kind: string): number => metricValue(metrics, 'sluice_proxy_discovery_updates_total', { source: 'destination', kind });
    // The first no_endpoints (unknown service), the set's add, Remove, Add, NoEndpoints.
    assert.deepEqual([updates('add'), updates('remove'), updates('no-endpoints')], [2, 1, 2]);
  });

  test('the profile from GetProfile reaches routeFor, and a new profile replaces it', async (t) => {
    const a = await slowBackend(0);
    t.after(() => a.close());
    const control = await DestinationServer.start();
    t.after(() => control.close(true));
    control.setEndpoints(SERVICE, [a.address]);
    const p = await proxy(['--destination', `127.0.0.1:${control.port}`, '--service', SERVICE]);
    t.after(() => p.stop(0));
    assert.ok((await within(5000, async () => (await readyStatus(p.admin.port)) === 200)) >= 0);
    assert.deepEqual(p.routes.routeFor({ method: 'GET', path: '/items/1' }), { retryable: false });

    control.setProfile(SERVICE, {
      routes: [
        { name: 'get-item', method: 'GET', pathRegex: '/items/\\d+', retryable: true, timeoutMs: 250 },
        { name: 'rest', timeoutMs: 2000 },
      ],
    });
    assert.ok((await within(3000, () => p.routes.routeFor({ method: 'GET', path: '/items/1' }).retryable)) >= 0);
    assert.deepEqual(p.routes.routeFor({ method: 'GET', path: '/items/1' }), { name: 'get-item', retryable: true, timeoutMs: 250 });
    assert.deepEqual(p.routes.routeFor({ method: 'POST', path: '/items/1' }), { name: 'rest', retryable: false, timeoutMs: 2000 });

    control.setProfile(SERVICE, { routes: [] });
    assert.ok((await within(3000, () => p.routes.routeFor({ method: 'GET', path: '/items/1' }).name === undefined)) >= 0);
  });
});

describe('destination resolver: reconnect', { timeout: 20_000 }, () => {
  test('a lost stream is reported and reconnected with backoff; the old set stays until the new stream replaces it', async (t) => {
    let control = await DestinationServer.start();
    const port = control.port;
    t.after(() => control.close(true));
    control.setEndpoints(SERVICE, ['127.0.0.1:9001', '127.0.0.1:9002']);
    control.setProfile(SERVICE, { routes: [{ name: 'all', retryable: true }] });

    const profiles = new ProfileStore();
    const resolver = new DestinationResolver({
      address: { host: '127.0.0.1', port },
      service: SERVICE,
      profiles,
      backoff: { minMs: 50, maxMs: 200, jitter: 0 },
    });
    t.after(() => resolver.close());
    const changes: EndpointChange[] = [];
    const errors: string[] = [];
    await resolver.start({ change: (c) => changes.push(c), error: (e) => errors.push(e) });
    const last = (): string[] => (changes.at(-1)?.endpoints ?? []).map((a) => `${a.host}:${a.port}`).sort();
    assert.ok((await within(5000, () => changes.length === 1)) >= 0);
    assert.deepEqual(last(), ['127.0.0.1:9001', '127.0.0.1:9002']);
    assert.ok((await within(3000, () => profiles.routeFor({ method: 'GET', path: '/' }).retryable)) >= 0);

    // The control plane crashes: both streams are reported lost; nothing changes meanwhile.
    await control.close(true);
    assert.ok((await within(3000, () => errors.length >= 2)) >= 0, errors.join('\n'));
    assert.match(errors.join('\n'), /destination 127\.0\.0\.1:\d+ Get\(web\.default\.svc\.cluster\.local:8080\) failed: [A-Z_]+ .*reconnecting in \d+ ms/);
    await new Promise((r) => setTimeout(r, 300)); // a few failed reconnects
    assert.equal(changes.length, 1, 'the last set stays in use');
    assert.equal(profiles.routeFor({ method: 'GET', path: '/' }).retryable, true, 'the last profile stays in use');

    // Back on the same port with another set: the first message replaces the stale one (9001 and 9002 go).
    control = await DestinationServer.start({ port });
    control.setEndpoints(SERVICE, ['127.0.0.1:9003']);
    assert.ok((await within(5000, () => changes.length === 2)) >= 0, 'reconnected');
    assert.deepEqual(last(), ['127.0.0.1:9003']);
    control.remove(SERVICE, ['127.0.0.1:9003']);
    assert.ok((await within(3000, () => changes.length === 3)) >= 0);
    assert.deepEqual(changes[2]!.kinds, ['remove']);
    assert.deepEqual(last(), []);
    // Its profile is empty: the profile is replaced too.
    assert.ok((await within(3000, () => !profiles.routeFor({ method: 'GET', path: '/' }).retryable)) >= 0);
  });
});
