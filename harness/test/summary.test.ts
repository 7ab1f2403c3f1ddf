import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimate, median } from '../results/summary.js';

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
