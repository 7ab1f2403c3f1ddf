// The recorder: a request counts when it was sent in the window, whenever its outcome arrives; a timeout is
// recorded at the timeout; the uncorrected latency runs from the real send.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initHistograms } from '../../load/statistic/histogram.js';
import { allOf } from '../helpers/outcome-histograms.js';
import { OutcomeHistograms } from '../../load/statistic/outcome-histograms.js';
import { mergeRamps, Ramp } from '../../load/statistic/ramp.js';
import { Recorder } from '../../load/statistic/recorder.js';
import { TimeSeries } from '../../load/statistic/time-series.js';

const at = (intended: number, sent = intended) => ({ intended, sent });

test('a request belongs to the window it was sent in: outcomes after the window count, sends outside it do not', async () => {
  await initHistograms();
  const histograms = new OutcomeHistograms(false);
  try {
    const recorder = new Recorder(1000);
    recorder.startRun({ histograms });
    recorder.success(at(50), 60); // warm-up: the window is not open
    recorder.openWindow(100);
    recorder.success(at(100), 105);
    recorder.failure('status:5xx', at(150), 151);
    recorder.closeWindow(200);
    recorder.success(at(199), 290); // sent in the window, answered during the drain: counted
    recorder.success(at(200), 210); // sent at the window's end: not
    recorder.rstReceived(7, at(150));
    recorder.rstReceived(7, at(250));
    recorder.seal();
    recorder.success(at(150), 400); // after the run: not
    const counts = recorder.counts();
    assert.equal(counts.requests, 3);
    assert.equal(counts.successes, 2);
    assert.deepEqual(counts.errors, { 'status:5xx': 1 });
    assert.deepEqual(counts.rst.received, { REFUSED_STREAM: 1 });
    assert.equal(allOf(histograms).count, 3, 'the failure is in the all-outcomes histogram');
    assert.equal(histograms.success.count, 2);
    assert.ok(Math.abs(allOf(histograms).summaryMs().max - 91) < 0.1, 'the drained one, 91 ms');
  } finally {
    histograms.destroy();
  }
});

test('a timeout is recorded at exactly the timeout, however late its timer fired; uncorrected runs from the real send', async () => {
  await initHistograms();
  const histograms = new OutcomeHistograms(true);
  try {
    const recorder = new Recorder(1000);
    recorder.startRun({ histograms });
    recorder.openWindow(0);
    recorder.failure('timeout', at(10, 14), 1050); // its timer fired 40 ms late
    recorder.success(at(20, 23), 30);
    assert.equal(recorder.counts().timeouts, 1);
    assert.ok(Math.abs(allOf(histograms).summaryMs().max - 1000) < 1, `max ${allOf(histograms).summaryMs().max}`);
    assert.equal(histograms.success.count, 1);
    // Uncorrected: from the real send: 996 ms for the timeout (10 + 1000 - 14), 7 ms for the success.
    assert.ok(Math.abs(histograms.uncorrected!.summaryMs().max - 996) < 1);
    assert.ok(Math.abs(histograms.uncorrected!.summaryMs().p50 - 7) < 0.05);
  } finally {
    histograms.destroy();
  }
});

test('GOAWAYs and cut streams count from the window\'s opening to the end of the run', async () => {
  await initHistograms();
  const histograms = new OutcomeHistograms(false);
  try {
    const recorder = new Recorder(1000);
    recorder.startRun({ histograms });
    recorder.goawayStreamsCut(0, 3); // warm-up: not kept
    recorder.openWindow(0);
    recorder.goawayStreamsCut(0, 2);
    recorder.goawayStreamsCut(11, 4);
    recorder.goawayStreamsCut(11, 0);
    recorder.goawayReceived(11);
    recorder.closeWindow(100);
    recorder.goawayReceived(0); // during the drain: kept
    recorder.seal();
    recorder.goawayStreamsCut(11, 9);
    const counts = recorder.counts();
    assert.deepEqual(counts.goawayStreamsCut, { ENHANCE_YOUR_CALM: 4, NO_ERROR: 2 });
    assert.deepEqual(counts.goawayReceived, { ENHANCE_YOUR_CALM: 1, NO_ERROR: 1 });
  } finally {
    histograms.destroy();
  }
});

test('measured outcomes also go to the time series, by their send second; a new run starts from zero', async () => {
  await initHistograms();
  const histograms = new OutcomeHistograms(false);
  const series = new TimeSeries(1000);
  try {
    const recorder = new Recorder(1000);
    recorder.startRun({ histograms, series });
    recorder.openWindow(0);
    recorder.success(at(10), 20);
    recorder.failure('timeout', at(500), 1500);
    const [second] = series.finish(1000);
    assert.equal(second?.requests, 2);
    assert.equal(second?.errors, 1);
    assert.equal(recorder.counts().requests, 2);
    recorder.startRun({ histograms });
    assert.equal(recorder.counts().requests, 0);
    assert.equal(recorder.measures(10), false, 'no window in the new run until it opens');
  } finally {
    histograms.destroy();
    series.destroy();
  }
});

test('streamed messages and the ramp count for requests sent in the window only, the ramp from the real send', async () => {
  await initHistograms();
  const histograms = new OutcomeHistograms(false, true);
  const ramp = new Ramp();
  try {
    const recorder = new Recorder(1000);
    recorder.startRun({ histograms, ramp });
    recorder.streamMessage(at(50), 1); // warm-up
    recorder.rampCall(0, at(50), 55, 60);
    recorder.openWindow(100);
    recorder.streamMessage(at(100), 2);
    recorder.streamMessage(at(100), 3);
    recorder.rampCall(1, at(100, 104), 110, 120); // open loop: sent 4 ms after its intended time
    recorder.closeWindow(200);
    recorder.streamMessage(at(150), 4); // arrived during the drain: counted
    recorder.streamMessage(at(200), 5); // sent at the window's end: not
    recorder.seal();
    recorder.streamMessage(at(150), 6);
    assert.equal(histograms.messages!.count, 3);
    assert.ok(Math.abs(histograms.messages!.summaryMs().max - 4) < 0.01);
    assert.deepEqual(mergeRamps([ramp.result()!]), [{ call: 1, connections: 1, ttfbMs: 6, totalMs: 16 }]);
  } finally {
    histograms.destroy();
  }
});
