// Rate limiters: the linear schedule and a decorator over it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LinearRateLimiter, UniformJitterRateLimiter } from '../../load/sequencer/rate.js';

test('a linear rate limiter schedules request i at start + i / rate, without drift', () => {
  const limiter = new LinearRateLimiter(300, 1000);
  const times = Array.from({ length: 301 }, () => limiter.next());
  assert.equal(times[0], 1000);
  assert.ok(Math.abs(times[1]! - (1000 + 1000 / 300)) < 1e-9);
  // Exactly one second later after `rate` requests: no accumulated rounding.
  assert.equal(times[300], 2000);
});

test('a rate must be a positive finite number', () => {
  for (const rate of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => new LinearRateLimiter(rate, 0), RangeError);
});

test('uniform jitter delays each send by 0..max around the inner schedule', () => {
  const draws = [0, 0.5, 0.999];
  const limiter = new UniformJitterRateLimiter(new LinearRateLimiter(100, 0), 4, () => draws.shift() ?? 0);
  assert.deepEqual([limiter.next(), limiter.next(), limiter.next()].map((t) => Math.round(t * 1000) / 1000), [0, 12, 23.996]);
  assert.throws(() => new UniformJitterRateLimiter(new LinearRateLimiter(1, 0), -1), RangeError);
});
