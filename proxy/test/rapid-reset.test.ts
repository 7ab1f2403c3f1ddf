// The session protections alone, with a fake clock and fake sessions: the rapid-reset token bucket (a burst of
// N, then N a second, tripped for good), the buffered-bytes arithmetic, and the guard that applies both to a
// session (REFUSED_STREAM past the budget at the session's current window; one GOAWAY ENHANCE_YOUR_CALM).
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type http2 from 'node:http2';
import { describe, test } from 'node:test';
import { H2_CODE } from '../src/h2-codes.js';
import { ProxyMetrics } from '../src/metrics.js';
import { SessionGuard } from '../src/protect/guard.js';
import { RapidResetDetector } from '../src/protect/rapid-reset.js';
import { admits, advertisedConcurrency } from '../src/protect/stream-budget.js';
import { metricValue } from './support.js';

function detector(maxPerSecond: number): { d: RapidResetDetector; clock: { now: number } } {
  const clock = { now: 5000 };
  return { d: new RapidResetDetector({ maxPerSecond, now: () => clock.now }), clock };
}

/** How many resets in a row pass before the detector trips (the tripping one not counted). */
function passing(d: RapidResetDetector, limit = 10_000): number {
  let n = 0;
  while (n < limit && !d.reset()) n++;
  return n;
}

describe('rapid reset detector', () => {
  test('a burst of N resets passes; the next one trips, and it stays tripped', () => {
    const { d, clock } = detector(100);
    assert.equal(passing(d), 100);
    clock.now += 60_000;
    assert.equal(d.reset(), true, 'a tripped session stays tripped');
  });

  test('tokens come back at N a second, never above N', () => {
    const fresh = detector(100);
    fresh.clock.now += 3_600_000; // an hour of quiet earns one burst, not more
    assert.equal(passing(fresh.d), 100);
    const half = detector(100);
    for (let i = 0; i < 100; i++) assert.equal(half.d.reset(), false);
    half.clock.now += 500; // half a second refills half the bucket
    assert.equal(passing(half.d), 50);
  });

  test('N a second for a minute never trips; a little more than N a second does', () => {
    const steady = detector(100);
    for (let i = 0; i < 6000; i++) {
      steady.clock.now += 10; // exactly 100 a second
      assert.equal(steady.d.reset(), false, `reset ${i} at 100/s`);
    }
    const over = detector(100);
    let tripped = -1;
    for (let i = 0; i < 6000 && tripped < 0; i++) {
      over.clock.now += 9; // 111 a second: the burst drains by about one token a second
      if (over.d.reset()) tripped = i;
    }
    assert.ok(tripped > 100, `kept going on the burst first (tripped at ${tripped})`);
    assert.ok(tripped < 2000, `tripped within 20 s (at reset ${tripped})`);
  });

  test('a limit of 0 or below is refused (0 is "off" in the flag and means no detector)', () => {
    assert.throws(() => new RapidResetDetector({ maxPerSecond: 0, now: () => 0 }), RangeError);
  });
});

describe('buffered-bytes budget', () => {
  test('the advertised concurrency is lowered so window × streams fits, never below 1; 0 is no budget', () => {
    assert.equal(advertisedConcurrency(1024, 65_535, 256 * 2 ** 20), 1024, 'the defaults are untouched');
    assert.equal(advertisedConcurrency(1024, 2 ** 20, 256 * 2 ** 20), 256, '1 MiB windows: 256 streams');
    assert.equal(advertisedConcurrency(1024, 2 ** 31 - 1, 256 * 2 ** 20), 1);
    assert.equal(advertisedConcurrency(1024, 2 ** 20, 0), 1024);
    assert.equal(advertisedConcurrency(1024, 0, 2 ** 20), 1024, 'a 0 window buffers nothing');
  });

  test('a stream is admitted while window × open streams fits; the first one always', () => {
    assert.equal(admits(4, 1000, 4000), true);
    assert.equal(admits(5, 1000, 4000), false);
    assert.equal(admits(1, 10_000, 4000), true);
    assert.equal(admits(10_000, 2 ** 30, 0), true);
  });
});

