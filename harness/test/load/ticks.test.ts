// Workers' ticks merged into one per second.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LoopTick } from '../../load/sequencer/closed-loop.js';
import { TickMerger } from '../../load/worker/ticks.js';

const tick = (phase: LoopTick['phase'], elapsedS: number, requests: number, errors = 0): LoopTick => ({ phase, elapsedS, requests, errors });

test('one worker: each tick is told at once', () => {
  const told: LoopTick[] = [];
  const merger = new TickMerger(1, (t) => told.push(t));
  merger.add(0, tick('warmup', 0.2, 5));
  assert.equal(told.length, 1);
  merger.add(0, tick('measure', 1, 10));
  merger.add(0, tick('measure', 1.2, 12));
  merger.finish(0);
  assert.deepEqual(told, [tick('warmup', 0.2, 5), tick('measure', 1, 10), tick('measure', 1.2, 12)]);
});

test('two workers: the n-th ticks of a phase are summed once both have sent them', () => {
  const told: LoopTick[] = [];
  const merger = new TickMerger(2, (t) => told.push(t));
  merger.add(0, tick('measure', 1, 10, 1));
  assert.equal(told.length, 0, 'told before the other worker ticked');
  merger.add(1, tick('measure', 1.01, 20, 2));
  assert.deepEqual(told, [tick('measure', 1.01, 30, 3)]);
  merger.add(1, tick('measure', 1.5, 25));
  merger.add(0, tick('measure', 1.5, 15));
  merger.finish(0);
  merger.finish(1);
  assert.deepEqual(told.at(-1), tick('measure', 1.5, 40));
  assert.equal(told.length, 2);
});

test('a worker with fewer ticks in a phase counts with its last one; one that finished early does not block', () => {
  const told: LoopTick[] = [];
  const merger = new TickMerger(2, (t) => told.push(t));
  merger.add(0, tick('warmup', 0.2, 4));
  merger.add(1, tick('warmup', 0.2, 6));
  merger.add(1, tick('warmup', 0.21, 7)); // an extra closing tick
  merger.add(0, tick('measure', 1, 10));
  // Worker 0 moved on: the extra warm-up tick is told with worker 0's last warm-up count.
  assert.deepEqual(told, [tick('warmup', 0.2, 10), tick('warmup', 0.21, 11)]);
  merger.finish(1); // aborted: no measure ticks
  assert.deepEqual(told.at(-1), tick('measure', 1, 10));
});
