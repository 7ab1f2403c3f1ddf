// The live /metrics: the generator's deltas become Prometheus counters and a histogram with the cell's labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { AXIS_DEFAULTS, type CellParams } from '../matrix/axes.js';
import { bucketIndex, LIVE_LATENCY_BUCKETS_S, LiveTally } from '../load/statistic/live.js';
import { Recorder, requestTimes } from '../load/statistic/recorder.js';
import { parsePrometheusText, sumOf } from '../orchestrator/metrics-scrape.js';
import { LiveMetrics } from '../telemetry/live-metrics.js';
import { serveMetrics } from '../telemetry/metrics-server.js';

const params = (over: Partial<CellParams> = {}): CellParams => ({ ...AXIS_DEFAULTS, ...over });

test('bucketIndex: the first bound that holds the value; above the last is +Inf', () => {
  assert.equal(bucketIndex(0), 0);
  assert.equal(bucketIndex(0.0001), 0);
  assert.equal(bucketIndex(0.00011), 1);
  assert.equal(bucketIndex(1), LIVE_LATENCY_BUCKETS_S.indexOf(1));
  assert.equal(bucketIndex(31), LIVE_LATENCY_BUCKETS_S.length);
});

test('the recorder tells the live tally every outcome, warm-up and window alike; in flight = started - settled', () => {
  const live = new LiveTally();
  const rec = new Recorder(1000, live);
  for (let i = 0; i < 5; i++) rec.started();
  // No window is open: the measured counts stay empty, the live ones do not.
  rec.success(requestTimes(0, 0), 0.3);
  rec.success(requestTimes(0, 0), 2);
  rec.failure('timeout', requestTimes(0, 0), 5000);
  rec.rstReceived(8, requestTimes(0, 0));
  rec.goawayReceived(0);
  assert.equal(rec.counts().requests, 0);
  const d = live.take();
  assert.equal(d.successes, 2);
  assert.equal(d.failures, 1);
  assert.deepEqual(d.errors, { timeout: 1 });
  assert.deepEqual(d.rstReceived, { CANCEL: 1 });
  assert.deepEqual(d.goawayReceived, { NO_ERROR: 1 });
  assert.equal(d.inFlight, 2);
  // A timeout counts at the timeout (1 s), not at when its timer fired.
  assert.equal(d.buckets[LIVE_LATENCY_BUCKETS_S.indexOf(1)], 1);
  assert.equal(d.buckets[LIVE_LATENCY_BUCKETS_S.indexOf(0.0005)], 1);
  assert.equal(d.buckets[LIVE_LATENCY_BUCKETS_S.indexOf(0.0025)], 1);
  assert.ok(Math.abs(d.latencySumS - (0.0003 + 0.002 + 1)) < 1e-9);
  // A take restarts the counts.
  const next = live.take();
  assert.equal(next.successes + next.failures, 0);
});

test('the recorder feeds the live tally only while asked to (a run nobody takes live deltas from)', () => {
  const live = new LiveTally();
  const rec = new Recorder(1000, live);
  rec.feedLive(false);
  rec.started();
  rec.success(requestTimes(0, 0), 1);
  rec.failure('timeout', requestTimes(0, 0), 5000);
  let d = live.take();
  assert.equal(d.successes + d.failures, 0, 'off: nothing reached the tally');
  assert.equal(d.inFlight, undefined);
  rec.feedLive(true);
  rec.started();
  rec.success(requestTimes(0, 0), 1);
  d = live.take();
  assert.equal(d.successes, 1, 'on again: outcomes reach it');
  assert.equal(d.inFlight, 0);
});

async function samples(m: LiveMetrics) {
  return parsePrometheusText(await m.registry.metrics());
}

