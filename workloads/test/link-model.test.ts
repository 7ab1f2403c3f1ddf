import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../backends/latency.js';
import { defaultQueueLimit, DirectionModel, QUEUE_HEADROOM_BYTES, UNLIMITED_QUEUE_BYTES, type LinkSettings } from '../link/link-model.js';

/** 8 Mbit/s is exactly 1000 bytes per ms, which keeps the arithmetic readable. */
const MBIT8 = 8_000_000;

function model(settings: Partial<LinkSettings>, random?: () => number): DirectionModel<string> {
  return new DirectionModel<string>({ rttMs: 0, jitterMs: 0, bandwidthBps: 0, queueLimitBytes: 1e9, ...settings }, random);
}

describe('link model: departures and deliveries', () => {
  it('a chunk departs after its serialisation behind the previous one, and is delivered rtt/2 later', () => {
    const m = model({ rttMs: 20, bandwidthBps: MBIT8 });
    const a = m.arrive('a', 1000, 0).scheduled;
    assert.equal(a.departureMs, 1);
    assert.equal(a.deliveryMs, 11);
    // Arrives while `a` is still serialising: waits for it.
    const b = m.arrive('b', 1000, 0.5).scheduled;
    assert.equal(b.departureMs, 2);
    assert.equal(b.deliveryMs, 12);
    // Arrives after the link went idle: departs from its own arrival.
    const c = m.arrive('c', 500, 5).scheduled;
    assert.equal(c.departureMs, 5.5);
    assert.equal(c.deliveryMs, 15.5);
  });

  it('unlimited bandwidth: no serialisation, everything arriving together is delivered together', () => {
    const m = model({ rttMs: 40 });
    const times = ['a', 'b', 'c'].map((item) => m.arrive(item, 64 * 1024, 3).scheduled);
    for (const s of times) {
      assert.equal(s.departureMs, 3);
      assert.equal(s.deliveryMs, 23);
    }
  });

  it('rtt 0 and unlimited bandwidth is a plain relay: delivered as it arrives', () => {
    const m = model({});
    assert.equal(m.arrive('a', 100, 7).scheduled.deliveryMs, 7);
    assert.deepEqual(
      m.takeDue(7).due.map((s) => s.item),
      ['a'],
    );
  });

  it('takeDue returns what is due, in order, and nothing early', () => {
    const m = model({ rttMs: 10, bandwidthBps: MBIT8 });
    m.arrive('a', 1000, 0); // delivered at 6
    m.arrive('b', 1000, 0); // 7
    m.arrive('c', 1000, 0); // 8
    assert.deepEqual(m.takeDue(5.99).due, []);
    assert.equal(m.nextDeliveryMs(), 6);
    assert.deepEqual(
      m.takeDue(7).due.map((s) => s.item),
      ['a', 'b'],
    );
    assert.deepEqual(
      m.takeDue(100).due.map((s) => s.item),
      ['c'],
    );
    assert.equal(m.nextDeliveryMs(), undefined);
    assert.equal(m.queuedBytes, 0);
  });

  it('a FIN or reset (0 bytes) queues behind the data before it', () => {
    const m = model({ rttMs: 10, bandwidthBps: MBIT8 });
    m.arrive('data', 5000, 0); // departs 5, delivered 10
    const fin = m.arrive('fin', 0, 1).scheduled;
    assert.equal(fin.deliveryMs, 10);
    assert.deepEqual(
      m.takeDue(10).due.map((s) => s.item),
      ['data', 'fin'],
    );
  });

  it('counts bytes, data chunks and the largest queue', () => {
    const m = model({ rttMs: 10 });
    m.arrive('a', 300, 0);
    m.arrive('b', 200, 1);
    m.arrive('fin', 0, 2);
    m.takeDue(100);
    assert.equal(m.bytes, 500);
    assert.equal(m.chunks, 2);
    assert.equal(m.maxQueuedBytes, 500);
  });
});

describe('link model: jitter', () => {
  it('never reorders, and keeps every delivery within the jitter of its own time unless held by the one before', () => {
    const m = model({ rttMs: 20, jitterMs: 5, bandwidthBps: MBIT8 }, seededRandom(7));
    let previous = -Infinity;
    for (let i = 0; i < 5000; i++) {
      const s = m.arrive(`c${i}`, 100, i * 0.05).scheduled;
      assert.ok(s.deliveryMs >= previous, `chunk ${i} overtook the one before`);
      assert.ok(s.deliveryMs >= s.departureMs + 10 - 5 - 1e-9, `chunk ${i} came too early`);
      assert.ok(s.deliveryMs <= Math.max(previous, s.departureMs + 10 + 5) + 1e-9, `chunk ${i} came too late`);
      previous = s.deliveryMs;
    }
  });

  it('sparse chunks spread uniformly over [delay - jitter, delay + jitter]', () => {
    const m = model({ rttMs: 20, jitterMs: 5 }, seededRandom(11));
    const delays: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const s = m.arrive('x', 10, i * 100).scheduled;
      delays.push(s.deliveryMs - s.arrivalMs);
    }
    assert.ok(Math.min(...delays) >= 5 && Math.min(...delays) < 5.1);
    assert.ok(Math.max(...delays) <= 15 && Math.max(...delays) > 14.9);
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    assert.ok(Math.abs(mean - 10) < 0.3, `mean ${mean}`);
  });

  it('a jitter as large as the one-way delay never delivers before departure', () => {
    const m = model({ rttMs: 2, jitterMs: 1 }, () => 0); // the most negative draw
    const s = m.arrive('x', 10, 3).scheduled;
    assert.equal(s.deliveryMs, 3);
  });
});

