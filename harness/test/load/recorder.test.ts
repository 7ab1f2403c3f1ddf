// The recorder: what it keeps, and only while measuring.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initHistograms, LatencyHistogram } from '../../load/statistic/histogram.js';
import { Recorder } from '../../load/statistic/recorder.js';
import { TimeSeries } from '../../load/statistic/time-series.js';

test('streams cut by a GOAWAY are tallied by code, while measuring only', async () => {
  await initHistograms();
  const histogram = LatencyHistogram.create();
  try {
    const recorder = new Recorder(histogram);
    recorder.goawayStreamsCut(0, 3); // warm-up: not kept
    recorder.setPhase('measure');
    recorder.goawayStreamsCut(0, 2);
    recorder.goawayStreamsCut(11, 4);
    recorder.goawayStreamsCut(11, 0);
    recorder.goawayReceived(11);
    recorder.setPhase('done');
    recorder.goawayStreamsCut(11, 9);
    const counts = recorder.counts();
    assert.deepEqual(counts.goawayStreamsCut, { ENHANCE_YOUR_CALM: 4, NO_ERROR: 2 });
    assert.deepEqual(counts.goawayReceived, { ENHANCE_YOUR_CALM: 1 });
  } finally {
    histogram.destroy();
  }
});

test('measured outcomes also go to the time series', async () => {
  await initHistograms();
  const histogram = LatencyHistogram.create();
  const series = new TimeSeries();
  try {
    const recorder = new Recorder(histogram, series);
    recorder.success(1000); // warm-up
    recorder.setPhase('measure');
    recorder.success(2000);
    recorder.failure('timeout');
    const [second] = series.finish(1000);
    assert.equal(second?.requests, 2);
    assert.equal(second?.errors, 1);
    assert.equal(recorder.counts().requests, 2);
  } finally {
    histogram.destroy();
    series.destroy();
  }
});
