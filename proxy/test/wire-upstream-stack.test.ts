// The wire upstream's per-session stack (src/wire/upstream-stack.ts) alone, over a stand-in session: idle
// eviction, and the GOAWAYs the observe concern counts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H2_CODE } from '../src/h2-codes.js';
import { ProxyMetrics } from '../src/metrics.js';
import type { WireSession } from '../src/wire/session.js';
import type { SessionConcern } from '../src/wire/session-stack.js';
import { upstreamStack, type UpstreamSessionContext } from '../src/wire/upstream-stack.js';
import { metricValue } from './support.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function stack(idleMs: number): { ctx: UpstreamSessionContext; concerns: SessionConcern[]; goaways: number[]; retired: number[]; state: { streams: number; lingering: number }; metrics: ProxyMetrics } {
  const goaways: number[] = [];
  const retired: number[] = [];
  const state = { streams: 0, lingering: 0 };
  const metrics = new ProxyMetrics();
  const wire = { conn: { goaway: (code: number) => goaways.push(code) } } as unknown as WireSession;
  const ctx: UpstreamSessionContext = {
    wire,
    config: { metrics, idleMs, streamWindow: 65_535, connWindow: 1 << 20, adaptive: false, maxFrameSize: 16_384, maxHeaderListSize: 16_384, keepaliveInterval: 0, keepaliveTimeout: 0 },
    streams: () => state.streams,
    lingering: () => state.lingering,
    sweep: () => {},
    retire: () => retired.push(1),
    usable: () => retired.length === 0,
  };
  return { ctx, concerns: upstreamStack(ctx), goaways, retired, state, metrics };
}

test('wire upstream stack: a session without streams for idleMs is retired and sent GOAWAY(NO_ERROR); one with streams is not', async () => {
  const idle = stack(30);
  const busy = stack(30);
  busy.state.streams = 2;
  await sleep(80);
  assert.deepEqual(idle.goaways, [H2_CODE.NO_ERROR]);
  assert.equal(idle.retired.length, 1);
  assert.deepEqual(busy.goaways, [], 'open streams keep it');
  // Its last stream closes: idle from now, evicted idleMs later.
  busy.state.streams = 0;
  for (const c of busy.concerns) c.streamClosed?.();
  await sleep(80);
  assert.deepEqual(busy.goaways, [H2_CODE.NO_ERROR]);
  for (const s of [idle, busy]) for (const c of s.concerns) c.closed?.({ code: H2_CODE.NO_ERROR, by: 'local', message: 'closed' });
});

test('wire upstream stack: closed before idleMs, nothing is sent; GOAWAYs received and the engine\'s own are counted', async () => {
  const s = stack(30);
  for (const c of s.concerns) c.goawayReceived?.(H2_CODE.ENHANCE_YOUR_CALM);
  for (const c of s.concerns) c.closed?.({ code: H2_CODE.PROTOCOL_ERROR, by: 'local', message: 'a protocol error of the peer' });
  await sleep(60);
  assert.deepEqual(s.goaways, [], 'the idle timer stopped with the session');
  const text = await s.metrics.registry.metrics();
  assert.equal(metricValue(text, 'sluice_proxy_goaway_total', { side: 'upstream', direction: 'received', code: 'ENHANCE_YOUR_CALM' }), 1);
  assert.equal(metricValue(text, 'sluice_proxy_goaway_total', { side: 'upstream', direction: 'sent', code: 'PROTOCOL_ERROR' }), 1);
});
