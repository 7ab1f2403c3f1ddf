// The closed-loop sequencer with a stub startRequest: phases, concurrency, ticks, the deadline, aborts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runClosedLoop, type LoopTick } from '../../load/sequencer/closed-loop.js';
import type { Phase } from '../../load/sequencer/phase-clock.js';

test('runs warm-up then measure then done, never more than `concurrency` requests at once', async () => {
  const phases: Phase[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const started: Phase[] = [];
  let phase: Phase = 'warmup';
  const timing = await runClosedLoop({
    concurrency: 5,
    warmupMs: 150,
    durationMs: 300,
    onPhase: (p) => {
      phase = p;
      phases.push(p);
    },
    startRequest: async () => {
      started.push(phase);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(5);
      inFlight--;
    },
  });
  assert.deepEqual(phases, ['warmup', 'measure', 'done']);
  assert.equal(maxInFlight, 5);
  assert.ok(started.includes('warmup') && started.includes('measure'));
  assert.ok(!started.includes('done'), 'a request was started after the deadline');
  assert.equal(inFlight, 0, 'the loops resolved before their requests settled');
  assert.ok(timing.measuredMs >= 295 && timing.measuredMs < 1000, `measuredMs ${timing.measuredMs}`);
  assert.equal(timing.aborted, false);
});

test('ticks every second with the phase, elapsed seconds and the phase’s own counts', async () => {
  const ticks: LoopTick[] = [];
  let n = 0;
  await runClosedLoop({
    concurrency: 2,
    warmupMs: 100,
    durationMs: 1100,
    onTick: (t) => ticks.push(t),
    startRequest: async () => {
      await sleep(2);
      if (++n % 4 === 0) throw new Error('failed');
    },
  });
  const warmup = ticks.filter((t) => t.phase === 'warmup');
  const measure = ticks.filter((t) => t.phase === 'measure');
  assert.equal(warmup.length, 1, 'one closing tick for a warm-up shorter than a second');
  assert.equal(measure.length, 2, 'one tick at 1 s, one closing tick');
  assert.ok(Math.abs(measure[0]!.elapsedS - 1) < 0.1);
  assert.ok(measure[1]!.requests > measure[0]!.requests);
  assert.ok(measure[1]!.errors > 0 && measure[1]!.errors < measure[1]!.requests);
});

test('a startRequest that settles without I/O does not starve the deadline', async () => {
  let calls = 0;
  const timing = await runClosedLoop({
    concurrency: 4,
    warmupMs: 0,
    durationMs: 100,
    startRequest: async () => {
      if (++calls % 2) throw new Error('instant failure');
    },
  });
  assert.ok(calls > 0);
  assert.ok(timing.measuredMs < 1000);
});

test('an abort ends the run at once and says so', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const timing = await runClosedLoop({
    concurrency: 2,
    warmupMs: 0,
    durationMs: 10_000,
    signal: controller.signal,
    startRequest: () => sleep(5),
  });
  assert.equal(timing.aborted, true);
  assert.ok(timing.measuredMs < 1000);
});

test('concurrency must be a positive integer', async () => {
  await assert.rejects(runClosedLoop({ concurrency: 0, warmupMs: 0, durationMs: 10, startRequest: async () => undefined }), RangeError);
});

test('startRequestWith (no promise per request): the same phases, concurrency, counts and drain as startRequest', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  let phase: Phase = 'warmup';
  let n = 0;
  let settled = 0;
  const ticks: LoopTick[] = [];
  const timing = await runClosedLoop({
    concurrency: 4,
    warmupMs: 100,
    durationMs: 1100,
    onPhase: (p) => (phase = p),
    onTick: (t) => ticks.push(t),
    startRequest: () => Promise.reject(new Error('the promise path must not be used')),
    startRequestWith: (resolve, reject) => {
      assert.notEqual(phase, 'done', 'a request was started after the deadline');
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const k = ++n;
      // Some settle at once (before startRequestWith returns), some fail, one settles twice (only the first counts).
      const settle = (): void => {
        inFlight--;
        settled++;
        if (k % 5 === 0) reject(new Error('failed'));
        else resolve();
        if (k === 7) resolve();
      };
      if (k % 3 === 0) settle();
      else setTimeout(settle, 2);
    },
  });
  assert.equal(maxInFlight, 4);
  assert.equal(inFlight, 0, 'resolved before every request settled');
  assert.equal(settled, n);
  const measure = ticks.filter((t) => t.phase === 'measure');
  assert.ok(measure.length === 2 && measure[1]!.requests > measure[0]!.requests);
  assert.ok(measure[1]!.errors > 0 && measure[1]!.errors < measure[1]!.requests);
  assert.ok(timing.measuredMs >= 1095, `measuredMs ${timing.measuredMs}`);
  assert.equal(timing.aborted, false);
});
