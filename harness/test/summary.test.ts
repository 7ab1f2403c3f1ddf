import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimate, median } from '../results/summary.js';
import type { MeasuredRep } from '../results/model.js';

test('median of odd and even counts', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('ci95 uses Student t: three reps of 10, 12, 14 give 12 +- 4.303 * 2 / sqrt(3)', () => {
  const e = estimate([10, 12, 14]);
  const half = (4.303 * 2) / Math.sqrt(3);
  assert.equal(e.median, 12);
  assert.ok(Math.abs(e.ci95[0] - (12 - half)) < 1e-9);
  assert.ok(Math.abs(e.ci95[1] - (12 + half)) < 1e-9);
  assert.deepEqual(estimate([5]).ci95, [5, 5]);
});

test('a CI of a quantity that cannot be negative never goes below zero', () => {
  const e = estimate([0, 0, 1]);
  assert.equal(e.ci95[0], 0);
  assert.ok(e.ci95[1] > 1);
  assert.ok(estimate([0, 0, 1], false).ci95[0] < 0, 'a signed quantity keeps its interval');
});

test('a censored headline (never within the window) stays marked through the median and prints as a bound', async () => {
  const { headlineOf } = await import('../results/summary.js');
  const { fmtHeadline } = await import('../output/format-number.js');
  const rep = (value: number, censored?: boolean): MeasuredRep =>
    ({ scenario: { headline: { name: 'new pods reached after', value, unit: 'ms', better: 'lower', ...(censored && { censored }) }, events: [] } }) as unknown as MeasuredRep;
  // Two of three repetitions never reached: the median is a bound.
  const bound = headlineOf([rep(5000, true), rep(12), rep(5000, true)]).headline!;
  assert.equal(bound.value, 5000);
  assert.equal(bound.censored, true);
  assert.equal(fmtHeadline(bound), 'new pods reached after: >= 5000 ms, never within the window (lower is better)');
  // One of three: the median is a measurement, printed as one.
  const measured = headlineOf([rep(5000, true), rep(12), rep(14)]).headline!;
  assert.equal(measured.value, 14);
  assert.equal(measured.censored, undefined);
  assert.equal(fmtHeadline(measured), 'new pods reached after: 14.0 ms (lower is better)');
});
