// The retry parts alone: the budget (injected clock), the backoff (injected randomness), the replayable body,
// and which failures are retried.
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { CancelledError, StreamResetError, TimeoutError, UpstreamError } from '../src/errors.js';
import { H2_CODE } from '../src/h2-codes.js';
import { isIdempotent, retryReason } from '../src/layers/retry.js';
import { jitteredBackoff } from '../src/retry/backoff.js';
import { RetryBudget } from '../src/retry/budget.js';
import { ReplayBody } from '../src/retry/replay-body.js';
import { text as readAll } from 'node:stream/consumers';

describe('retry budget', () => {
  test('ratio: one retry per 1/ratio requests, none before', () => {
    let now = 0;
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0, ttlMs: 10_000, clock: () => now });
    for (let i = 0; i < 4; i++) budget.deposit();
    assert.equal(budget.withdraw(), false, 'four requests earn 0.8 of a retry');
    budget.deposit();
    assert.equal(budget.withdraw(), true, 'five earn one (exactly: 5 x 0.2)');
    assert.equal(budget.withdraw(), false, 'and only one');
    now = 5_000;
    for (let i = 0; i < 10; i++) budget.deposit();
    assert.equal(budget.withdraw(), true);
    assert.equal(budget.withdraw(), true);
    assert.equal(budget.withdraw(), false, '15 requests, 3 retries in the window');
  });

  test('min per second: a reserve of minPerSecond x ttl without any request', () => {
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 10, ttlMs: 2_000, clock: () => 0 });
    let allowed = 0;
    while (budget.withdraw()) allowed++;
    assert.equal(allowed, 20);
  });

  test('requests and retries older than the ttl no longer count', () => {
    let now = 0;
    const budget = new RetryBudget({ ratio: 1, minPerSecond: 0, ttlMs: 1_000, clock: () => now });
    budget.deposit();
    budget.deposit();
    assert.equal(budget.withdraw(), true);
    now = 500;
    assert.equal(budget.withdraw(), true, 'both deposits still count at half the ttl');
    assert.equal(budget.withdraw(), false);
    now = 1_100; // the deposits and withdrawals of t=0 have expired, those of t=500 not yet
    budget.deposit();
    assert.equal(budget.balance(), 0, '1 deposit - 1 withdrawal (t=500)');
    now = 1_600;
    assert.equal(budget.balance(), 1, 'the t=500 withdrawal expired, the t=1100 deposit remains');
    now = 10_000;
    assert.equal(budget.balance(), 0, 'an old window is empty, not replayed');
  });
});

describe('retry backoff', () => {
  test('full jitter below (2^n - 1) x base, capped at max', () => {
    const top = jitteredBackoff({ baseMs: 25, maxMs: 250, rng: () => 0.999999 });
    assert.deepEqual([1, 2, 3, 4, 5, 40].map((n) => Math.round(top(n))), [25, 75, 175, 250, 250, 250]);
    const bottom = jitteredBackoff({ baseMs: 25, maxMs: 250, rng: () => 0 });
    assert.equal(bottom(3), 0, 'full jitter reaches down to 0');
    const half = jitteredBackoff({ baseMs: 25, maxMs: 250, rng: () => 0.5 });
    assert.equal(half(2), 37.5);
  });

  test('spread: 1000 draws for retry 2 cover [0, 75) roughly evenly', () => {
    const backoff = jitteredBackoff({ baseMs: 25, maxMs: 250 });
    const draws = Array.from({ length: 1000 }, () => backoff(2));
    assert.ok(draws.every((d) => d >= 0 && d < 75));
    const low = draws.filter((d) => d < 37.5).length;
    assert.ok(low > 350 && low < 650, `${low} of 1000 in the lower half`);
  });
});

