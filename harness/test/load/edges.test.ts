// The numbers at the edges (issue 9): fast failures, timeouts, a stall across the window's end, connections
// in open loop, the open loop's own lateness, and warm repetitions. Each test asserts the property against a
// server written here, never a wall-clock speed.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { openLoadSession, runLoad } from '../../load/run-load.js';
import type { LoadOptions } from '../../load/types.js';
import { h2Server, quickOptions, respond } from './servers.js';

test('fast failures do not inflate rps: it counts successes only; completedRps and errorRate count the rest', async () => {
  // Half the requests fail at once, the other half succeed after 2 ms.
  const server = await h2Server((stream, n) => (n % 2 ? respond(stream, 503, 'no') : respond(stream, 200, 'ok', 2)));
  try {
    const r = await runLoad(quickOptions(server.url, 'h2', { connections: 1, streamsPerConnection: 4, durationMs: 1000 }));
    assert.deepEqual(Object.keys(r.errors), ['status:5xx']);
    assert.equal(r.successes + r.errors['status:5xx']!, r.requests);
    assert.ok(Math.abs(r.errorRate - 0.5) < 0.05, `errorRate ${r.errorRate}`);
    assert.equal(r.rps, r.successes / r.durationS);
    assert.equal(r.completedRps, r.requests / r.durationS);
    assert.ok(r.rps < 0.55 * r.completedRps, `rps ${r.rps} completedRps ${r.completedRps}`);
    // Each success took 2 ms; each failure nearly nothing: the all-outcomes P50 is below the successes' P50.
    assert.ok(r.successLatencyMs.p50 >= 2, JSON.stringify(r.successLatencyMs));
  } finally {
    await server.close();
  }
});

test('timeouts stay in the percentiles: 10% held past a 1 s timeout give P99 >= 1 s, marked as a lower bound', async () => {
  const server = await h2Server((stream, n) => respond(stream, 200, 'ok', n % 10 === 0 ? 3000 : 0));
  try {
    const r = await runLoad(quickOptions(server.url, 'h2', { connections: 1, streamsPerConnection: 8, durationMs: 2000, warmupMs: 0, timeoutMs: 1000 }));
    const timeouts = r.errors['timeout'] ?? 0;
    assert.ok(timeouts >= 10, JSON.stringify(r.errors));
    assert.ok(timeouts / r.requests >= 0.05, `${timeouts} of ${r.requests}`);
    assert.ok(r.latencyMs.p99 >= 1000, JSON.stringify(r.latencyMs));
    assert.ok(r.latencyMs.p99 < 1010, 'recorded at the timeout, not at the 3 s the server held them');
    assert.ok(r.latencyLowerBounds.includes('p99') && r.latencyLowerBounds.includes('max'), JSON.stringify(r.latencyLowerBounds));
    assert.ok(!r.latencyLowerBounds.includes('p50'));
    assert.ok(r.successLatencyMs.p99 < 1000, 'the successes alone are fast');
  } finally {
    await server.close();
  }
});

test('a stall outliving the window: every request sent in the window is counted, the stalled ones as timeouts at the timeout', async () => {
  // Everything the server sees from 1.5 s after its first request is held 10 s.
  let first: number | undefined;
  const server = await h2Server((stream) => {
    first ??= performance.now();
    respond(stream, 200, 'ok', performance.now() - first >= 1500 ? 10_000 : 0);
  });
  try {
    const r = await runLoad(quickOptions(server.url, 'h2', { rate: 200, connections: 1, durationMs: 2000, warmupMs: 0, timeoutMs: 1000 }));
    const sent = r.openLoop?.sent ?? 0;
    assert.equal(r.requests, sent, 'no request sent in the window disappears');
    const timeouts = r.errors['timeout'] ?? 0;
    assert.ok(timeouts >= 80 && timeouts <= 120, `timeouts ${timeouts} of ${r.requests}`);
    assert.ok(r.latencyMs.p99 >= 1000 && r.latencyLowerBounds.includes('p99'), JSON.stringify(r.latencyMs));
    assert.ok((r.drainMs ?? 0) >= 500, `drained ${r.drainMs} ms for the requests still in flight`);
  } finally {
    await server.close();
  }
});

test('a stall shorter than the timeout that outlives the window: its requests count with their real latency', async () => {
  let first: number | undefined;
  const server = await h2Server((stream) => {
    first ??= performance.now();
    const since = performance.now() - first;
    // From 1.5 s on, answers wait until 2.4 s: past the 2 s window, inside the 3 s timeout.
    respond(stream, 200, 'ok', since >= 1500 ? 2400 - since : 0);
  });
  try {
    const r = await runLoad(quickOptions(server.url, 'h2', { rate: 200, connections: 1, durationMs: 2000, warmupMs: 0, timeoutMs: 3000 }));
    assert.deepEqual(r.errors, {});
    assert.equal(r.requests, r.openLoop?.sent);
    assert.ok(r.latencyMs.max >= 850, `the first held request waited ~900 ms: max ${r.latencyMs.max}`);
    assert.deepEqual(r.latencyLowerBounds, []);
  } finally {
    await server.close();
  }
});

