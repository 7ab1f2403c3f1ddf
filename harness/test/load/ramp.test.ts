// The ramp: each connection's first calls, by index, against a server that is slow on a connection's first
// answers; calls in the warm-up are not kept; sums merge across workers.
import assert from 'node:assert/strict';
import type http2 from 'node:http2';
import { test } from 'node:test';
import { runLoad } from '../../load/run-load.js';
import { mergeRamps, Ramp, RAMP_CALLS } from '../../load/statistic/ramp.js';
import { h2Server, quickOptions, respond } from './servers.js';

const SLOW_MS = 50;

/** Answers the first 3 streams of each connection after 50 ms, the rest at once. */
async function slowStart(): Promise<Awaited<ReturnType<typeof h2Server>>> {
  const seen = new WeakMap<http2.ServerHttp2Session, number>();
  return h2Server((stream, _n, session) => {
    const k = seen.get(session) ?? 0;
    seen.set(session, k + 1);
    respond(stream, 200, 'ok', k < 3 ? SLOW_MS : 0);
  });
}

// On both connections: connection.ts's own and the h2/ library's (wire/h2-connection.ts, `wireConnection: 'h2'`).
const on = (c: 'wire' | 'h2'): string => (c === 'h2' ? ' on h2/connection.ts' : '');
for (const wireConnection of ['wire', 'h2'] as const) {
  test(`ramp${on(wireConnection)}: a connection slow on its first 3 answers shows in calls 0..2, not in call 3`, async () => {
    const server = await slowStart();
    try {
      // No warm-up: every connection's first calls fall in the window. One stream each, so call i is the i-th in time.
      const r = await runLoad(quickOptions(server.url, 'h2', { wireConnection, connections: 2, streamsPerConnection: 1, warmupMs: 0, durationMs: 500 }));
      const ramp = r.ramp;
      assert.ok(ramp, 'ramp measured');
      assert.equal(ramp.length, RAMP_CALLS, JSON.stringify(ramp));
      assert.deepEqual(
        ramp.map((e) => [e.call, e.connections]),
        ramp.map((_, i) => [i, 2]),
      );
      for (const e of ramp.slice(0, 3)) {
        assert.ok(e.totalMs >= SLOW_MS, `call ${e.call}: ${e.totalMs} ms`);
        assert.ok(e.ttfbMs >= SLOW_MS && e.ttfbMs <= e.totalMs, `call ${e.call}: TTFB ${e.ttfbMs} ms`);
      }
      // Answered at once: a fraction of the slow ones, however busy the machine.
      assert.ok(ramp[3]!.totalMs < SLOW_MS / 2, `call 3: ${ramp[3]!.totalMs} ms`);
    } finally {
      await server.close();
    }
  });

  test(`ramp${on(wireConnection)}: calls sent during the warm-up are not kept (absent when none was measured)`, async () => {
    const server = await h2Server((stream) => respond(stream));
    try {
      const r = await runLoad(quickOptions(server.url, 'h2', { wireConnection, connections: 1, streamsPerConnection: 1, warmupMs: 300, durationMs: 200 }));
      assert.ok(r.successes > 0);
      assert.equal(r.ramp, undefined, 'the first 20 calls of the one connection were all warm-up');
    } finally {
      await server.close();
    }
  });
}

test('ramp: sums and counts add across workers, means per call index', () => {
  const a = new Ramp();
  const b = new Ramp();
  assert.equal(a.result(), undefined);
  a.add(0, 10, 20);
  a.add(1, 1, 2);
  b.add(0, 30, 40);
  b.add(RAMP_CALLS, 1, 1); // beyond the ramp: ignored
  assert.deepEqual(mergeRamps([a.result()!, b.result()!]), [
    { call: 0, connections: 2, ttfbMs: 20, totalMs: 30 },
    { call: 1, connections: 1, ttfbMs: 1, totalMs: 2 },
  ]);
  assert.equal(mergeRamps([]), undefined);
});
