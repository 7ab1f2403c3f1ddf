// The policies with an injected RNG: p2c draws two distinct endpoints and takes the cheaper, least-request
// the least loaded (ties at random), round robin in turn.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { EndpointState } from '../src/balancer/endpoint-state.js';
import { leastRequest } from '../src/balancer/least-request.js';
import { p2c, pickTwo } from '../src/balancer/p2c.js';
import { roundRobinPicker } from '../src/balancer/round-robin.js';
import type { ProxyResponse } from '../src/service.js';

/** Returns the values in turn, forever. */
const sequence = (...values: number[]): (() => number) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

const ok = async (): Promise<ProxyResponse> => ({
  status: 200,
  headers: {},
  body: new PassThrough(),
  trailers: Promise.resolve(undefined),
  endStream: true,
});

/** An endpoint on a frozen clock with the given RTT estimate and in-flight count; its probe never settles. */
function endpoint(name: string, rttMs: number, inFlight = 0): EndpointState {
  const e = new EndpointState({
    name,
    service: ok,
    probe: () => new Promise(() => {}),
    decayMs: 10_000,
    defaultRttMs: rttMs,
    clock: () => 0,
    schedule: () => () => {},
  });
  e.inFlight = inFlight;
  return e;
}

describe('p2c', () => {
  test('the two choices are always distinct and in range, whatever the RNG says', () => {
    for (const n of [2, 3, 5, 10]) {
      for (let x = 0; x < 100; x++) {
        for (const y of [0, 0.25, 0.5, 0.999_999_999, 1]) {
          const [a, b] = pickTwo(n, sequence(x / 100, y));
          assert.notEqual(a, b, `n=${n} x=${x / 100} y=${y}`);
          assert.ok(a >= 0 && a < n && b >= 0 && b < n);
        }
      }
    }
    // The same draw twice still yields two endpoints.
    assert.deepEqual(pickTwo(2, sequence(0)), [0, 1]);
    assert.deepEqual(pickTwo(3, sequence(0.5)), [1, 2]);
  });

  test('takes the lower cost of the pair, in either order', () => {
    const fast = endpoint('fast', 1);
    const slow = endpoint('slow', 20);
    const pick = p2c(sequence(0, 0, 0.9, 0));
    for (let i = 0; i < 10; i++) assert.equal(pick([slow, fast]), fast);
  });

  test('cost weighs in-flight requests: a fast endpoint with a queue loses to an idle slower one', () => {
    const busy = endpoint('busy', 1, 30); // 1 × 31
    const idle = endpoint('idle', 20, 0); // 20 × 1
    assert.equal(p2c(sequence(0.1, 0.1))([busy, idle]), idle);
    const lightlyBusy = endpoint('light', 1, 5); // 1 × 6
    assert.equal(p2c(sequence(0.1, 0.1))([lightlyBusy, idle]), lightlyBusy);
  });

  test('among three, only the drawn pair is compared', () => {
    const a = endpoint('a', 5);
    const b = endpoint('b', 10);
    const c = endpoint('c', 1);
    // Draws 0 then 0 -> pair (0, 1): a vs b, c not considered.
    assert.equal(p2c(sequence(0, 0))([a, b, c]), a);
    // Draws 0.9 then 0 -> pair (2, 0): c wins.
    assert.equal(p2c(sequence(0.9, 0))([a, b, c]), c);
  });

  test('one candidate is taken without drawing', () => {
    const only = endpoint('only', 50);
    assert.equal(p2c(() => assert.fail('no draw'))([only]), only);
  });
});

describe('least-request', () => {
  test('picks the endpoint with the fewest requests in flight', () => {
    const eps = [endpoint('a', 1, 3), endpoint('b', 1, 1), endpoint('c', 1, 2)];
    assert.equal(leastRequest(sequence(0.99))(eps), eps[1]);
  });

  test('ties are broken at random', () => {
    const eps = [endpoint('a', 1, 1), endpoint('b', 1, 4), endpoint('c', 1, 1)];
    assert.equal(leastRequest(sequence(0))(eps), eps[0]);
    assert.equal(leastRequest(sequence(0.99))(eps), eps[2]);
  });
});

describe('round robin picker', () => {
  test('in turn', () => {
    const eps = [endpoint('a', 1), endpoint('b', 1), endpoint('c', 1)];
    const pick = roundRobinPicker();
    assert.deepEqual([0, 1, 2, 3, 4, 5].map(() => pick(eps).name), ['a', 'b', 'c', 'a', 'b', 'c']);
  });
});

describe('PeakEWMA samples of failed requests', () => {
  test('a request cancelled after waiting raises the estimate (the silent endpoint of a partial partition); a fast failure does not lower it', async () => {
    let now = 0;
    let fail!: (err: Error) => void;
    const e = new EndpointState({
      name: 'silent',
      service: () => new Promise<ProxyResponse>((_resolve, reject) => (fail = reject)),
      probe: () => new Promise(() => {}),
      decayMs: 10_000,
      defaultRttMs: 5,
      clock: () => now,
      schedule: () => () => {},
    });
    const call = e.call({} as Parameters<EndpointState['call']>[0]).catch(() => undefined);
    now = 1000;
    fail(new Error('cancelled by the client after 1 s'));
    await call;
    assert.equal(e.rtt.peek(), 1000, 'the wait became the peak estimate');
    assert.ok(e.cost() > 900, `cost ${e.cost()}: the endpoint is now avoided`);
    const fast = e.call({} as Parameters<EndpointState['call']>[0]).catch(() => undefined);
    now = 1001;
    fail(new Error('refused at once'));
    await fast;
    assert.ok(e.rtt.peek() > 990, `a 1 ms failure left the estimate at ${e.rtt.peek()}`);
  });
});
