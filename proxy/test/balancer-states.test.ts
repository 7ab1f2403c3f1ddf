// Endpoint states through the balancer with fake probes, timers and clock: a refused endpoint becomes failed,
// is probed again after an exponential backoff, and takes traffic again once it is back; a request that fails
// at the transport level fails its endpoint; only ready endpoints are picked while there are any.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newBalancer, type Balancer } from '../src/balancer/index.js';
import { UpstreamError, StreamResetError } from '../src/errors.js';
import type { Service } from '../src/service.js';
import { fakeRequest as request, fakeResponse } from './fakes.js';



/** A fake endpoint: `up` decides whether its probe connects and its requests are answered or refused. */
class FakeEndpoint {
  up: boolean;
  hits = 0;
  failWith: Error | undefined;
  constructor(
    readonly name: string,
    up: boolean,
  ) {
    this.up = up;
  }
  probe = async (): Promise<void> => {
    if (!this.up) throw new UpstreamError('connect-refused');
  };
  service: Service = async () => {
    if (this.failWith) throw this.failWith;
    if (!this.up) throw new UpstreamError('connect-refused');
    this.hits++;
    return fakeResponse();
  };
}

interface Timer {
  fn: () => void;
  ms: number;
  cancelled: boolean;
}

function setup(fakes: FakeEndpoint[], policy: 'p2c' | 'least-request' | 'round-robin' = 'p2c') {
  const timers: Timer[] = [];
  let draws = 0;
  const balancer: Balancer = newBalancer({
    policy,
    endpoints: fakes.map((f) => ({ name: f.name, service: f.service, probe: f.probe })),
    decayMs: 10_000,
    defaultRttMs: 30,
    rng: () => (draws++ % 7) / 7,
    clock: () => 0,
    schedule: (fn, ms) => {
      const timer = { fn, ms, cancelled: false };
      timers.push(timer);
      return () => (timer.cancelled = true);
    },
  });
  const pending = (): Timer[] => timers.filter((t) => !t.cancelled);
  /** Fires the one live timer and lets the probe it starts settle. */
  const fire = async (): Promise<number> => {
    const live = pending();
    assert.equal(live.length, 1, 'one probe scheduled');
    const timer = live[0]!;
    timer.cancelled = true;
    timer.fn();
    await settle();
    return timer.ms;
  };
  return { balancer, timers, pending, fire };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

async function send(balancer: Balancer, n: number): Promise<number> {
  let failed = 0;
  for (let i = 0; i < n; i++) await balancer.service(request()).catch(() => failed++);
  return failed;
}

describe('endpoint states', () => {
  test('a refused endpoint becomes failed, is retried with exponential backoff, and takes traffic when it is back', async () => {
    const a = new FakeEndpoint('a', true);
    const b = new FakeEndpoint('b', false);
    const { balancer, pending, fire } = setup([a, b]);
    const readiness: boolean[] = [];
    balancer.onReadyChange((r) => readiness.push(r));
    await balancer.settled(1000);
    assert.deepEqual(balancer.counts(), { pending: 0, ready: 1, failed: 1 });
    assert.deepEqual(
      balancer.endpoints.map((e) => e.status),
      ['ready', 'failed'],
    );

    // Only the ready endpoint is picked.
    assert.equal(await send(balancer, 20), 0);
    assert.equal(a.hits, 20);

    // Probes keep failing: 100, 200, 400, then capped at 500 ms.
    assert.equal(await fire(), 100);
    assert.equal(await fire(), 200);
    assert.equal(await fire(), 400);
    assert.equal(await fire(), 500);
    assert.equal(balancer.endpoints[1]!.status, 'failed');

    // Back: the next probe makes it ready and it takes traffic again; no probe is left scheduled.
    b.up = true;
    assert.equal(await fire(), 500);
    assert.equal(balancer.endpoints[1]!.status, 'ready');
    assert.equal(pending().length, 0);
    assert.equal(await send(balancer, 40), 0);
    assert.ok(b.hits > 5, `b got ${b.hits} of 40`);
    assert.deepEqual(readiness, [true]);
  });

  test('a transport failure of a request fails a ready endpoint; a stream reset does not', async () => {
    const a = new FakeEndpoint('a', true);
    const { balancer, pending, fire } = setup([a]);
    const readiness: boolean[] = [];
    balancer.onReadyChange((r) => readiness.push(r));
    await balancer.settled(1000);
    assert.equal(balancer.hasReady(), true);

    a.failWith = new StreamResetError(2);
    await assert.rejects(balancer.service(request()), StreamResetError);
    assert.equal(balancer.endpoints[0]!.status, 'ready');

    a.failWith = new UpstreamError('connection-reset');
    await assert.rejects(balancer.service(request()), UpstreamError);
    assert.equal(balancer.endpoints[0]!.status, 'failed');
    assert.equal(balancer.hasReady(), false);
    assert.equal(pending().length, 1);

    // With nothing ready or pending the failed endpoint is still tried, and the request fails with its cause.
    a.failWith = undefined;
    a.up = false;
    await assert.rejects(balancer.service(request()), (e: unknown) => e instanceof UpstreamError && e.reason === 'connect-refused');
    assert.equal(pending().length, 1, 'still one probe, not one per failure');

    a.up = true;
    assert.equal(await fire(), 100);
    assert.equal(balancer.endpoints[0]!.status, 'ready');
    assert.deepEqual(readiness, [true, false, true]);
    assert.equal(balancer.endpoints[0]!.inFlight, 0);
  });

  test('pending endpoints are used while none is ready', async () => {
    const a = new FakeEndpoint('a', true);
    const b = new FakeEndpoint('b', true);
    const { balancer } = setup([a, b], 'round-robin');
    // Before the probes settle both are pending and both take traffic.
    assert.deepEqual(balancer.counts(), { pending: 2, ready: 0, failed: 0 });
    await Promise.all([balancer.service(request()), balancer.service(request())]);
    assert.equal(a.hits + b.hits, 2);
    assert.ok(a.hits === 1 && b.hits === 1);
  });

  test('no endpoints: an UpstreamError no-endpoints', async () => {
    const { balancer } = setup([]);
    await assert.rejects(balancer.service(request()), (e: unknown) => e instanceof UpstreamError && e.reason === 'no-endpoints');
  });

  test('least-request through the balancer sends to the idle endpoint', async () => {
    const a = new FakeEndpoint('a', true);
    const b = new FakeEndpoint('b', true);
    const { balancer } = setup([a, b], 'least-request');
    await balancer.settled(1000);
    balancer.endpoints[0]!.inFlight = 3;
    await send(balancer, 5);
    assert.equal(b.hits, 5);
    balancer.endpoints[0]!.inFlight = 0;
  });
});