/** Just what the guard touches of a ServerHttp2Session. */
class FakeSession {
  localSettings: http2.Settings = { initialWindowSize: 1000 };
  destroyed = false;
  destroyedWith: { message: string; code: number | undefined }[] = [];
  destroy(err?: Error, code?: number): void {
    this.destroyed = true;
    this.destroyedWith.push({ message: err?.message ?? '', code });
  }
}

class FakeStream extends EventEmitter {
  closedWith: number | undefined;
  close(code: number): void {
    this.closedWith = code;
    this.emit('close');
  }
}

function guardOf(opts: { maxResetsPerS?: number; budget?: number }) {
  const session = new FakeSession();
  const metrics = new ProxyMetrics();
  const clock = { now: 0 };
  const guard = new SessionGuard(session as unknown as http2.ServerHttp2Session, {
    maxResetsPerS: opts.maxResetsPerS ?? 0,
    maxSessionBufferedBytes: opts.budget ?? 0,
    streamWindow: 1000,
    metrics,
    now: () => clock.now,
  });
  /** A new stream through the guard; a refused one comes back closed with its code. */
  const admit = (): FakeStream => {
    const s = new FakeStream();
    guard.admit(s as unknown as http2.ServerHttp2Stream);
    return s;
  };
  return { session, metrics, guard, admit };
}

describe('session guard', () => {
  test('REFUSED_STREAM past the budget at the current window; a closed stream makes room again', async () => {
    const { session, metrics, admit } = guardOf({ budget: 4000 });
    const open = [admit(), admit(), admit(), admit()];
    assert.ok(open.every((s) => s.closedWith === undefined), 'four 1000-byte windows fit 4000');
    const fifth = admit();
    assert.equal(fifth.closedWith, H2_CODE.REFUSED_STREAM);
    open[0]!.close(0);
    assert.equal(admit().closedWith, undefined, 'room again after a stream closed');
    session.localSettings = { initialWindowSize: 2000 }; // --adaptive grew the window
    assert.equal(admit().closedWith, H2_CODE.REFUSED_STREAM, 'the grown window counts');
    const text = await metrics.registry.metrics();
    assert.equal(metricValue(text, 'sluice_proxy_rst_stream_total', { side: 'downstream', direction: 'sent', code: 'REFUSED_STREAM' }), 2);
    assert.equal(session.destroyed, false, 'refusing a stream leaves the session alone');
  });

  test('over the reset budget: one GOAWAY ENHANCE_YOUR_CALM, counted once, however many resets follow', async () => {
    const { session, metrics, guard } = guardOf({ maxResetsPerS: 10 });
    for (let i = 0; i < 10; i++) guard.peerReset();
    assert.equal(session.destroyed, false, 'a burst of 10 is allowed');
    guard.peerReset();
    guard.peerReset();
    assert.deepEqual(session.destroyedWith.map((d) => d.code), [H2_CODE.ENHANCE_YOUR_CALM]);
    assert.match(session.destroyedWith[0]!.message, /rapid reset/);
    const text = await metrics.registry.metrics();
    assert.equal(metricValue(text, 'sluice_proxy_rapid_reset_total'), 1);
    assert.equal(metricValue(text, 'sluice_proxy_goaway_total', { side: 'downstream', direction: 'sent', code: 'ENHANCE_YOUR_CALM' }), 1);
  });

  test('--max-resets-per-s 0 and --max-session-buffered-bytes 0 turn both off', () => {
    const { session, guard, admit } = guardOf({});
    for (let i = 0; i < 10_000; i++) guard.peerReset();
    for (let i = 0; i < 100; i++) assert.equal(admit().closedWith, undefined);
    assert.equal(session.destroyed, false);
  });
});
