// Merging workers' results: histograms exactly (as one histogram of all the values), counts by adding,
// seconds by index, the open loop's schedule and lag.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initHistograms, LatencyHistogram } from '../../load/statistic/histogram.js';
import type { RecordedCounts } from '../../load/statistic/recorder.js';
import type { LoadOptions } from '../../load/types.js';
import { addRecords, mergeShares } from '../../load/worker/merge.js';
import type { ShareResult } from '../../load/worker/share.js';
import { splitLoad } from '../../load/worker/split.js';
import { quickOptions } from './servers.js';

function encode(values: readonly number[]): string {
  const h = LatencyHistogram.create();
  for (const v of values) h.recordMicros(v);
  const encoded = h.encode();
  h.destroy();
  return encoded;
}

// A deterministic spread over four decades, as latencies are: 100 µs .. 1 s.
function spread(n: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return Math.round(100 * 10 ** ((x / 2 ** 31) * 4));
  });
}

function counts(successes: number, errors: Record<string, number> = {}): RecordedCounts {
  const failed = Object.values(errors).reduce((a, b) => a + b, 0);
  return {
    requests: successes + failed,
    successes,
    errors,
    timeouts: errors['timeout'] ?? 0,
    rst: { received: {}, sent: {} },
    rstReceivedTotal: 0,
    goawayReceived: {},
    goawayStreamsCut: {},
    bodyBytes: 0,
    attackStreams: 0,
    connectionsClosedByPeer: 0,
    connectionsOpened: 0,
    stalledStreams: 0,
    stalledResets: {},
  };
}

function share(values: readonly number[], extra: Partial<ShareResult> = {}): ShareResult {
  const histogram = encode(values);
  return {
    timing: { measuredMs: 2000, endMs: 0, drainMs: 0, aborted: false },
    counts: counts(values.length),
    histograms: { all: histogram, success: histogram },
    seconds: [],
    load: { cpuPerS: 0.2, elu: 0.3, pacerPerS: 0 },
    ...extra,
  };
}

const options: LoadOptions = quickOptions('http://127.0.0.1:1/', 'h2', { workers: 2, connections: 4 });

test('merged worker histograms equal a single histogram of the same values (counts, percentiles, max)', async () => {
  await initHistograms();
  const a = spread(4000, 7);
  const b = spread(2500, 11).map((v) => v * 2);
  const merged = await mergeShares(options, [share(a), share(b)]);
  const single = LatencyHistogram.decode(encode([...a, ...b]));
  try {
    const back = LatencyHistogram.decode(merged.histogram);
    assert.equal(back.count, 6500);
    for (const p of [1, 50, 90, 95, 99, 99.9, 100]) assert.equal(back.percentileMicros(p), single.percentileMicros(p), `percentile ${p}`);
    back.destroy();
    assert.deepEqual(merged.latencyMs, single.summaryMs());
    assert.equal(merged.latencyMs.max, single.summaryMs().max);
    assert.equal(merged.requests, 6500);
    assert.deepEqual(merged.workers, [
      { elu: 0.3, requests: 4000 },
      { elu: 0.3, requests: 2500 },
    ]);
  } finally {
    single.destroy();
  }
});

test('counts add up, rps (goodput) and completedRps are over the mean window, saturation is per worker', async () => {
  await initHistograms();
  const one = share([1000, 2000], { counts: { ...counts(2, { timeout: 1 }), rst: { received: { REFUSED_STREAM: 1 }, sent: {} }, rstReceivedTotal: 1 } });
  const two = share([3000], {
    counts: { ...counts(1, { timeout: 2, 'rst:CANCEL': 1 }), goawayReceived: { NO_ERROR: 1 }, goawayStreamsCut: { NO_ERROR: 3 } },
    timing: { measuredMs: 1000, endMs: 0, drainMs: 12, aborted: false },
    load: { cpuPerS: 0.4, elu: 0.95, pacerPerS: 0 },
  });
  const r = await mergeShares(options, [one, two]);
  assert.equal(r.requests, 7);
  assert.equal(r.successes, 3);
  assert.equal(r.durationS, 1.5);
  assert.equal(r.rps, 3 / 1.5, 'goodput: successes only');
  assert.equal(r.completedRps, 7 / 1.5);
  assert.equal(r.errorRate, 4 / 7);
  assert.equal(r.drainMs, 12);
  assert.deepEqual(r.latencyLowerBounds, [], 'no timeout reaches a 2 s timeout bucket among these latencies');
  assert.deepEqual(r.errors, { 'rst:CANCEL': 1, timeout: 3 });
  assert.equal(r.rstRate, 1 / 7);
  assert.deepEqual(r.goawayStreamsCut, { NO_ERROR: 3 });
  assert.deepEqual(r.goawayReceived, { NO_ERROR: 1 });
  assert.ok(Math.abs(r.generatorCpu - 0.3) < 1e-9);
  assert.equal(r.generatorSaturated, true, 'one worker loop busy 95% of the time');
  assert.equal(r.openLoop, undefined);
  assert.equal(r.generator, 'sluice');
  const calm = await mergeShares(options, [share([1]), share([2])]);
  assert.equal(calm.generatorSaturated, false);
  // 1.9 CPU seconds per second over 2 workers is 0.95 each.
  const busy = await mergeShares(options, [share([1], { load: { cpuPerS: 1.9, elu: 0.5, pacerPerS: 0 } }), share([2], { load: { cpuPerS: 1.9, elu: 0.5, pacerPerS: 0 } })]);
  assert.equal(busy.generatorSaturated, true);
  // The open-loop pacer's idle polling is CPU spent on punctuality, not load: it does not saturate.
  const pacing = await mergeShares(options, [share([1], { load: { cpuPerS: 1.0, elu: 0.1, pacerPerS: 0.8 } })]);
  assert.equal(pacing.generatorSaturated, false);
});

