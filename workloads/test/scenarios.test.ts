// The scenarios as data and pure functions: the registry is consistent, and each outcome reads its
// observations the way its file says (synthetic observations, no processes).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SCENARIOS, SCENARIO_NAMES } from '../scenarios/index.js';
import type { Observations, TraceBucket } from '../scenarios/types.js';

function observed(over: Partial<Observations> = {}): Observations {
  return {
    params: {},
    durationMs: 4000,
    requests: 1000,
    successes: 1000,
    errors: {},
    latencyMs: { p50: 1, p99: 5, max: 9 },
    rps: 250,
    trace: [],
    traceMs: 50,
    events: [],
    proxyMemory: [],
    ...over,
  };
}

const bucket = (t: number, over: Partial<TraceBucket> = {}): TraceBucket => ({ t, ok: 0, errors: {}, endpoints: {}, maxLatencyMs: 0, ...over });

test('every scenario is registered under its own name, with its source, protocols and a headline', () => {
  for (const name of SCENARIO_NAMES) {
    const def = SCENARIOS[name];
    assert.equal(def.name, name);
    assert.ok(def.source.length > 10 && def.summary.length > 10, name);
    assert.ok(def.protocols.length > 0, name);
    const headline = def.outcome(observed()).headline;
    assert.ok(headline.name && headline.unit && (headline.better === 'lower' || headline.better === 'higher'), name);
    for (const step of def.setup({ clientConnWindow: 65535 }).timeline ?? []) assert.ok(step.atMs >= 0 && step.name.length > 0, `${name}: ${step.name}`);
  }
});

test('window-exhaustion: ms from the roll until a new pod answers; the window length when none did', () => {
  const roll = { name: 'roll green', appliedMs: 1000, newEndpoints: ['9101'], oldEndpoints: ['9001'] };
  const trace = [bucket(950, { ok: 5, endpoints: { '9001': 5 } }), bucket(1050, { ok: 5, endpoints: { '9001': 5 } }), bucket(1200, { ok: 3, endpoints: { '9101': 3 } })];
  const reached = SCENARIOS['window-exhaustion'].outcome(observed({ events: [roll], trace }));
  assert.equal(reached.headline.value, 200);
  assert.equal(reached['reached'], true);
  const never = SCENARIOS['window-exhaustion'].outcome(observed({ events: [roll], trace: trace.slice(0, 2) }));
  assert.equal(never.headline.value, 4000);
  assert.equal(never['reached'], false);
});

test('balancer-exhaustion: fail-fast after the loss, recovery after the return, hanging requests counted', () => {
  const events = [
    { name: 'every endpoint removed', appliedMs: 500 },
    { name: 'endpoints return', appliedMs: 3500 },
  ];
  const trace = [bucket(400, { ok: 10 }), bucket(1500, { errors: { 'status:5xx': 40 } }), bucket(1550, { errors: { 'status:5xx': 3 } }), bucket(3600, { ok: 8 })];
  const o = SCENARIOS['balancer-exhaustion'].outcome(observed({ events, trace }));
  assert.equal(o.headline.value, 1000);
  assert.equal(o['queuedReleased'], 40);
  assert.equal(o['recoveredAfterMs'], 100);
});

test('keepalive-race and early-close count what the client saw', () => {
  const race = SCENARIOS['keepalive-race'].outcome(observed({ requests: 2000, successes: 1990, errors: { 'status:5xx': 10 } }));
  assert.equal(race.headline.value, 50);
  // The headline is the write-then-read uploads' share; the generator's own (read-while-writing) share beside it.
  const uploads = { attempts: 40, answered: { '413': 30 }, failed: { EPIPE: 10 } };
  const early = SCENARIOS['early-close'].outcome(observed({ requests: 100, successes: 0, errors: { 'status:4xx': 90, ECONNRESET: 10 }, uploads }));
  assert.equal(early.headline.value, 75);
  assert.equal(early['readWhileWritingDeliveredPct'], 90);
  assert.equal(SCENARIOS['early-close'].outcome(observed({})).headline.value, 0, 'no upload: nothing delivered');
});

test('partial partition: success rate, and how long failures kept coming after the fault', () => {
  const events = [{ name: 'endpoint goes silent', appliedMs: 1000 }];
  // Requests sent to the silent endpoint until ~1.2 s time out 1 s later, until ~2.2 s.
  const trace = [bucket(1500, { ok: 30 }), bucket(2000, { ok: 30, errors: { timeout: 2 } }), bucket(2150, { ok: 30, errors: { timeout: 1 } }), bucket(2500, { ok: 30 })];
  const o = SCENARIOS['partial-partition'].outcome(observed({ events, trace, requests: 1000, successes: 997 }));
  assert.ok(Math.abs(o.headline.value - 99.7) < 1e-9);
  assert.equal(o['sentToFaultyForMs'], 200);
});
