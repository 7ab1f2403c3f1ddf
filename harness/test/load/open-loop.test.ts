// The open-loop sequencer with stub requests: it sends on schedule whatever the requests do, hands each its
// intended start, records the send lag, and says when it could not keep up.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runOpenLoop } from '../../load/sequencer/open-loop.js';
import type { Phase } from '../../load/sequencer/phase-clock.js';
import { LinearRateLimiter } from '../../load/sequencer/rate.js';
import { initHistograms, LatencyHistogram } from '../../load/statistic/histogram.js';

const linear = (rate: number) => (startMs: number) => new LinearRateLimiter(rate, startMs);

test('sends at the rate even when every request takes far longer than the interval', async () => {
  const intended: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const timing = await runOpenLoop({
    limiter: linear(200),
    warmupMs: 0,
    durationMs: 500,
    maxInFlight: 1000,
    startRequest: async (intendedStart) => {
      intended.push(intendedStart);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(100);
      inFlight--;
    },
  });
  // 100 ms requests at 5 ms intervals: about 20 in flight at once, which a closed loop of 1 would never reach.
  assert.ok(maxInFlight >= 10, `max in flight ${maxInFlight}`);
  assert.equal(inFlight, 0, 'resolved before its requests settled');
  // The schedule itself: evenly spaced intended starts, 5 ms apart.
  for (let i = 1; i < intended.length; i++) assert.ok(Math.abs(intended[i]! - intended[i - 1]! - 5) < 1e-6);
  assert.ok(timing.due >= 100 && timing.due <= 102, `due ${timing.due}`);
  assert.equal(timing.capped, 0);
  assert.ok(timing.sent <= timing.due);
});

test('the intended start is handed over and the send lag is recorded for the measured window only', async () => {
  await initHistograms();
  const lag = LatencyHistogram.create();
  const phases: Phase[] = [];
  let phase: Phase = 'warmup';
  const measured: number[] = [];
  try {
    const timing = await runOpenLoop({
      limiter: linear(100),
      warmupMs: 100,
      durationMs: 300,
      maxInFlight: 100,
      lag,
      onPhase: (p) => {
        phase = p;
        phases.push(p);
      },
      startRequest: async (intendedStart) => {
        const now = performance.now();
        assert.ok(intendedStart <= now, 'a request was started before its time');
        if (phase === 'measure') measured.push(intendedStart);
      },
    });
    assert.deepEqual(phases, ['warmup', 'measure', 'done']);
    assert.equal(lag.count, timing.sent);
    assert.ok(timing.sent >= 25 && timing.sent <= 31, `sent ${timing.sent}`);
    assert.ok(Math.abs(measured.length - timing.sent) <= 1);
  } finally {
    lag.destroy();
  }
});

test('a generator whose loop is blocked falls behind: late sends are recorded as lag', async () => {
  await initHistograms();
  const lag = LatencyHistogram.create();
  try {
    // The loop is blocked for 150 ms during the window: the sends due meanwhile leave that much late.
    setTimeout(() => {
      const until = performance.now() + 150;
      while (performance.now() < until);
    }, 100);
    const timing = await runOpenLoop({ limiter: linear(200), warmupMs: 0, durationMs: 400, maxInFlight: 100, lag, startRequest: async () => undefined });
    assert.ok(lag.percentileMicros(99) / 1000 > 100, `lag p99 ${lag.percentileMicros(99) / 1000} ms`);
    // Caught up afterwards: everything due was sent, only late (but for one falling due as the window closed).
    assert.ok(timing.sent >= timing.due - 1 && timing.sent <= timing.due, `sent ${timing.sent} of ${timing.due}`);
  } finally {
    lag.destroy();
  }
});

test('requests over the in-flight cap are not sent but counted as capped', async () => {
  const timing = await runOpenLoop({
    limiter: linear(500),
    warmupMs: 0,
    durationMs: 200,
    maxInFlight: 10,
    // Never settles by itself within the window.
    startRequest: () => sleep(1000),
  });
  assert.ok(timing.capped > 0);
  assert.equal(timing.sent, 10);
  // Every due request was sent, capped, or (falling due in the last, possibly late, event-loop turn before the
  // deadline) never reached, which still counts as due: never more accounted than fell due, and only a few unreached.
  const unreached = timing.due - (timing.sent + timing.capped);
  assert.ok(unreached >= 0 && unreached <= Math.ceil(0.05 * timing.due), `${timing.sent} + ${timing.capped} of ${timing.due}`);
});

test('a generator too slow for its rate sends less than fell due, and the unsent still count as due', async () => {
  // Each send costs 0.1 ms of CPU: at most ~10 000/s can leave, against 20 000/s asked.
  const timing = await runOpenLoop({
    limiter: linear(20_000),
    warmupMs: 0,
    durationMs: 300,
    maxInFlight: 1_000_000,
    startRequest: async () => {
      const until = performance.now() + 0.1;
      while (performance.now() < until);
    },
  });
  assert.ok(timing.sent < 0.95 * timing.due, `sent ${timing.sent} of ${timing.due}`);
  // Due is the schedule's arithmetic over the window as it really was (to a fraction of a millisecond).
  assert.ok(Math.abs(timing.due - 20 * timing.measuredMs) <= 0.01 * timing.due, `due ${timing.due} over ${timing.measuredMs} ms`);
});

test('an abort ends the run at once; a bad cap is refused', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const timing = await runOpenLoop({
    limiter: linear(100),
    warmupMs: 0,
    durationMs: 10_000,
    maxInFlight: 100,
    signal: controller.signal,
    startRequest: () => sleep(5),
  });
  assert.equal(timing.aborted, true);
  assert.ok(timing.measuredMs < 1000);
  await assert.rejects(runOpenLoop({ limiter: linear(1), warmupMs: 0, durationMs: 10, maxInFlight: 0, startRequest: async () => undefined }), RangeError);
});

test('runLoad: an open loop whose generator cannot keep its rate is flagged behind', async () => {
  const { runLoadInThread } = await import('../../load/run-load.js');
  const { h2Server, quickOptions, respond } = await import('./servers.js');
  const server = await h2Server((stream) => respond(stream));
  try {
    // In this thread, the generator's own loop is blocked for 300 ms mid-window: sends leave up to 300 ms late.
    setTimeout(() => {
      const until = performance.now() + 300;
      while (performance.now() < until);
    }, 300);
    const r = await runLoadInThread(quickOptions(server.url, 'h2', { rate: 200, durationMs: 1000, warmupMs: 0 }));
    assert.equal(r.openLoop?.behind, true, JSON.stringify(r.openLoop));
    assert.ok((r.openLoop?.maxLagMs ?? 0) >= 250, JSON.stringify(r.openLoop));
    assert.ok((r.openLoop?.lagP99Ms ?? 0) > 10);
    // The sends were late, so were the answers: latency from the intended start shows it.
    assert.ok(r.latencyMs.max >= 250, JSON.stringify(r.latencyMs));
  } finally {
    await server.close();
  }
});