test('per-second series merge by second: requests and errors add, P99 comes from the merged histograms', async () => {
  await initHistograms();
  const slow = Array.from({ length: 10 }, () => 500_000);
  const fast = Array.from({ length: 990 }, () => 1_000);
  const one = share([1], {
    seconds: [
      { requests: 990, successes: 990, errors: 0, histogram: encode(fast) },
      { requests: 4, successes: 1, errors: 3, histogram: encode([1, 2, 3, 4]) },
      { requests: 1, successes: 1, errors: 0, histogram: encode([1]) },
    ],
  });
  const two = share([1], {
    seconds: [
      { requests: 10, successes: 10, errors: 0, histogram: encode(slow) },
      { requests: 0, successes: 0, errors: 0 },
    ],
  });
  const r = await mergeShares(options, [one, two]);
  assert.equal(r.timeSeries?.length, 2, 'only the seconds both workers measured');
  assert.equal(r.timeSeries?.[0]?.rps, 1000);
  // 10 slow of 1000: the P99 is the 990th value, a fast one; P99 of the worker alone with the slow ones is 500 ms.
  assert.ok(Math.abs((r.timeSeries?.[0]?.p99Ms ?? 0) - 1) < 0.01, JSON.stringify(r.timeSeries));
  assert.deepEqual(r.timeSeries?.[1], { t: 1, rps: 1, p99Ms: 0.004, errors: 3 });
});

test('open loop: schedules and lags merge; behind when the sends fell short, lagged, or were capped', async () => {
  await initHistograms();
  const open = (due: number, sent: number, lagUs: number[], capped = 0): Partial<ShareResult> => ({
    openLoop: { targetRps: 100, due, sent, capped, lag: encode(lagUs) },
  });
  const rate = { ...options, rate: 200 };
  const ok = await mergeShares(rate, [share([1], open(200, 200, [100, 2000])), share([1], open(200, 199, [300]))]);
  assert.equal(ok.openLoop?.targetRps, 200);
  assert.equal(ok.openLoop?.sentRps, 399 / 2);
  assert.equal(ok.openLoop?.behind, false);
  assert.ok(Math.abs((ok.openLoop?.maxLagMs ?? 0) - 2) < 0.01);
  assert.ok(Math.abs((ok.openLoop?.meanLagMs ?? 0) - 0.8) < 0.01);
  const short = await mergeShares(rate, [share([1], open(200, 150, [100])), share([1], open(200, 200, [100]))]);
  assert.equal(short.openLoop?.behind, true, '350 of 400 sent');
  const late = await mergeShares(rate, [share([1], open(200, 200, Array.from({ length: 100 }, (_, i) => (i < 5 ? 50_000 : 100))))]);
  assert.equal(late.openLoop?.behind, true, 'P99 lag 50 ms');
  const capped = await mergeShares(rate, [share([1], open(200, 199, [100], 1))]);
  assert.equal(capped.openLoop?.behind, true);
  assert.equal(capped.openLoop?.capped, 1);
});

test('shares: connections as even as possible, rate in proportion, one worker per connection at most', () => {
  const shares = splitLoad({ ...options, connections: 5, rate: 100 }, 2);
  assert.deepEqual(
    shares.map((s) => [s.options.connections, s.options.rate, s.options.workers]),
    [
      [3, 60, 1],
      [2, 40, 1],
    ],
  );
  assert.deepEqual(
    shares.map((s) => s.offsetMs),
    [0, 10],
  );
  assert.equal(splitLoad(options, 1)[0]!.options.rate, undefined);
  assert.throws(() => splitLoad({ ...options, connections: 1 }, 2), RangeError);
});

test('count records add key by key, sorted', () => {
  assert.deepEqual(Object.entries(addRecords([{ b: 1, a: 2 }, { b: 3 }, {}])), [
    ['a', 2],
    ['b', 4],
  ]);
});

test('streamed messages merge like the other histograms, and the ramp by sums and counts', async () => {
  await initHistograms();
  const a = spread(700, 3);
  const b = spread(300, 5);
  const ramp = (ttfb: number, total: number) => ({ ttfbMs: [ttfb, 0], totalMs: [total, 0], count: [1, 0] });
  const one = share([1], { histograms: { all: encode([1]), success: encode([1]), messages: encode(a) }, ramp: ramp(2, 4) });
  const two = share([1], { histograms: { all: encode([1]), success: encode([1]), messages: encode(b) }, ramp: ramp(4, 8) });
  const r = await mergeShares({ ...options, scenario: 'server-streaming' }, [one, two]);
  const single = LatencyHistogram.decode(encode([...a, ...b]));
  try {
    assert.equal(r.streaming?.messages, 1000);
    assert.equal(r.streaming?.messagesPerS, 1000 / 2, 'over the 2 s window');
    assert.deepEqual(r.streaming?.messageLatencyMs, single.summaryMs());
  } finally {
    single.destroy();
  }
  assert.deepEqual(r.ramp, [{ call: 0, connections: 2, ttfbMs: 3, totalMs: 6 }]);
  const unary = await mergeShares(options, [share([1]), share([2])]);
  assert.equal(unary.streaming, undefined);
  assert.equal(unary.ramp, undefined);
});
