// The balancer's endpoint set changed at run time (discovery): an added endpoint is probed and takes traffic; a
// removed one is never picked again, its in-flight requests finish, and it is closed only after the last one;
// removing every endpoint fails requests with no-endpoints and reports "no ready endpoint". Fake endpoints only.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { newBalancer, type BalancerEndpoint } from '../src/balancer/index.js';
import { UpstreamError } from '../src/errors.js';
import type { Headers, ProxyResponse } from '../src/service.js';
import { fakeRequest as request } from './fakes.js';


/** An endpoint whose responses complete only when the test says so. */
class HeldEndpoint {
  hits = 0;
  closed = 0;
  private finish: (() => void)[] = [];
  constructor(readonly name: string) {}
  get endpoint(): BalancerEndpoint {
    return {
      name: this.name,
      probe: async () => {},
      service: async (): Promise<ProxyResponse> => {
        this.hits++;
        let done!: (t: Headers | undefined) => void;
        const trailers = new Promise<Headers | undefined>((r) => (done = r));
        this.finish.push(() => done(undefined));
        return { status: 200, headers: {}, body: new PassThrough().end(), trailers, endStream: true };
      },
      close: () => this.closed++,
    };
  }
  /** Completes every response so far. */
  release(): void {
    for (const f of this.finish.splice(0)) f();
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function balancerOf(...endpoints: HeldEndpoint[]) {
  let draws = 0;
  return newBalancer({
    policy: 'round-robin',
    endpoints: endpoints.map((e) => e.endpoint),
    decayMs: 10_000,
    defaultRttMs: 30,
    rng: () => (draws++ % 5) / 5,
    clock: () => 0,
  });
}

describe('balancer: endpoints added and removed at run time', () => {
  test('a removed endpoint is not picked again; it closes only after its in-flight requests finish', async () => {
    const a = new HeldEndpoint('a');
    const b = new HeldEndpoint('b');
    const balancer = balancerOf(a, b);
    await balancer.settled(1000);
    // Two requests in flight on each.
    const inFlight = await Promise.all([1, 2, 3, 4].map(() => balancer.service(request())));
    assert.deepEqual([a.hits, b.hits], [2, 2]);

    assert.equal(balancer.remove('b'), true);
    assert.equal(balancer.remove('b'), false, 'already gone');
    assert.deepEqual(balancer.endpoints.map((e) => e.name), ['a']);
    for (let i = 0; i < 6; i++) await balancer.service(request());
    assert.deepEqual([a.hits, b.hits], [8, 2], 'b takes nothing once removed');

    await tick();
    assert.equal(b.closed, 0, 'not closed while its requests are in flight');
    b.release();
    a.release();
    // Every in-flight response completes normally.
    assert.deepEqual(await Promise.all(inFlight.map((r) => r.trailers)), [undefined, undefined, undefined, undefined]);
    await tick();
    assert.equal(b.closed, 1, 'closed once, after the last one finished');
    assert.equal(a.closed, 0);
    balancer.close();
  });

  test('an idle removed endpoint closes at once; an added one is probed and takes traffic; a name is added once', async () => {
    const a = new HeldEndpoint('a');
    const balancer = balancerOf(a);
    await balancer.settled(1000);
    assert.equal(balancer.remove('a'), true);
    await tick();
    assert.equal(a.closed, 1);

    const c = new HeldEndpoint('c');
    const d = new HeldEndpoint('d');
    assert.equal(balancer.add(c.endpoint), true);
    assert.equal(balancer.add(d.endpoint), true);
    assert.equal(balancer.add(new HeldEndpoint('c').endpoint), false, 'c is already there');
    await balancer.settled(1000);
    assert.deepEqual(balancer.counts(), { pending: 0, ready: 2, failed: 0 });
    for (let i = 0; i < 4; i++) await balancer.service(request());
    assert.deepEqual([c.hits, d.hits], [2, 2]);
    c.release();
    d.release();
    balancer.close();
  });

  test('removing every endpoint: requests fail with no-endpoints, readiness drops, and comes back with an add', async () => {
    const a = new HeldEndpoint('a');
    const balancer = balancerOf(a);
    const readiness: boolean[] = [];
    balancer.onReadyChange((r) => readiness.push(r));
    await balancer.settled(1000);
    balancer.remove('a');
    await assert.rejects(balancer.service(request()), (e: unknown) => e instanceof UpstreamError && e.reason === 'no-endpoints');
    assert.equal(balancer.hasReady(), false);
    const b = new HeldEndpoint('b');
    balancer.add(b.endpoint);
    await balancer.settled(1000);
    assert.equal(balancer.hasReady(), true);
    assert.deepEqual(readiness, [true, false, true]);
    // An endpoint removed and added again under the same name is a new one.
    balancer.remove('b');
    const b2 = new HeldEndpoint('b');
    balancer.add(b2.endpoint);
    await balancer.settled(1000);
    await balancer.service(request());
    assert.deepEqual([b.hits, b2.hits], [0, 1]);
    b2.release();
    balancer.close();
  });
});
