// The per-second series: outcomes by the second they completed in, whole seconds only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initHistograms, LatencyHistogram } from '../../load/statistic/histogram.js';
import { TimeSeries, wholeSeconds } from '../../load/statistic/time-series.js';

test('outcomes land in the second they completed in; empty seconds are kept; the partial last one is dropped', async () => {
  await initHistograms();
  const series = new TimeSeries();
  try {
    series.begin(1000);
    series.record(5000, 1100); // second 0
    series.record(undefined, 1900); // second 0, an error
    series.record(7000, 3500); // second 2 (second 1 empty)
    series.record(9000, 4200); // second 3, partial: the window lasts 3.4 s
    const seconds = series.finish(3400);
    assert.equal(seconds.length, 3);
    assert.deepEqual(
      seconds.map((s) => [s.requests, s.errors, s.histogram !== undefined]),
      [
        [2, 1, true],
        [0, 0, false],
        [1, 0, true],
      ],
    );
    const h = LatencyHistogram.decode(seconds[2]!.histogram!);
    assert.equal(h.count, 1);
    assert.ok(Math.abs(h.percentileMicros(100) - 7000) <= 7);
    h.destroy();
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
  const series = new TimeSeries();
  series.record(1000, 5);
  assert.deepEqual(series.finish(0), []);
  series.destroy();
});
