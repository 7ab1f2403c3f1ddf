// The per-second series: each request counts in the second it was sent in, whole seconds only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initHistograms, LatencyHistogram } from '../../load/statistic/histogram.js';
import { TimeSeries, wholeSeconds } from '../../load/statistic/time-series.js';

test('outcomes land in the second they were sent in, arriving in any order; empty seconds are kept; the partial last one is dropped', async () => {
  await initHistograms();
  const series = new TimeSeries(5000);
  try {
    series.begin(1000);
    series.record(1100, 5000, true, 1105); // sent in second 0
    series.record(3500, 7000, true, 3507); // second 2 (second 1 empty)
    series.record(1900, 2_000_000, false, 3900); // sent in second 0, failed later: still second 0
    series.record(4200, 9000, true, 4209); // second 3, partial: the window lasts 3.4 s
    const seconds = series.finish(3400);
    assert.equal(seconds.length, 3);
    assert.deepEqual(
      seconds.map((s) => [s.requests, s.successes, s.errors, s.histogram !== undefined]),
      [
        [2, 1, 1, true],
        [0, 0, 0, false],
        [1, 1, 0, true],
      ],
    );
    const first = LatencyHistogram.decode(seconds[0]!.histogram!);
    assert.equal(first.count, 2, 'the failure is in its second\'s latencies too');
    first.destroy();
    const h = LatencyHistogram.decode(seconds[2]!.histogram!);
    assert.equal(h.count, 1);
    assert.ok(Math.abs(h.percentileMicros(100) - 7000) <= 7);
    h.destroy();
  } finally {
    series.destroy();
  }
});

test('a second is closed (encoded, its histogram freed) once no outcome can reach it any more', async () => {
  await initHistograms();
  const series = new TimeSeries(1000);
  try {
    series.begin(0);
    series.record(100, 1000, true, 101);
    // At 3.5 s, with outcomes at most 1 s after their send, second 0 is closed: a late one for it is not taken.
    series.record(3400, 1000, true, 3500);
    series.record(200, 1000, true, 3500);
    const seconds = series.finish(4000);
    assert.equal(seconds[0]!.requests, 1);
    assert.equal(seconds[3]!.requests, 1);
  } finally {
    series.destroy();
  }
});

test('a window a few ms short of a whole second still counts it', () => {
  assert.equal(wholeSeconds(2995), 3);
  assert.equal(wholeSeconds(2900), 2);
  assert.equal(wholeSeconds(800), 0);
});

test('nothing is kept before begin()', () => {
  const series = new TimeSeries(1000);
  series.record(1000, 5, true, 1000);
  assert.deepEqual(series.finish(0), []);
  series.destroy();
});
