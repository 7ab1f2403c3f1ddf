// The human summary of `npm run load` and its text histogram: pure functions of a RepResult, tested against a
// fixture built here with the histogram API (900 requests at ~1 ms, 90 at ~10 ms, 10 at ~100 ms).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initHistograms, LatencyHistogram } from '../load/statistic/histogram.js';
import type { RepResult } from '../load/types.js';
import { formatLoadSummary } from '../output/load-summary.js';
import { formatTextHistogram, logBuckets } from '../output/text-histogram.js';

let fixture: RepResult;

before(async () => {
  await initHistograms();
  const h = LatencyHistogram.create();
  try {
    for (let i = 0; i < 900; i++) h.recordMicros(1000);
    for (let i = 0; i < 90; i++) h.recordMicros(10_000);
    for (let i = 0; i < 10; i++) h.recordMicros(100_000);
    const latencyMs = h.summaryMs();
    fixture = {
      rps: 1000,
      completedRps: 1010,
      requests: 1010,
      successes: 1000,
      errorRate: 10 / 1010,
      durationS: 1,
      latencyMs,
      latencyLowerBounds: [],
      successLatencyMs: latencyMs,
      successHistogram: h.encode(),
      errors: { 'status:5xx': 6, 'rst:REFUSED_STREAM': 3, timeout: 1 },
      rst: { received: { REFUSED_STREAM: 3 }, sent: { CANCEL: 1 } },
      rstRate: 3 / 1010,
      generatorSaturated: false,
      generatorCpu: 0.42,
      histogram: h.encode(),
      goawayReceived: { NO_ERROR: 1 },
      goawayStreamsCut: {},
      generator: 'sluice',
    };
  } finally {
    h.destroy();
  }
});

test('the summary has goodput and completions apart, the percentiles table and the histogram', () => {
  const text = formatLoadSummary(fixture, { title: 'sluice load: GET http://127.0.0.1:1/ (h2)' });
  assert.match(text, /^sluice load: GET http:\/\/127\.0\.0\.1:1\/ \(h2\)\n/);
  assert.match(text, /Goodput\s+1,000 rps: successful responses per second \(1,000 of 1,010 requests sent in 1\.00 s\)/);
  assert.match(text, /Completed\s+1,010 rps: every outcome, successes and failures; error rate 0\.99% \(10 failed\)/);
  assert.match(text, /p50\s+p90\s+p95\s+p99\s+p99\.9\s+max\s+mean/);
  // p50 and p90 1 ms, p95 and p99 ~10 ms, p99.9 and max ~100 ms (bucket highest equivalent values)
  assert.match(text, /\n\s+all\s+1\.00\s+1\.00\s+10\.0\s+10\.0\s+100\s+100\s+2\.80\n/);
  assert.match(text, /\n\s+successes\s+1\.00\s+1\.00\s+10\.0\s+10\.0\s+100\s+100\s+2\.80\n/);
  assert.doesNotMatch(text, />=/);
  assert.match(text, /Latency histogram \(all\)\n\s+<= 1\.00 ms \| █{40}\s+900\s+90\.0%/);
  assert.match(text, /<= 10\.0 ms \| █{4}\s+90\s+9\.0%/);
  assert.match(text, /<= 100 ms \| █\s+10\s+1\.0%/);
  assert.doesNotMatch(text, /SATURATED/);
});

test('errors by class, RST_STREAM and GOAWAY by code', () => {
  const text = formatLoadSummary(fixture);
  assert.match(text, /Errors\s+10 of 1,010 requests failed \(0\.99%\)/);
  assert.match(text, /\n\s+status:5xx\s+6\s+0\.59%\n\s+rst:REFUSED_STREAM\s+3\s+0\.30%\n\s+timeout\s+1\s+0\.10%\n/);
  assert.match(text, /RST_STREAM received: REFUSED_STREAM 3; sent: CANCEL 1; rst rate 2\.97e-3/);
  assert.match(text, /GOAWAY\s+received: NO_ERROR 1; streams cut: none/);
  assert.match(formatLoadSummary({ ...fixture, errors: {} }), /Errors\s+none of 1,010 requests failed/);
});