test('live metrics: counters, histogram and in flight carry the current cell labels; run id only on sluice_run_info', async () => {
  const m = new LiveMetrics({ runId: 'r1', matrix: 'mx', gitRevision: 'abc', host: 'h' });
  m.onEvent({ type: 'run-start', runId: 'r1', dir: '/tmp', cells: 2, todo: 2, done: 0, excluded: 0, estimateMs: 1, order: 'interleave' });
  m.onEvent({ type: 'cell-start', index: 0, todo: 2, id: 'c1', params: params({ concurrency: 4, rttMs: 20, bandwidthMbps: 80 }) });
  const tally = new LiveTally();
  const rec = new Recorder(1000, tally);
  rec.started();
  rec.started();
  rec.success(requestTimes(0, 0), 3);
  rec.failure('rst:REFUSED_STREAM', requestTimes(0, 0), 1);
  rec.rstReceived(7, requestTimes(0, 0));
  m.onEvent({ type: 'live', id: 'c1', delta: tally.take() });
  let s = await samples(m);
  const c1 = { cell: 'c1', matrix: 'mx', concurrency: '4', rtt_ms: '20', protocol: 'h2', adaptive: 'false' };
  assert.equal(sumOf(s, 'sluice_requests_total', { ...c1, outcome: 'success' }), 1);
  assert.equal(sumOf(s, 'sluice_requests_total', { ...c1, outcome: 'failure' }), 1);
  assert.equal(sumOf(s, 'sluice_request_errors_total', { ...c1, class: 'rst:REFUSED_STREAM' }), 1);
  assert.equal(sumOf(s, 'sluice_rst_stream_received_total', { ...c1, code: 'REFUSED_STREAM' }), 1);
  // Known codes exist at 0 from the cell's start, so a panel shows 0, not "no data".
  assert.ok(s.some((x) => x.name === 'sluice_goaway_received_total' && x.labels.code === 'NO_ERROR' && x.value === 0));
  assert.equal(sumOf(s, 'sluice_request_duration_seconds_count', c1), 2);
  assert.equal(sumOf(s, 'sluice_request_duration_seconds_bucket', { ...c1, le: '+Inf' }), 2);
  assert.equal(sumOf(s, 'sluice_request_duration_seconds_bucket', { ...c1, le: '0.001' }), 1);
  assert.equal(sumOf(s, 'sluice_requests_in_flight', c1), 0);
  assert.equal(sumOf(s, 'sluice_link_rtt_seconds', c1), 0.02);
  assert.equal(sumOf(s, 'sluice_link_bandwidth_bytes_per_second', c1), 10_000_000);
  assert.equal(sumOf(s, 'sluice_cell_info', { cell: 'c1' }), 1);
  assert.equal(sumOf(s, 'sluice_run_info', { run_id: 'r1', git_revision: 'abc' }), 1);
  assert.ok(!s.some((x) => x.name !== 'sluice_run_info' && 'run_id' in x.labels), 'run_id appears only on sluice_run_info');

  // The next cell: its own series; the info gauge names only it; progress counts the visit.
  m.onEvent({ type: 'cell-done', index: 0, todo: 2, cell: {} as never, reps: 1, etaMs: 0 });
  m.onEvent({ type: 'cell-start', index: 1, todo: 2, id: 'c2', params: params() });
  s = await samples(m);
  assert.equal(sumOf(s, 'sluice_cell_info', { cell: 'c1' }), 0);
  assert.equal(sumOf(s, 'sluice_cell_info', { cell: 'c2' }), 1);
  assert.equal(sumOf(s, 'sluice_cells', { state: 'done' }), 1);
  assert.equal(sumOf(s, 'sluice_cells', { state: 'total' }), 2);
  assert.equal(sumOf(s, 'sluice_requests_total', { cell: 'c1' }), 2, 'a finished cell keeps its counts');
});

test('the metrics server answers /metrics on loopback and 404 elsewhere', async () => {
  const m = new LiveMetrics({ runId: 'r', matrix: 'm', gitRevision: 'g', host: 'h' });
  const server = await serveMetrics(m.registry, 0);
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const ok = await fetch(`${server.url}/metrics`);
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /sluice_run_info\{run_id="r"/);
    const missing = await fetch(`${server.url}/other`);
    assert.equal(missing.status, 404);
    await missing.text();
  } finally {
    await server.close();
  }
});

test('--prometheus without Debian\'s prometheus: one line naming the package, exit 2, no run folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-nopath-'));
  try {
    // A PATH with a shell and nothing else.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync('/bin/sh', join(bin, 'sh'));
    const bench = fileURLToPath(new URL('../cli/bench.js', import.meta.url));
    const out = join(dir, 'out');
    const r = await execa(process.execPath, [bench, '--prometheus', '--matrix', 'quick', '--out', out], { env: { PATH: bin }, extendEnv: false, reject: false });
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, /prometheus is not installed: apt-get install -y prometheus \(Debian's prometheus package\)/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!existsSync(out), 'nothing was created');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npm run prometheus: a run without a Prometheus data folder is named, exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-norun-'));
  try {
    const cli = fileURLToPath(new URL('../cli/prometheus.js', import.meta.url));
    const r = await execa(process.execPath, [cli, dir], { reject: false });
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, /no prometheus\/data in it \(was it run with --prometheus\?\)/);
    mkdirSync(join(dir, 'prometheus', 'data'), { recursive: true });
    const bad = await execa(process.execPath, [cli, dir, '--port', 'x'], { reject: false });
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /--port x: expected a port number/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("live metrics: the running proxy's CPU and memory from /proc, whatever the proxy; gone between cells", async () => {
  const m = new LiveMetrics({ runId: 'r', matrix: 'mx', gitRevision: 'g', host: 'h' });
  m.onEvent({ type: 'cell-start', index: 0, todo: 1, id: 'proxy=haproxy', params: params({ proxy: 'haproxy' }) });
  // This test's own process stands in for the proxy: its /proc is as real as any.
  m.onEvent({ type: 'cell-targets', id: 'proxy=haproxy', targets: { proxyPid: process.pid, links: [] } });
  let s = await samples(m);
  const cpu = s.find((x) => x.name === 'sluice_proxy_process_cpu_seconds_total');
  assert.equal(cpu?.labels.proxy, 'haproxy');
  assert.equal(cpu?.labels.cell, 'proxy=haproxy');
  assert.ok(cpu !== undefined && cpu.value > 0, 'CPU seconds read from /proc');
  assert.ok(sumOf(s, 'sluice_proxy_process_resident_memory_bytes', { proxy: 'haproxy' }) > 1_000_000, 'resident memory read from /proc');
  m.onEvent({ type: 'cell-done', index: 0, todo: 1, cell: {} as never, reps: 1, etaMs: 0 });
  s = await samples(m);
  assert.ok(!s.some((x) => x.name === 'sluice_proxy_process_cpu_seconds_total'), 'no proxy between cells');
});
