import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LinkStats, SATURATION } from '../link/link-stats.js';

describe('link stats and the saturation rule', () => {
  it('summarises lateness per direction', () => {
    const stats = new LinkStats();
    for (let i = 1; i <= 100; i++) stats.directions.forward.delivered(10, i / 100); // 0.01 .. 1 ms
    const { lateness, bytes, chunks } = stats.snapshot(0).directions.forward;
    assert.equal(bytes, 1000);
    assert.equal(chunks, 100);
    assert.equal(lateness.count, 100);
    assert.ok(Math.abs(lateness.p50Ms - 0.5) < 0.01, String(lateness.p50Ms));
    assert.ok(Math.abs(lateness.p99Ms - 0.99) < 0.01, String(lateness.p99Ms));
    assert.ok(Math.abs(lateness.maxMs - 1) < 0.01, String(lateness.maxMs));
  });

  it('is not saturated while nine deliveries in ten keep the schedule to a millisecond', () => {
    const stats = new LinkStats();
    for (let i = 0; i < 1000; i++) stats.directions.reverse.delivered(10, i % 20 === 0 ? 5 : 0.05);
    assert.deepEqual(stats.saturation(), { saturated: false, reason: null });
  });

  it('is saturated when the lateness p90 passes the threshold over enough deliveries', () => {
    const stats = new LinkStats();
    for (let i = 0; i < SATURATION.minDeliveries - 10; i++) stats.directions.forward.delivered(10, 5);
    assert.equal(stats.saturation().saturated, false, 'too few deliveries to say');
    for (let i = 0; i < 20; i++) stats.directions.reverse.delivered(10, 5);
    const { saturated, reason } = stats.saturation();
    assert.ok(saturated);
    assert.match(reason ?? '', /lateness p90/);
  });

  it('leaves deliveries held by the receiver out of the lateness', () => {
    const stats = new LinkStats();
    for (let i = 0; i < 500; i++) stats.directions.forward.delivered(10, undefined);
    assert.equal(stats.directions.forward.heldByReceiver, 500);
    assert.equal(stats.snapshot(0).directions.forward.lateness.count, 0);
    assert.equal(stats.saturation().saturated, false);
  });

  it('is saturated after a one-second window at a full core', () => {
    const stats = new LinkStats();
    stats.sampleCpu(0, 0);
    stats.sampleCpu(1000, 300_000); // 0.3 of a core
    assert.equal(stats.saturation().saturated, false);
    stats.sampleCpu(2000, 1_250_000); // 0.95
    const { saturated, reason } = stats.saturation();
    assert.ok(saturated);
    assert.match(reason ?? '', /of a core/);
    assert.equal(stats.busiestCpuShare, 0.95);
  });

  it('sums the time senders were paused over connections', () => {
    const stats = new LinkStats();
    const forward = stats.directions.forward;
    forward.paused(1, 0);
    forward.paused(1, 10); // two paused from 10
    forward.paused(-1, 20);
    assert.equal(forward.pausedMs(30), 10 + 2 * 10 + 10);
    assert.equal(forward.pauses, 2);
  });
});