test('a saturated generator gets a loud warning, first and last', () => {
  const text = formatLoadSummary({ ...fixture, generatorSaturated: true, generatorCpu: 0.97 });
  const lines = text.split('\n');
  assert.match(lines[0]!, /^!{20,}$/);
  assert.match(lines[1]!, /^!! GENERATOR SATURATED: the generator used 0\.97 CPU seconds per measured second/);
  assert.match(text, /WARNING: GENERATOR SATURATED/);
});

test('percentiles that timeouts reached are marked as lower bounds', () => {
  const text = formatLoadSummary({ ...fixture, latencyLowerBounds: ['p999', 'max'] });
  assert.match(text, /'>=' marks a lower bound/);
  assert.match(text, /\n\s+all\s+1\.00\s+1\.00\s+10\.0\s+10\.0\s+>=100\s+>=100\s+2\.80\n/);
});

test('open loop: target against sent, the lag percentiles, corrected and uncorrected latency, BEHIND when the rate was not kept', () => {
  const kept = formatLoadSummary({
    ...fixture,
    openLoop: { targetRps: 1000, sentRps: 999, lagP50Ms: 0.02, lagP99Ms: 0.3, maxLagMs: 1.5, meanLagMs: 0.2, behind: false, pacerCpu: 0.12 },
    uncorrectedLatencyMs: fixture.latencyMs,
  });
  assert.match(kept, /Open loop\s+target 1,000 rps, sent 999 rps; send lag \(real - intended send\) p50 0\.02, p99 0\.30, max 1\.50, mean 0\.20 ms; pacer CPU 0\.12\n/);
  assert.match(kept, /\n\s+uncorrected\s+1\.00/);
  assert.match(kept, /from its intended send/);
  const behind = formatLoadSummary({ ...fixture, openLoop: { targetRps: 1000, sentRps: 600, maxLagMs: 250, meanLagMs: 80, behind: true } });
  assert.match(behind, /sent 600 rps.*BEHIND/);
});

test("h2load's record: RST not reported, its notes listed", () => {
  const notes = ['rst and rstRate not measured: h2load does not report RST_STREAM'];
  const text = formatLoadSummary({ ...fixture, generator: 'h2load', errors: { 'h2load:errored': 2 }, generatorNotes: notes } as RepResult);
  assert.match(text, /RST_STREAM not reported by h2load/);
  assert.match(text, /Notes \(h2load\)\n\s+- rst and rstRate not measured/);
  assert.match(text, /h2load:errored\s+2/);
});