describe('replayable request body', () => {
  test('a second attempt gets the whole body again, including what the first attempt never read', async () => {
    const source = new PassThrough();
    const replay = new ReplayBody(source, 1024);
    const first = replay.attempt();
    source.write('hello ');
    await new Promise((r) => setImmediate(r));
    first.destroy(); // the attempt failed part-way
    source.end('world');
    const second = replay.attempt();
    assert.equal(await readAll(second), 'hello world');
    assert.equal(replay.replayable, true);
    assert.equal(await readAll(replay.attempt()), 'hello world', 'and again');
  });

  test('the first attempt streams before the body ends (a streaming request is not held back)', async () => {
    const source = new PassThrough();
    const body = new ReplayBody(source, 1024).attempt();
    source.write('first message');
    const [chunk] = (await new Promise((r) => body.once('data', (c) => r([c])))) as [Buffer];
    assert.equal(chunk.toString(), 'first message');
    source.end();
  });

  test('a retry started before the body ended replays the copy and goes on live', async () => {
    const source = new PassThrough();
    const replay = new ReplayBody(source, 1024);
    replay.attempt().resume();
    source.write('a');
    await new Promise((r) => setImmediate(r));
    const second = replay.attempt();
    const text = readAll(second);
    source.write('b');
    source.end('c');
    assert.equal(await text, 'abc');
  });

  test('past the limit the body still streams but can no longer be replayed', async () => {
    const replay = new ReplayBody(Readable.from([Buffer.alloc(600, 1), Buffer.alloc(600, 2)]), 1000);
    const body = replay.attempt();
    const read = await readAll(body);
    assert.equal(read.length, 1200, 'the attempt gets all of it');
    assert.equal(replay.replayable, false);
    assert.throws(() => replay.attempt(), /no longer be replayed/);
  });

  test('exactly at the limit is still replayable', async () => {
    const replay = new ReplayBody(Readable.from([Buffer.alloc(1000, 1)]), 1000);
    await readAll(replay.attempt());
    assert.equal(replay.replayable, true);
    assert.equal((await readAll(replay.attempt())).length, 1000);
  });
});

describe('which failures are retried', () => {
  const reset = (code: number) => new StreamResetError(code);
  const any = { idempotent: false, replayable: true };
  const safe = { idempotent: true, replayable: true };

  test('a connection never made (or a stream never opened) is retried for any method', () => {
    for (const reason of ['connect-refused', 'connect-timeout', 'dns', 'goaway'] as const) {
      assert.equal(retryReason(new UpstreamError(reason), any), reason);
    }
  });

  test('REFUSED_STREAM is retried for any method; other resets only for idempotent requests', () => {
    assert.equal(retryReason(reset(H2_CODE.REFUSED_STREAM), any), 'upstream-reset:REFUSED_STREAM');
    assert.equal(retryReason(reset(H2_CODE.INTERNAL_ERROR), any), undefined);
    assert.equal(retryReason(reset(H2_CODE.INTERNAL_ERROR), safe), 'upstream-reset:INTERNAL_ERROR');
    assert.equal(retryReason(new UpstreamError('connection-reset'), any), undefined);
    assert.equal(retryReason(new UpstreamError('connection-reset'), safe), 'connection-reset');
  });

  test('never: a body that cannot be replayed, a cancel or timeout, a protocol error', () => {
    const unbuffered = { idempotent: true, replayable: false };
    assert.equal(retryReason(new UpstreamError('connect-refused'), unbuffered), undefined);
    assert.equal(retryReason(reset(H2_CODE.REFUSED_STREAM), unbuffered), undefined);
    assert.equal(retryReason(new CancelledError(), safe), undefined);
    assert.equal(retryReason(new TimeoutError(), safe), undefined);
    assert.equal(retryReason(new UpstreamError('protocol-error'), safe), undefined);
    assert.equal(retryReason(new UpstreamError('no-endpoints'), safe), undefined);
    assert.equal(retryReason(new Error('bug'), safe), undefined);
  });

  test('idempotent: safe methods, or a path under a retryable route', () => {
    assert.equal(isIdempotent({ method: 'GET', path: '/x' }, []), true);
    assert.equal(isIdempotent({ method: 'HEAD', path: '/x' }, []), true);
    assert.equal(isIdempotent({ method: 'POST', path: '/x' }, []), false);
    assert.equal(isIdempotent({ method: 'PUT', path: '/x' }, []), false);
    assert.equal(isIdempotent({ method: 'POST', path: '/pkg.Svc/Get' }, ['/pkg.Svc/']), true);
    assert.equal(isIdempotent({ method: 'POST', path: '/other' }, ['/pkg.Svc/']), false);
  });
});
