// The Mann-Whitney U test (Wilcoxon rank-sum), two-sided: do two sets of repetitions come from the same
// distribution? Rank-based, so one noisy repetition cannot swing it the way it swings a t-test on 3-10 values.
//
// Written here rather than taken from npm: the packages that offer it are unmaintained, approximate only (no
// exact distribution for small samples, which is every benchmark), or pull a whole statistics library in for
// forty lines. Checked against scipy.stats.mannwhitneyu and a brute-force enumeration (harness/test/stats/).
import { normalCdf } from './normal.js';

export interface MannWhitneyResult {
  /** U of the second sample: pairs (a, b) with b > a, ties counting one half. n1 * n2 / 2 means no shift. */
  u: number;
  /** Two-sided p-value. */
  p: number;
  /** exact: the permutation distribution of the ranks (ties included); normal: the large-sample approximation. */
  method: 'exact' | 'normal';
}

/** Up to this many values per side the p-value is exact (at most C(20, 10) = 184 756 arrangements, counted by DP). */
export const EXACT_MAX_N = 10;

/** Ranks 1..N of the values, ties sharing the mean of the ranks they span. */
export function midranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((x, y) => x.v - y.v);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.v === order[start]!.v) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]!.i] = rank;
    start = end + 1;
  }
  return ranks;
}

export function mannWhitney(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  if (a.length === 0 || b.length === 0) throw new RangeError('mannWhitney: both samples need at least one value');
  const ranks = midranks([...a, ...b]);
  const rankSumB = ranks.slice(a.length).reduce((s, r) => s + r, 0);
  const u = rankSumB - (b.length * (b.length + 1)) / 2;
  if (a.length <= EXACT_MAX_N && b.length <= EXACT_MAX_N) return { u, p: exactP(ranks, b.length, rankSumB), method: 'exact' };
  return { u, p: normalP(ranks, a.length, b.length, u), method: 'normal' };
}

/**
 * The share of the C(N, n2) ways to give n2 of the (mid)ranks to the second sample whose rank sum lies at least as
 * far out as the one observed, on the nearer tail, doubled (capped at 1). Doubling the midranks makes them integers,
 * so a subset-sum count over them is exact with ties too.
 */
function exactP(ranks: readonly number[], n2: number, rankSumB: number): number {
  const doubled = ranks.map((r) => Math.round(2 * r));
  const maxSum = doubled.reduce((s, d) => s + d, 0);
  // ways[k][s]: subsets of k ranks with doubled sum s.
  const ways = Array.from({ length: n2 + 1 }, () => new Float64Array(maxSum + 1));
  ways[0]![0] = 1;
  for (const d of doubled) {
    for (let k = n2; k >= 1; k--) {
      const row = ways[k]!;
      const prev = ways[k - 1]!;
      for (let s = maxSum; s >= d; s--) row[s]! += prev[s - d]!;
    }
  }
  const observed = Math.round(2 * rankSumB);
  let total = 0;
  let lower = 0;
  let upper = 0;
  ways[n2]!.forEach((count, s) => {
    total += count;
    if (s <= observed) lower += count;
    if (s >= observed) upper += count;
  });
  return Math.min(1, (2 * Math.min(lower, upper)) / total);
}

/** The normal approximation with the tie correction of the variance and a continuity correction (scipy's default). */
function normalP(ranks: readonly number[], n1: number, n2: number, u: number): number {
  const n = n1 + n2;
  const counts = new Map<number, number>();
  for (const r of ranks) counts.set(r, (counts.get(r) ?? 0) + 1);
  let ties = 0;
  for (const t of counts.values()) ties += t * t * t - t;
  const variance = ((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1)));
  if (variance <= 0) return 1;
  const z = (Math.abs(u - (n1 * n2) / 2) - 0.5) / Math.sqrt(variance);
  return z <= 0 ? 1 : Math.min(1, 2 * normalCdf(-z));
}

/**
 * The smallest two-sided p-value any data can give with n1 and n2 values: every value of one side below every
 * value of the other, 2 / C(n1 + n2, n1). With 3 per side it is 0.1, so no test at 95% confidence can pass.
 */
export function minimumPValue(n1: number, n2: number): number {
  let arrangements = 1;
  for (let k = 1; k <= n1; k++) arrangements = (arrangements * (n2 + k)) / k;
  return Math.min(1, 2 / arrangements);
}

/** Repetitions per side needed before the test can reach significance at this confidence (4 at 0.95, 5 at 0.99). */
export function minimumReps(confidence: number): number {
  for (let n = 1; n <= 1000; n++) if (minimumPValue(n, n) < 1 - confidence) return n;
  throw new RangeError(`minimumReps: confidence ${confidence} needs more than 1000 repetitions`);
}
