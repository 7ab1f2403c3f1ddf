// The BDP estimator alone, with fake time (ms) and a fake running byte count: when it pings, when a
// sample grows a window, by how much, and what it never does (shrink, exceed 16 MiB, ping twice at once).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AdaptiveWindow, MAX_WINDOW, MAX_INTERVAL_MS, MIN_INTERVAL_MS, type Sample } from '../adaptive-window.js';

/** Drives one PING round: bytes already counted at `now`, `bytes` more arrive during `rttMs`. */
class Clock {
  now = 1000;
  total = 0;
  constructor(readonly est: AdaptiveWindow) {}

  round(bytes: number, rttMs: number): Sample {
    this.now += this.est.intervalMs;
    this.total += 1; // something arrived since the last look: the session is not idle
    assert.ok(this.est.shouldPing(this.now, this.total), 'should ping');
    this.est.pingSent(this.now, this.total);
    this.now += rttMs;
    this.total += bytes;
    const s = this.est.pingAcked(this.now, this.total);
    assert.ok(s);
    return s;
  }
}

const fresh = (streamWindow = 65_535, connWindow = 1_048_576) => new AdaptiveWindow({ streamWindow, connWindow });

describe('adaptive window estimator', () => {
  test('a sample below 1/3 of the window does not grow it; at about 1/3 the stream window doubles', () => {
    const c = new Clock(fresh());
    const below = c.round(Math.floor(65_535 / 3) - 100, 10);
    assert.equal(below.streamGrew, false);
    assert.equal(c.est.streamWindow, 65_535);
    const at = c.round(Math.ceil(65_535 / 3) + 10, 10); // more bytes in the same RTT: a new bandwidth maximum
    assert.equal(at.streamGrew, true);
    assert.equal(c.est.streamWindow, 131_070);
    assert.equal(c.est.connWindow, 1_048_576, 'the connection window grows on its own 1/3 rule only');
  });

  test('the connection window doubles when a sample reaches 1/3 of it, and never lags the stream window', () => {
    const c = new Clock(fresh(65_535, 1_048_576));
    const s = c.round(400_000, 10);
    assert.equal(s.connGrew, true);
    assert.equal(c.est.connWindow, 2_097_152);
    assert.equal(c.est.streamWindow, 131_070);

    const d = new Clock(fresh(1_048_576, 1_048_576));
    d.round(400_000, 10);
    assert.equal(d.est.streamWindow, 2_097_152);
    assert.ok(d.est.connWindow >= d.est.streamWindow);
  });

  test('growing bandwidth keeps doubling up to 16 MiB and no further', () => {
    const c = new Clock(fresh());
    let last = c.est.streamWindow;
    for (let i = 0; i < 40; i++) {
      c.round(c.est.streamWindow, 10); // the window is the bottleneck: each round fills it
      assert.ok(c.est.streamWindow === last * 2 || c.est.streamWindow === MAX_WINDOW || c.est.streamWindow === last);
      last = c.est.streamWindow;
    }
    assert.equal(c.est.streamWindow, MAX_WINDOW);
    assert.equal(c.est.connWindow, MAX_WINDOW);
  });

  test('windows never shrink: tiny samples, RTT jumps, and a starting point above the cap', () => {
    const c = new Clock(fresh());
    c.round(60_000, 10);
    const grown = c.est.streamWindow;
    for (const [bytes, rtt] of [[0, 10], [10, 100], [0, 1], [5, 1000]] as const) {
      c.round(bytes, rtt);
      assert.equal(c.est.streamWindow, grown);
    }
    const big = new Clock(fresh(MAX_WINDOW * 2, MAX_WINDOW * 4));
    big.round(MAX_WINDOW * 8, 10);
    assert.equal(big.est.streamWindow, MAX_WINDOW * 2);
    assert.equal(big.est.connWindow, MAX_WINDOW * 4);
  });

  test('a longer RTT at the same bandwidth grows only because the baseline resets on the RTT jump', () => {
    const c = new Clock(fresh(65_535, 16 * 2 ** 20));
    c.round(20_000, 1); // 20 kB/ms, below 1/3 of the window
    assert.equal(c.est.streamWindow, 65_535);
    // RTT 1 ms -> 2.5 ms at the same bandwidth: 50 kB in flight, above 1/3 of the window, yet no new bandwidth maximum...
    const jump = c.round(50_000, 2.5);
    assert.equal(jump.rttJump, true, 'RTT above twice the smoothed RTT resets the baseline');
    assert.equal(jump.streamGrew, true);
    assert.equal(c.est.streamWindow, 131_070);

    // ...whereas without the jump rule (a small RTT rise) the same bandwidth never sets a new maximum.
    const d = new Clock(fresh(65_535, 16 * 2 ** 20));
    d.round(20_000, 1);
    const slow = d.round(19_000 * 1.5, 1.5); // 19 kB/ms < 20 kB/ms, RTT x1.5 is no jump
    assert.equal(slow.rttJump, false);
    assert.equal(slow.streamGrew, false);
  });

  test('one PING at a time; the interval stays between its floor and ceiling; idle sessions are not pinged', () => {
    const est = fresh();
    assert.equal(est.shouldPing(0, 0), false, 'no bytes yet: idle');
    assert.equal(est.shouldPing(0, 100), true);
    est.pingSent(0, 100);
    assert.equal(est.pingInFlight, true);
    assert.equal(est.shouldPing(1000, 10_000), false, 'never a second PING while one is in flight');
    assert.throws(() => est.pingSent(1000, 10_000), /already in flight/);
    est.pingAcked(5, 200);
    assert.equal(est.pingInFlight, false);
    assert.equal(est.shouldPing(5 + MIN_INTERVAL_MS / 2, 300), false, 'not before the floor');

    const c = new Clock(fresh());
    for (let i = 0; i < 20; i++) {
      c.round(10, 1); // nothing to grow: back off
      assert.ok(c.est.intervalMs >= MIN_INTERVAL_MS && c.est.intervalMs <= MAX_INTERVAL_MS);
    }
    assert.equal(c.est.intervalMs, MAX_INTERVAL_MS);
    c.round(c.est.streamWindow, 1);
    assert.equal(c.est.intervalMs, MIN_INTERVAL_MS, 'growth goes back to the floor');

    const failed = fresh();
    failed.shouldPing(0, 1);
    failed.pingSent(0, 1);
    failed.pingFailed();
    assert.equal(failed.pingInFlight, false);
    assert.equal(failed.pingAcked(1, 2), undefined, 'an ACK without a PING is no sample');
  });
});