describe('link model: queue limit', () => {
  it('pauses when an arrival puts the queue over the limit, and resumes once it is back within', () => {
    const m = model({ rttMs: 10, bandwidthBps: MBIT8, queueLimitBytes: 3000 });
    assert.equal(m.arrive('a', 1000, 0).read, undefined); // delivered at 6
    assert.equal(m.arrive('b', 1000, 0).read, undefined); // 7
    assert.equal(m.arrive('c', 1000, 0).read, undefined); // exactly at the limit: not over it
    assert.equal(m.arrive('d', 1000, 0).read, 'pause'); // 9
    assert.ok(m.isPaused);
    // The bound: at most the limit plus the chunk that crossed it.
    assert.equal(m.queuedBytes, 4000);
    assert.equal(m.takeDue(5).read, undefined);
    const first = m.takeDue(6);
    assert.deepEqual(
      first.due.map((s) => s.item),
      ['a'],
    );
    assert.equal(first.read, 'resume');
    assert.ok(!m.isPaused);
    assert.equal(m.pausedMs(100), 6);
    assert.equal(m.pauses, 1);
  });

  it('a single chunk larger than the limit pauses at once and resumes when delivered', () => {
    const m = model({ rttMs: 4, queueLimitBytes: 100 });
    assert.equal(m.arrive('big', 65_536, 0).read, 'pause');
    assert.equal(m.takeDue(2).read, 'resume');
    assert.equal(m.queuedBytes, 0);
  });

  it('under a sender that always has more, the queue stays within limit + one chunk and drains at the bandwidth', () => {
    const limit = 50_000;
    const m = model({ rttMs: 20, bandwidthBps: MBIT8, queueLimitBytes: limit });
    let delivered = 0;
    // Every 0.1 ms: deliver what is due; if not paused, the sender adds 4 KB.
    for (let t = 0; t <= 1000; t += 0.1) {
      delivered += m.takeDue(t).due.reduce((sum, s) => sum + s.bytes, 0);
      if (!m.isPaused) m.arrive('x', 4000, t);
      assert.ok(m.queuedBytes <= limit + 4000);
    }
    // 1000 bytes/ms for 1000 ms, less the first 10 ms of one-way delay and a chunk's serialisation.
    assert.ok(delivered >= 1000 * (1000 - 10 - 4) && delivered <= 1000 * 1000, `delivered ${delivered}`);
    assert.ok(m.pausedMs(1000) > 900);
  });

  it('clear drops the queue and ends a pause', () => {
    const m = model({ rttMs: 10, queueLimitBytes: 10 });
    m.arrive('a', 100, 0);
    m.clear(3);
    assert.equal(m.queuedBytes, 0);
    assert.equal(m.length, 0);
    assert.ok(!m.isPaused);
    assert.equal(m.pausedMs(50), 3);
  });
});

describe('link model: default queue limit', () => {
  it('is the bandwidth-delay product plus 64 KiB', () => {
    assert.equal(defaultQueueLimit(40, 100_000_000), 500_000 + QUEUE_HEADROOM_BYTES);
    assert.equal(defaultQueueLimit(0, 100_000_000), QUEUE_HEADROOM_BYTES);
  });

  it('with unlimited bandwidth is 6 MiB (Linux\'s largest default receive window) plus 64 KiB', () => {
    assert.equal(defaultQueueLimit(40, 0), UNLIMITED_QUEUE_BYTES + QUEUE_HEADROOM_BYTES);
    assert.equal(UNLIMITED_QUEUE_BYTES, 6 * 1024 * 1024);
  });
});

it('connections of one route share its bandwidth: a shared bottleneck serialises their chunks one after another', async () => {
  const { Bottleneck, DirectionModel } = await import('../link/link-model.js');
  const settings = { rttMs: 0, jitterMs: 0, bandwidthBps: 8_000_000, queueLimitBytes: 1 << 30 }; // 1 byte per µs
  const shared = new Bottleneck();
  const a = new DirectionModel<string>(settings, Math.random, shared);
  const b = new DirectionModel<string>(settings, Math.random, shared);
  const first = a.arrive('a', 1000, 0).scheduled;
  const second = b.arrive('b', 1000, 0).scheduled;
  assert.equal(first.departureMs, 1);
  assert.equal(second.departureMs, 2, 'the second connection waits for the first one\'s bytes to cross');
  const alone = new DirectionModel<string>(settings).arrive('c', 1000, 0).scheduled;
  assert.equal(alone.departureMs, 1, 'a connection of its own has the wire to itself');
});