test('server streaming: messages per second and their latency; the ramp: the first calls and the last', () => {
  const text = formatLoadSummary({
    ...fixture,
    streaming: { messages: 10_100, messagesPerS: 10_000, messageLatencyMs: { ...fixture.latencyMs, p50: 0.25, p99: 4.5, max: 12 }, messageHistogram: fixture.histogram },
    ramp: Array.from({ length: 20 }, (_, call) => ({ call, connections: call < 19 ? 4 : 3, ttfbMs: call < 3 ? 12 : 1, totalMs: call < 3 ? 25 : 2 })),
  });
  assert.match(text, /Streaming\s+10,000 messages\/s \(10,100 messages on the window's streams\); message latency \(backend stamp to arrival\) p50 0\.25, p99 4\.50, max 12\.0 ms\n/);
  assert.match(text, /Ramp\s+each connection's first calls, TTFB\/total ms \(call #0 its first ever; up to 4 connections\): #0 12\.0\/25\.0, #1 12\.0\/25\.0, #2 12\.0\/25\.0, #3 1\.00\/2\.00, #4 1\.00\/2\.00, \.\.\. #19 1\.00\/2\.00\n/);
  assert.doesNotMatch(formatLoadSummary(fixture), /Streaming|Ramp/);
});

test('an attacker: its streams, the GOAWAYs and the connections the target closed, on one line', () => {
  const text = formatLoadSummary({
    ...fixture,
    attack: { kind: 'rapid-reset', streams: 123_456, goaway: { ENHANCE_YOUR_CALM: 3 }, connectionsClosed: 3, reconnects: 3 },
    connections: { closedByPeer: 3, opened: 3 },
  });
  assert.match(
    text,
    /Attack\s+rapid-reset: 123,456 streams opened and reset in the window \(no latency outcome\); GOAWAY ENHANCE_YOUR_CALM 3; 3 connections closed by the target, 3 reconnects\n/,
  );
  assert.doesNotMatch(text, /Connections/, 'the attack line says it');
  assert.match(formatLoadSummary({ ...fixture, connections: { closedByPeer: 3, opened: 2 } }), /Connections 3 closed by the target, 2 new ones opened \(window and drain\)\n/);
  assert.doesNotMatch(formatLoadSummary(fixture), /Attack|Connections|Stalled|Trace/);
  // Connections that all stayed up say nothing.
  assert.doesNotMatch(formatLoadSummary({ ...fixture, connections: { closedByPeer: 0, opened: 0 } }), /Connections/);
});

test('a slow reader: its stalled streams and how the target reset them', () => {
  const text = formatLoadSummary({ ...fixture, stalled: { streams: 40, resetByPeer: { CANCEL: 12 } } });
  assert.match(text, /Stalled\s+40 streams sent in the window never read their responses; reset by the target: CANCEL 12\n/);
});

test('a trace: where the errors began and ended, who answered, the slowest bucket', () => {
  const bucket = (t: number, ok: number, errors: Record<string, number>, endpoints: Record<string, number>, maxLatencyMs: number) => ({ t, ok, errors, endpoints, maxLatencyMs });
  const text = formatLoadSummary({
    ...fixture,
    trace: {
      bucketMs: 100,
      buckets: [
        bucket(0, 10, {}, { '9001': 5, '9002': 5 }, 1.5),
        bucket(100, 8, { 'status:5xx': 2 }, { '9001': 8 }, 2),
        bucket(200, 0, {}, {}, 0),
        bucket(300, 0, { timeout: 4, 'status:5xx': 1 }, {}, 1000),
      ],
    },
  });
  assert.match(text, /Trace\s+4 buckets of 100 ms by arrival \(0-400 ms, window and drain\); successes by endpoint: 9001 13, 9002 5\n/);
  assert.match(text, /\n\s+errors from 100 ms \(status:5xx 2\) to 300 ms \(timeout 4, status:5xx 1\), in 2 of 4 buckets; largest latency 1000 ms at 300 ms\n/);
  const quiet = formatLoadSummary({ ...fixture, trace: { bucketMs: 50, buckets: [bucket(0, 3, {}, {}, 0.5)] } });
  assert.match(quiet, /Trace\s+1 bucket of 50 ms by arrival \(0-50 ms, window and drain\)\n\s+no errors; largest latency 0\.50 ms at 0 ms\n/);
});

test('the summary is pure: the same record gives the same text', () => {
  assert.equal(formatLoadSummary(fixture), formatLoadSummary(structuredClone(fixture)));
});

test('text histogram: log-scale buckets from the smallest to the largest value, empty ones kept', () => {
  const buckets = logBuckets(fixture.histogram);
  assert.equal(buckets.reduce((a, b) => a + b.count, 0), 1000);
  // 1, 1.5, 2, 3, 5, 7 steps per decade, from the 1 ms bucket to the 100 ms one, empty ones included.
  assert.deepEqual(
    buckets.map((b) => b.upToUs),
    [1000, 1500, 2000, 3000, 5000, 7000, 10_000, 15_000, 20_000, 30_000, 50_000, 70_000, 100_000],
  );
  assert.deepEqual(
    buckets.filter((b) => b.count > 0).map((b) => [b.upToUs, b.count]),
    [
      [1000, 900],
      [10_000, 90],
      [100_000, 10],
    ],
  );
  assert.ok(buckets.some((b) => b.count === 0), 'empty buckets between values are kept');
  const text = formatTextHistogram(fixture.histogram, { width: 20 });
  const bars = text.split('\n').filter((l) => /█/.test(l));
  assert.equal(bars.length, 3);
  assert.match(bars[0]!, /\| █{20} /, 'the fullest bucket gets the full width');
  assert.match(bars[2]!, /\| █ /, 'a small bucket still shows');
});

test('text histogram of nothing says so', () => {
  assert.match(formatTextHistogram(''), /no successful requests/);
});
