// The latency statistic: summaries in ms, clamping, and merging by encoded form being exact.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { HIGHEST_US, initHistograms, LatencyHistogram, mergeEncoded, mergeEncodedSummary } from '../../load/statistic/histogram.js';

before(() => initHistograms());

function histogramOf(values: number[]): LatencyHistogram {
  const h = LatencyHistogram.create();
  for (const v of values) h.recordMicros(v);
  return h;
}

// A deterministic spread over four decades, as latencies are: 100 µs .. 1 s.
function spread(n: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return Math.round(100 * 10 ** ((x / 2 ** 31) * 4));
  });
}

test('encoding and merging two histograms equals one histogram of all the values', async () => {
  const a = spread(5000, 1);
  const b = spread(3000, 2).map((v) => v * 3);
  const ha = histogramOf(a);
  const hb = histogramOf(b);
  const all = histogramOf([...a, ...b]);
  const merged = await mergeEncoded([ha.encode(), hb.encode()]);
  try {
    assert.equal(merged.count, 8000);
    assert.equal(merged.count, all.count);
    for (const p of [0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100]) {
      assert.equal(merged.percentileMicros(p), all.percentileMicros(p), `percentile ${p}`);
    }
    assert.deepEqual(merged.summaryMs(), all.summaryMs());
    assert.equal(merged.encode(), all.encode());
  } finally {
    for (const h of [ha, hb, all, merged]) h.destroy();
  }
});

test('mergeEncodedSummary gives the summary and encoding of the merge', async () => {
  const ha = histogramOf([1000, 2000, 3000]);
  const hb = histogramOf([4000]);
  try {
    const merged = await mergeEncodedSummary([ha.encode(), hb.encode()]);
    assert.equal(merged.count, 4);
    assert.ok(Math.abs(merged.latencyMs.max - 4) <= 0.004, `max ${merged.latencyMs.max}`);
    assert.ok(Math.abs(merged.latencyMs.mean - 2.5) <= 0.0025, `mean ${merged.latencyMs.mean}`);
    const back = LatencyHistogram.decode(merged.histogram);
    assert.equal(back.count, 4);
    back.destroy();
  } finally {
    ha.destroy();
    hb.destroy();
  }
});

test('the summary is in milliseconds, ordered, and exact within 3 significant digits', () => {
  const h = histogramOf(Array.from({ length: 1000 }, (_, i) => (i + 1) * 1000)); // 1..1000 ms
  try {
    const s = h.summaryMs();
    const close = (actual: number, expected: number): void =>
      assert.ok(Math.abs(actual - expected) <= expected * 0.001 + 1e-9, `${actual} vs ${expected}`);
    close(s.p50, 500);
    close(s.p90, 900);
    close(s.p95!, 950);
    close(s.p99, 990);
    close(s.p999, 999);
    close(s.max, 1000);
    close(s.mean, 500.5);
    assert.ok(s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.p999 && s.p999 <= s.max);
  } finally {
    h.destroy();
  }
});

test('an empty histogram summarizes to zeros and still encodes', async () => {
  const h = LatencyHistogram.create();
  try {
    assert.deepEqual(h.summaryMs(), { p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0, mean: 0 });
    const merged = await mergeEncoded([h.encode()]);
    assert.equal(merged.count, 0);
    merged.destroy();
  } finally {
    h.destroy();
  }
});

test('values outside 1 µs .. 60 s are clamped, not thrown', () => {
  const h = LatencyHistogram.create();
  try {
    h.recordMicros(0);
    h.recordMicros(-5);
    h.recordMicros(HIGHEST_US * 10);
    h.recordMs(0.0004);
    assert.equal(h.count, 4);
    assert.ok(Math.abs(h.summaryMs().max - HIGHEST_US / 1000) <= (HIGHEST_US / 1000) * 0.001);
    assert.equal(h.percentileMicros(50), 1);
  } finally {
    h.destroy();
  }
});

test('destroy is idempotent', () => {
  const h = LatencyHistogram.create();
  h.destroy();
  h.destroy();
});