/** An h2c server counting streams per session, answering at once. */
async function countingServer(): Promise<{ url: string; perSession: number[]; close(): Promise<void> }> {
  const server = http2.createServer();
  const perSession: number[] = [];
  const index = new WeakMap<http2.Http2Session, number>();
  const sessions = new Set<http2.Http2Session>();
  server.on('session', (session) => {
    index.set(session, perSession.push(0) - 1);
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined);
  });
  server.on('stream', (stream) => {
    stream.on('error', () => undefined);
    perSession[index.get(stream.session!)!]!++;
    respond(stream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    perSession,
    close: async () => {
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function assertEvenShares(perSession: number[], label: string): void {
  assert.equal(perSession.length, 4, `${label}: one session per connection, opened once: ${JSON.stringify(perSession)}`);
  const total = perSession.reduce((a, b) => a + b, 0);
  for (const n of perSession) assert.ok(Math.abs(n / total - 0.25) <= 0.03, `${label}: shares ${JSON.stringify(perSession)}`);
}

for (const [label, extra] of [
  ['open loop, -c 4 at 400/s', { rate: 400 }],
  ['closed loop, -c 4 -m 4', { streamsPerConnection: 4 }],
] as const) {
  test(`${label}: every connection is open before the window and carries 25% +- 3% of the streams`, async () => {
    const server = await countingServer();
    try {
      const options: LoadOptions = quickOptions(server.url, 'h2', { connections: 4, durationMs: 1500, warmupMs: 0, ...extra });
      const r = await runLoad(options);
      assert.equal(r.connect?.connections, 4);
      assert.equal(r.connect?.ready, 4, 'all four connections were open before the window');
      assert.ok(r.requests > 100);
      assertEvenShares(server.perSession, label);
    } finally {
      await server.close();
    }
  });
}

test('open loop reports the send lag and the uncorrected latency; corrected is never below uncorrected', async () => {
  const server = await h2Server((stream) => respond(stream));
  try {
    const r = await runLoad(quickOptions(server.url, 'h2', { rate: 500, connections: 1, durationMs: 1000, warmupMs: 200 }));
    const o = r.openLoop!;
    assert.ok(o.lagP50Ms !== undefined && o.lagP99Ms !== undefined);
    assert.ok(o.lagP50Ms <= o.lagP99Ms && o.lagP99Ms <= o.maxLagMs, JSON.stringify(o));
    assert.ok(o.pacerCpu !== undefined && o.pacerCpu >= 0 && o.pacerCpu <= 1);
    const u = r.uncorrectedLatencyMs!;
    // Each request's corrected latency is its uncorrected one plus its lag (>= 0), so every percentile is too.
    for (const p of ['p50', 'p90', 'p99', 'max'] as const) assert.ok(r.latencyMs[p] >= u[p] - 0.001, `${p}: ${r.latencyMs[p]} < ${u[p]}`);
  } finally {
    await server.close();
  }
});

test('a session keeps its connections across runs: warm-up and repetitions on the same sessions, connect time apart', async () => {
  const server = await countingServer();
  const session = await openLoadSession(quickOptions(server.url, 'h2', { connections: 2, streamsPerConnection: 2 }));
  try {
    assert.equal(session.connect?.ready, 2);
    assert.ok((session.connect?.ms ?? -1) >= 0);
    const phases: string[] = [];
    await session.run({ warmupMs: 0, durationMs: 300 });
    const reps = [];
    for (let i = 0; i < 3; i++) reps.push(await session.run({ warmupMs: 0, durationMs: 300 }, { onPhase: (p) => phases.push(p) }));
    assert.equal(server.perSession.length, 2, `sessions opened: ${JSON.stringify(server.perSession)}`);
    assert.deepEqual(phases, ['measure', 'done', 'measure', 'done', 'measure', 'done']);
    const served = server.perSession.reduce((a, b) => a + b, 0);
    const measured = reps.reduce((a, r) => a + r.requests, 0);
    assert.ok(measured > 0 && measured < served, 'each run counts its own requests, not the warm-up\'s');
    for (const r of reps) assert.deepEqual(r.connect, session.connect);
  } finally {
    await session.close();
    await server.close();
  }
});

test('closed loop, a window shorter than the latency: goodput never beats physics (concurrency / server delay)', async () => {
  // 8 in flight, every answer 300 ms: at most 26.7 responses a second, however the 500 ms window falls. Before the
  // window opened on a full pipeline, the 8 first sends of an empty one counted too: 32/s.
  const server = await h2Server((stream) => respond(stream, 200, 'ok', 300));
  try {
    const r = await runLoad(quickOptions(server.url, 'h2', { connections: 1, streamsPerConnection: 8, durationMs: 500, warmupMs: 10, timeoutMs: 2000 }));
    assert.ok(r.rps <= (8 / 0.3) * 1.02, `goodput ${r.rps}`);
    assert.ok(r.littlesLaw !== undefined && r.littlesLaw.concurrency === 8);
  } finally {
    await server.close();
  }
});

test('closed loop, a window long against the latency: Little\'s law holds (in flight = throughput x latency)', async () => {
  const server = await h2Server((stream, n) => respond(stream, 200, 'ok', 40 + (n % 21)));
  try {
    const r = await runLoad(quickOptions(server.url, 'h2', { connections: 1, streamsPerConnection: 8, durationMs: 2000, warmupMs: 0 }));
    const law = r.littlesLaw!;
    assert.ok(law.ratio >= 0.85 && law.ratio <= 1.15, JSON.stringify(law));
    assert.ok((r.bodyBytesPerS ?? 0) > 0 && Math.abs((r.bodyBytesPerS ?? 0) - r.rps * 2) <= 0.2 * r.rps * 2, `bytes/s ${r.bodyBytesPerS} for ${r.rps} 2-byte responses/s`);
  } finally {
    await server.close();
  }
});
