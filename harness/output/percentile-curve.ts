// A latency distribution as HdrHistogram's percentile plot draws it: latency against 1/(1-p), the percentile
// levels its PercentileIterator steps through (five ticks per halving of the distance to 100%, the same
// points as `outputPercentileDistribution`). Decoded in Node when the report is made (js-histogram.ts); the page
// gets the points.
import { walkEncoded } from './js-histogram.js';

export interface PercentilePoint {
  /** 1/(1-p): 1 at the median's left end, 10 at 90%, 100 at 99%, ... */
  x: number;
  latencyMs: number;
}

const TICKS_PER_HALF_DISTANCE = 5;

// The bench makes report.html again after every cell, from cells whose histograms no longer change: decoding
// each once per process (about 1.5 ms apiece) keeps a 168-cell sweep's rewrites cheap. Bounded, oldest out first.
const CACHE_LIMIT = 1024;
const cache = new Map<string, readonly PercentilePoint[]>();

/** The points of the encoded (compressed base64, µs) histogram; empty when it holds nothing. */
export function percentileCurve(encoded: string | undefined): readonly PercentilePoint[] {
  if (!encoded) return [];
  const known = cache.get(encoded);
  if (known) return known;
  const points = decodeCurve(encoded);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(encoded, points);
  return points;
}

function decodeCurve(encoded: string): PercentilePoint[] {
  return walkEncoded(encoded, [], (h) => {
    const points: PercentilePoint[] = [];
    const it = h.percentileIterator;
    it.reset(TICKS_PER_HALF_DISTANCE);
    while (it.hasNext()) {
      const v = it.next();
      const p = v.percentileLevelIteratedTo / 100;
      // The last step is the 100th percentile, at 1/(1-1) = infinity: the plotter leaves it out, and so do we.
      if (p >= 1) continue;
      points.push({ x: 1 / (1 - p), latencyMs: v.valueIteratedTo / 1000 });
    }
    return points;
  });
}
