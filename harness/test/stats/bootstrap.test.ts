import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapRatioOfMeans, quantile, ratioOf } from '../../stats/bootstrap.js';
import { fnv1a, mulberry32 } from '../../stats/prng.js';
import { erfc, normalCdf } from '../../stats/normal.js';

test('mulberry32 is deterministic, in [0, 1), and its 32-bit arithmetic matches a Python port of the same algorithm', () => {
  const a = mulberry32(12);
  const b = mulberry32(12);
  const first = [a(), a(), a()];
  assert.deepEqual([b(), b(), b()], first);
  // python3: the same steps with & 0xffffffff in place of Math.imul and >>> 0.
  assert.deepEqual(first.map((x) => Math.round(x * 4294967296)), [1237598750, 324989476, 2491772807]);
  const r = mulberry32(1);
  for (let i = 0; i < 10_000; i++) {
    const x = r();
    assert.ok(x >= 0 && x < 1);
  }
});

test('FNV-1a 32 gives the published values', () => {
  assert.equal(fnv1a(''), 0x811c9dc5);
  assert.equal(fnv1a('a'), 0xe40c292c);
  assert.equal(fnv1a('foobar'), 0xbf9cf968);
});

test('the normal CDF matches scipy.stats.norm.cdf to 1e-7', () => {
  const cases: [number, number][] = [
    [0, 0.5],
    [1.96, 0.9750021048517795],
    [-3, 0.0013498980316300933],
    [0.5, 0.6914624612740131],
    [-1.2345, 0.10850832336267019],
  ];
  for (const [z, p] of cases) assert.ok(Math.abs(normalCdf(z) - p) < 1e-7, `${z}: ${normalCdf(z)} vs ${p}`);
  assert.ok(Math.abs(erfc(0) - 1) < 1e-7);
});

test('quantile interpolates between order statistics like numpy', () => {
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([1, 2, 3, 4], 0), 1);
  assert.equal(quantile([1, 2, 3, 4], 1), 4);
  assert.ok(Math.abs(quantile([10, 20, 30, 40, 50], 0.025) - 11) < 1e-12);
  assert.equal(quantile([1, Infinity, Infinity], 0.9), Infinity);
});

test('a ratio over a zero mean: no change when both are zero, unbounded otherwise', () => {
  assert.equal(ratioOf(0, 0), 1);
  assert.equal(ratioOf(0, 3), Infinity);
  assert.equal(ratioOf(4, 2), 0.5);
});

test('the interval: degenerate for constant samples, seeded, and containing the ratio', () => {
  const opts = { confidence: 0.95, resamples: 2000 };
  assert.deepEqual(bootstrapRatioOfMeans([5, 5, 5], [6, 6, 6], { ...opts, random: mulberry32(1) }), { ratio: 1.2, lo: 1.2, hi: 1.2 });
  const a = [100, 104, 98, 101, 97];
  const b = [90, 93, 88, 95, 91];
  const one = bootstrapRatioOfMeans(a, b, { ...opts, random: mulberry32(7) });
  const two = bootstrapRatioOfMeans(a, b, { ...opts, random: mulberry32(7) });
  assert.deepEqual(one, two, 'the same seed gives the same interval');
  assert.ok(one.lo < one.ratio && one.ratio < one.hi);
  assert.ok(one.hi < 1, `a 9% drop with 2% noise lies below 1: ${JSON.stringify(one)}`);
});

test('for large samples the interval agrees with the delta method (ratio of means, known variances)', () => {
  // Two samples of 400 with means 100 and 110 and sd 10 (a fixed, evenly spread normal sample via the inverse CDF).
  const sample = (mu: number, sd: number, n: number) => Array.from({ length: n }, (_, i) => mu + sd * inverseNormal((i + 0.5) / n));
  const a = sample(100, 10, 400);
  const b = sample(110, 10, 400);
  const ci = bootstrapRatioOfMeans(a, b, { confidence: 0.95, resamples: 4000, random: mulberry32(3) });
  // Var(B/A) ~ r^2 (sa^2 / (n ma^2) + sb^2 / (n mb^2)); the half-width is 1.96 of its sd.
  const r = 1.1;
  const sdRatio = r * Math.sqrt(100 / (400 * 100 ** 2) + 100 / (400 * 110 ** 2));
  const half = 1.96 * sdRatio;
  assert.ok(Math.abs(ci.ratio - r) < 1e-3);
  assert.ok(Math.abs((ci.hi - ci.lo) / 2 - half) / half < 0.1, `half-width ${(ci.hi - ci.lo) / 2} vs ${half}`);
});

/** The standard normal's inverse CDF by bisection over normalCdf: slow, exact enough for a test. */
function inverseNormal(p: number): number {
  let lo = -10;
  let hi = 10;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
