// Known values: scipy.stats.mannwhitneyu (1.17) for the exact test without ties and the normal approximation;
// with ties, a brute-force enumeration of every arrangement of the midranks (scipy's exact test ignores ties).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mannWhitney, midranks, minimumPValue, minimumReps } from '../../stats/mann-whitney.js';

const close = (actual: number, expected: number, tol = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} is not within ${tol} of ${expected}`);

test('midranks give ties the mean of the ranks they span', () => {
  assert.deepEqual(midranks([10, 20, 20, 5, 20]), [2, 4, 4, 1, 4]);
});

test('exact p without ties matches scipy (method=exact)', () => {
  const cases: [number[], number[], number, number][] = [
    [[1, 2, 3], [4, 5, 6], 9, 0.1],
    [[1, 2, 3, 4], [5, 6, 7, 8], 16, 0.02857142857142857],
    [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], 25, 0.007936507936507936],
    [[1.1, 2.5, 3.3, 4.0, 5.2], [2.0, 3.9, 6.1, 7.7, 8.4], 19, 0.2222222222222222],
    [[10, 20, 30, 40, 50, 60], [15, 25, 35, 45, 55, 65, 75], 27, 0.4452214452214452],
  ];
  for (const [a, b, u, p] of cases) {
    const r = mannWhitney(a, b);
    assert.equal(r.method, 'exact');
    assert.equal(r.u, u);
    close(r.p, p);
    close(mannWhitney(b, a).p, p, 1e-12); // two-sided: the order of the samples does not matter
  }
});

test('exact p with ties counts every arrangement of the midranks', () => {
  close(mannWhitney([1, 2, 2, 3, 3, 3], [2, 3, 4, 4, 5, 5]).p, (2 * 26) / 924);
  close(mannWhitney([0, 0, 0, 0, 1], [0, 0, 1, 1, 1]).p, (2 * 66) / 252);
  assert.equal(mannWhitney([0, 0, 0, 0, 0], [0, 0, 0, 0, 0]).p, 1);
});

test('above 10 per side the normal approximation with tie and continuity corrections matches scipy (asymptotic)', () => {
  const a = Array.from({ length: 12 }, (_, i) => i + 1);
  const b = Array.from({ length: 13 }, (_, i) => i + 5.5);
  const r = mannWhitney(a, b);
  assert.equal(r.method, 'normal');
  assert.equal(r.u, 128);
  close(r.p, 0.007093022268900951, 1e-6);
  const ties = mannWhitney([1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6], [2, 3, 3, 4, 5, 5, 6, 7, 7, 8, 8, 9]);
  assert.equal(ties.u, 109);
  close(ties.p, 0.03370797004736089, 1e-6);
});

test('the smallest p-value a number of repetitions can give, and the repetitions a confidence needs', () => {
  close(minimumPValue(3, 3), 0.1);
  close(minimumPValue(4, 4), 2 / 70);
  close(minimumPValue(5, 5), 2 / 252);
  assert.equal(minimumPValue(1, 1), 1);
  assert.equal(minimumReps(0.95), 4);
  assert.equal(minimumReps(0.99), 5);
  assert.equal(minimumReps(0.9), 4, '3 and 3 give exactly 0.1, not below it');
});

test('an empty sample is refused', () => {
  assert.throws(() => mannWhitney([], [1]), RangeError);
});
