// A latency histogram as text: log-scale buckets (1, 1.5, 2, 3, 5, 7 x 10^k µs) with bars, from the encoded
// HdrHistogram of a RepResult. Pure: decodes with the JS implementation (js-histogram.ts), no WASM set-up.
import { fmtInt, fmtMs } from './format-number.js';
import { walkEncoded } from './js-histogram.js';

/** Bucket upper bounds within one decade; six per decade keep a 1-100 ms spread to about 13 rows. */
const STEPS = [1, 1.5, 2, 3, 5, 7] as const;
const HIGHEST_US = 60_000_000;

export interface TextHistogramOptions {
  /** Width of the longest bar in characters. */
  width?: number;
}

export interface HistogramBucket {
  /** Bucket upper bound (inclusive) in µs. */
  upToUs: number;
  count: number;
}

/** Counts of the encoded histogram in log-scale buckets, from the bucket of the smallest value to that of the largest. */
export function logBuckets(encoded: string): HistogramBucket[] {
  if (!encoded) return [];
  return walkEncoded(encoded, [], (h) => {
    const bounds = bucketBounds();
    const counts = new Map<number, number>();
    let first = bounds.length;
    let last = -1;
    const it = h.recordedValuesIterator;
    it.reset();
    while (it.hasNext()) {
      const v = it.next();
      // By the lowest value the HdrHistogram bucket holds: a recorded 10 ms (kept as 10.000..10.003 ms) is "<= 10 ms".
      const index = bucketIndex(bounds, h.lowestEquivalentValue(v.valueIteratedTo));
      counts.set(index, (counts.get(index) ?? 0) + v.countAtValueIteratedTo);
      first = Math.min(first, index);
      last = Math.max(last, index);
    }
    const buckets: HistogramBucket[] = [];
    for (let i = first; i <= last; i++) buckets.push({ upToUs: bounds[i]!, count: counts.get(i) ?? 0 });
    return buckets;
  });
}

/** The histogram as lines of `<= bound ms | bar count share`; a note line when it is empty. */
export function formatTextHistogram(encoded: string, options: TextHistogramOptions = {}): string {
  const width = options.width ?? 40;
  const buckets = logBuckets(encoded);
  if (buckets.length === 0) return '  (no successful requests: nothing to draw)\n';
  const total = buckets.reduce((a, b) => a + b.count, 0);
  const most = Math.max(...buckets.map((b) => b.count));
  const labels = buckets.map((b) => `<= ${fmtMs(b.upToUs / 1000)} ms`);
  const labelWidth = Math.max(...labels.map((l) => l.length));
  const countWidth = Math.max(...buckets.map((b) => fmtInt(b.count).length));
  return (
    buckets
      .map((b, i) => {
        // A non-empty bucket always shows at least one mark, so a rare slow tail stays visible.
        const bar = b.count === 0 ? '' : '█'.repeat(Math.max(1, Math.round((b.count / most) * width)));
        const share = ((b.count / total) * 100).toFixed(b.count / total < 0.001 && b.count > 0 ? 3 : 1);
        return `  ${labels[i]!.padStart(labelWidth)} | ${bar.padEnd(width)} ${fmtInt(b.count).padStart(countWidth)}  ${share.padStart(6)}%`;
      })
      .join('\n') + '\n'
  );
}

function bucketBounds(): number[] {
  const bounds: number[] = [];
  for (let decade = 1; decade <= HIGHEST_US; decade *= 10) {
    for (const step of STEPS) bounds.push(step * decade);
  }
  return bounds;
}

/** The first bucket whose upper bound holds `us`. */
function bucketIndex(bounds: number[], us: number): number {
  let lo = 0;
  let hi = bounds.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bounds[mid]! >= us) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
