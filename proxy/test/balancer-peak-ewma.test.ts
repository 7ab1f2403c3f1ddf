// PeakEWMA (balancer/peak-ewma.ts) on a fake clock: a peak replaces the estimate at once, lower samples pull
// it down with weight 1 - exp(-elapsed/decay), idle time decays it toward 0, and cost = estimate × (in-flight + 1).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PeakEwma, peakEwmaCost } from '../src/balancer/peak-ewma.js';

const close = (actual: number, expected: number): void =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`);

describe('PeakEWMA', () => {
  test('starts at the default RTT', () => {
    const e = new PeakEwma({ decayMs: 10_000, defaultRttMs: 30, now: 0 });
    assert.equal(e.peek(), 30);
    assert.equal(e.estimate(0), 30);
  });

  test('peak sensitive: a sample above the estimate replaces it at once, however recent the last update', () => {
    const e = new PeakEwma({ decayMs: 10_000, defaultRttMs: 30, now: 0 });
    assert.equal(e.observe(500, 1), 500);
    assert.equal(e.observe(800, 1), 800);
  });

  test('a lower sample pulls the estimate with weight 1 - exp(-elapsed/decay)', () => {
    const e = new PeakEwma({ decayMs: 10_000, defaultRttMs: 30, now: 0 });
    e.observe(100, 0); // peak: 100
    const w = Math.exp(-10_000 / 10_000);
    close(e.observe(10, 10_000), 100 * w + 10 * (1 - w));
    // No time passed: the sample has no weight.
    const before = e.peek();
    close(e.observe(1, 10_000), before);
    // A long time passed: the sample is nearly all.
    assert.ok(Math.abs(e.observe(1, 10_000 + 1_000_000) - 1) < 1e-6);
  });

  test('idle time decays the estimate toward 0 (a sample of 0), with the decay as time constant', () => {
    const e = new PeakEwma({ decayMs: 2_000, defaultRttMs: 30, now: 0 });
    e.observe(40, 0);
    close(e.estimate(2_000), 40 * Math.exp(-1));
    close(e.estimate(4_000), 40 * Math.exp(-2)); // composes: exp(-1) · exp(-1)
  });

  test('a clock that goes backwards neither grows nor breaks the estimate', () => {
    const e = new PeakEwma({ decayMs: 10_000, defaultRttMs: 30, now: 1_000 });
    close(e.observe(10, 500), 30);
  });

  test('cost is the estimate times (in-flight + 1)', () => {
    assert.equal(peakEwmaCost(20, 0), 20);
    assert.equal(peakEwmaCost(20, 3), 80);
    assert.ok(peakEwmaCost(1, 8) < peakEwmaCost(20, 0));
  });

  test('a decay of 0 is refused', () => {
    assert.throws(() => new PeakEwma({ decayMs: 0, defaultRttMs: 30, now: 0 }), RangeError);
  });
});
