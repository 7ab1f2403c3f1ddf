// nghttp2's h2load as the generator, against h2c servers written here on 127.0.0.1. The tests that run h2load
// fail (never skip) where it is missing, with runH2load's own message (h2load is not installed: apt-get install -y nghttp2-client ...).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { H2LOAD_BINARY_ENV, H2LOAD_MISSING, H2loadNotFoundError, H2loadUnsupportedError, runH2load } from '../load/external/h2load.js';
import { h2loadPlan } from '../load/external/h2load-args.js';
import { estimateLag, H2loadLog } from '../load/external/h2load-log.js';
import { parseH2loadSummary } from '../load/external/h2load-output.js';
import { generate } from '../load/generate.js';
import { LoadAbortedError } from '../load/run-load.js';
import { initHistograms, mergeEncodedSummary } from '../load/statistic/histogram.js';
import { allOf } from './helpers/outcome-histograms.js';
import { OutcomeHistograms } from '../load/statistic/outcome-histograms.js';
import type { LatencySummaryMs, LoadOptions } from '../load/types.js';
import type { RunResults } from '../results/model.js';
import { childPids, isAlive } from './helpers/processes.js';
import { h2Server, respond } from './load/servers.js';

function options(url: string, overrides: Partial<LoadOptions> = {}): LoadOptions {
  return {
    url,
    protocol: 'h2',
    connections: 2,
    streamsPerConnection: 4,
    durationMs: 1000,
    warmupMs: 200,
    timeoutMs: 2000,
    method: 'GET',
    bodyBytes: 0,
    generator: 'h2load',
    ...overrides,
  };
}

function assertOrdered(l: LatencySummaryMs): void {
  const chain = [l.p50, l.p90, l.p95 ?? l.p90, l.p99, l.p999, l.max];
  for (let i = 1; i < chain.length; i++) assert.ok(chain[i - 1]! <= chain[i]!, `percentiles out of order: ${JSON.stringify(l)}`);
}

test('runH2load measures an h2c server: requests, ordered true percentiles, one record like the sluice generator', { timeout: 15_000 }, async () => {
  const server = await h2Server((stream) => respond(stream, 200, 'hello'));
  try {
    const r = await runH2load(options(server.url));
    assert.equal(r.generator, 'h2load');
    assert.ok(r.requests > 0, `requests ${r.requests}`);
    assert.equal(r.durationS, 1);
    assert.equal(r.rps, r.requests / r.durationS);
    assert.deepEqual(r.errors, {});
    assertOrdered(r.latencyMs);
    assert.ok(r.latencyMs.p50 > 0);
    // The histogram holds every logged latency: one per successful request.
    const decoded = await mergeEncodedSummary([r.histogram]);
    assert.equal(decoded.count, r.requests);
    assert.deepEqual(decoded.latencyMs.p99, r.latencyMs.p99);
    // Our counts come from the log, h2load's own summary agrees.
    assert.equal(r.h2load.requests.done, r.requests);
    assert.deepEqual(r.rst, { received: {}, sent: {} });
    assert.ok(r.generatorNotes.some((n) => /RST_STREAM/.test(n)), 'says rst is not measured');
    assert.ok(r.generatorCpu > 0, `generatorCpu ${r.generatorCpu}`);
    assert.equal(typeof r.generatorSaturated, 'boolean');
    assert.equal(r.timeSeries?.length, 1);
  } finally {
    await server.close();
  }
});

test('runH2load counts 503 answers as status:5xx, out of the goodput and the successes\' histogram', { timeout: 15_000 }, async () => {
  const server = await h2Server((stream, n) => respond(stream, n % 4 === 0 ? 503 : 200, 'x'));
  try {
    const r = await runH2load(options(server.url));
    const failed = r.errors['status:5xx'] ?? 0;
    assert.ok(failed > 0, JSON.stringify(r.errors));
    assert.deepEqual(Object.keys(r.errors), ['status:5xx']);
    // Every 4th stream of the server's count; the log's window cuts a few at each end.
    assert.ok(failed > r.requests * 0.15 && failed < r.requests * 0.35, `${failed} of ${r.requests}`);
    assert.equal(r.h2load.statusCodes['5xx'], failed);
    const decoded = await mergeEncodedSummary([r.successHistogram]);
    assert.equal(decoded.count, r.requests - failed);
    assert.equal((await mergeEncodedSummary([r.histogram])).count, r.requests);
    assert.equal(r.successes, r.requests - failed);
    assert.ok(Math.abs(r.rps - r.successes / r.durationS) < 1e-9);
  } finally {
    await server.close();
  }
});

test('runH2load percentiles come from the log: a server answering after 20 ms gives p50 >= 20 ms', { timeout: 15_000 }, async () => {
  const server = await h2Server((stream) => respond(stream, 200, 'slow', 20));
  try {
    const r = await runH2load(options(server.url, { warmupMs: 0 }));
    assert.ok(r.requests > 0);
    assert.ok(r.latencyMs.p50 >= 20, `p50 ${r.latencyMs.p50}`);
    assertOrdered(r.latencyMs);
  } finally {
    await server.close();
  }
});

test('runH2load counts reset streams as h2load:errored (h2load cannot tell the RST code)', { timeout: 15_000 }, async () => {
  const server = await h2Server((stream, n) => {
    if (n % 5 === 0) {
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    respond(stream, 200, 'ok');
  });
  try {
    const r = await runH2load(options(server.url, { streamsPerConnection: 1 }));
    assert.ok((r.errors['h2load:errored'] ?? 0) > 0, JSON.stringify(r.errors));
    assert.equal(r.h2load.requests.errored, r.errors['h2load:errored']);
    assert.deepEqual(r.rst.received, {});
    assert.equal(r.rstRate, 0);
  } finally {
    await server.close();
  }
});

test('runH2load sends the method and body asked for', { timeout: 15_000 }, async () => {
  // h2Server's handler gets no request headers: a server of its own that records method and body size.
  const got: { method: string; bytes: number }[] = [];
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('error', () => undefined);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    let bytes = 0;
    stream.on('error', () => undefined);
    stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
    stream.on('end', () => {
      got.push({ method: String(headers[':method']), bytes });
      if (stream.destroyed) return;
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const r = await runH2load(options(`http://127.0.0.1:${port}/upload`, { method: 'PUT', bodyBytes: 1000, durationMs: 500, warmupMs: 0 }));
    assert.ok(r.requests > 0);
    assert.ok(got.length > 0 && got.every((g) => g.method === 'PUT' && g.bytes === 1000), JSON.stringify(got.slice(0, 3)));
  } finally {
    for (const session of sessions) session.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('runH2load keeps an open-loop rate with --rps and reports target and sent', { timeout: 15_000 }, async () => {
  const server = await h2Server((stream) => respond(stream, 200, 'ok'));
  try {
    const r = await runH2load(options(server.url, { rate: 200, warmupMs: 0 }));
    assert.ok(r.openLoop, 'openLoop present');
    assert.equal(r.openLoop.targetRps, 200);
    assert.ok(r.h2load.args.includes('--rps=100'), r.h2load.args.join(' '));
    // A rate is a ceiling: never more than it allows (one schedule tick of slack per connection).
    assert.ok(r.requests > 0 && r.requests <= 200 * r.durationS + 2, `requests ${r.requests}`);
    assert.ok(r.openLoop.maxLagMs >= r.openLoop.meanLagMs && r.openLoop.meanLagMs >= 0);
  } finally {
    await server.close();
  }
});

test('generate() picks h2load by options.generator', { timeout: 15_000 }, async () => {
  const server = await h2Server((stream) => respond(stream, 200, 'ok'));
  try {
    const r = await generate(options(server.url, { durationMs: 500, warmupMs: 0 }));
    assert.equal(r.generator, 'h2load');
    assert.ok(r.requests > 0);
  } finally {
    await server.close();
  }
});

test('aborting runH2load kills h2load and rejects with LoadAbortedError', { timeout: 15_000 }, async () => {
  const server = await h2Server((stream) => respond(stream, 200, 'ok', 5));
  try {
    const controller = new AbortController();
    const seen = new Set<number>();
    const watch = setInterval(() => childPids(process.pid).forEach((pid) => seen.add(pid)), 50);
    setTimeout(() => controller.abort(), 500);
    try {
      await assert.rejects(runH2load(options(server.url, { durationMs: 30_000, warmupMs: 0 }), undefined, controller.signal), LoadAbortedError);
    } finally {
      clearInterval(watch);
    }
    assert.ok(seen.size > 0, 'h2load was running');
    for (const pid of seen) assert.equal(isAlive(pid), false, `child ${pid} still alive`);
  } finally {
    await server.close();
  }
});

test('options h2load cannot honour are refused naming the option and --generator', async () => {
  const base = options('http://127.0.0.1:1/');
  const cases: [Partial<LoadOptions>, keyof LoadOptions][] = [
    [{ protocol: 'h1' }, 'protocol'],
    [{ protocol: 'grpc' }, 'protocol'],
    [{ receiver: 'strict' }, 'receiver'],
    [{ stallStreams: 1 }, 'stallStreams'],
    [{ h2StreamWindow: 100_000 }, 'h2StreamWindow'],
  ];
  for (const [override, option] of cases) {
    await assert.rejects(
      runH2load({ ...base, ...override }),
      (err: unknown) => err instanceof H2loadUnsupportedError && err.option === option && /--generator/.test(err.message),
      option,
    );
  }
});

test('more h2load threads than connections is refused, naming workers', async () => {
  // validateLoadOptions or the h2load mapping, whichever sees it first: either names the option.
  await assert.rejects(runH2load(options('http://127.0.0.1:1/', { workers: 3 })), (err: unknown) => (err as { option?: string }).option === 'workers');
});

test('a missing h2load is named with how to install it', async () => {
  const saved = { bin: process.env[H2LOAD_BINARY_ENV], path: process.env.PATH };
  delete process.env[H2LOAD_BINARY_ENV];
  process.env.PATH = '/nonexistent';
  try {
    await assert.rejects(runH2load(options('http://127.0.0.1:1/')), (err: unknown) => err instanceof H2loadNotFoundError && err.message === H2LOAD_MISSING);
  } finally {
    process.env.PATH = saved.path;
    if (saved.bin !== undefined) process.env[H2LOAD_BINARY_ENV] = saved.bin;
  }
  assert.equal(H2LOAD_MISSING, "h2load is not installed: apt-get install -y nghttp2-client (Debian's nghttp2-client package)");
});

test('h2loadPlan maps LoadOptions to h2load flags', () => {
  const files = { logFile: '/tmp/log', bodyFile: '/tmp/body' };
  const plain = h2loadPlan(options('http://127.0.0.1:9/p', { connections: 8, streamsPerConnection: 16, durationMs: 10_000, warmupMs: 1000 }), files);
  assert.deepEqual(plain.args, [
    '-c', '8', '-m', '16', '-t', '1', '-D', '10000ms', '--warm-up-time', '1000ms', '-w', '24', '-W', '24', '--log-file', '/tmp/log',
    'http://127.0.0.1:9/p',
  ]);
  const post = h2loadPlan(options('http://127.0.0.1:9/p', { method: 'POST', bodyBytes: 10 }), files);
  assert.ok(post.args.includes('-d') && !post.args.includes('-H'));
  const put = h2loadPlan(options('http://127.0.0.1:9/p', { method: 'PUT', bodyBytes: 10 }), files);
  assert.deepEqual(put.args.slice(put.args.indexOf('-H'), put.args.indexOf('-H') + 2), ['-H', ':method: PUT']);
  const open = h2loadPlan(options('http://127.0.0.1:9/p', { rate: 1000, connections: 4, workers: 2, h2StreamWindow: 1_048_575, h2ConnWindow: 16_777_216 }), files);
  assert.ok(open.args.includes('--rps=250'));
  assert.deepEqual(open.args.slice(open.args.indexOf('-t'), open.args.indexOf('-t') + 2), ['-t', '2']);
  assert.deepEqual(open.args.slice(open.args.indexOf('-w'), open.args.indexOf('-w') + 4), ['-w', '20', '-W', '24']);
  assert.ok(open.notes.some((n) => /h2ConnWindow 16777216 sent as 16777215/.test(n)));
  const sized = h2loadPlan(options('http://127.0.0.1:9/p', { responseBytes: 3000 }), files);
  assert.deepEqual(sized.args.slice(sized.args.indexOf('-H'), sized.args.indexOf('-H') + 2), ['-H', 'x-sluice-response-bytes: 3000']);
  assert.throws(
    () => h2loadPlan(options('http://127.0.0.1:9/p', { scenario: 'server-streaming' }), files),
    (err: unknown) => err instanceof H2loadUnsupportedError && err.option === 'scenario',
  );
});

test('parseH2loadSummary reads h2load 1.52 output', () => {
  const text = [
    'finished in 1.01s, 3222.00 req/s, 98.74KB/s',
    'requests: 4295 total, 4303 started, 4295 done, 3222 succeeded, 1073 failed, 1073 errored, 0 timeout',
    'status codes: 3222 2xx, 0 3xx, 0 4xx, 0 5xx',
    'traffic: 98.74KB (101109) total, 12.71KB (13018) headers (space savings 93.38%), 15.73KB (16110) data',
  ].join('\n');
  assert.deepEqual(parseH2loadSummary(text), {
    requests: { total: 4295, started: 4303, done: 4295, succeeded: 3222, failed: 1073, errored: 1073, timeout: 0 },
    statusCodes: { '2xx': 3222, '3xx': 0, '4xx': 0, '5xx': 0 },
    trafficBytes: { total: 101109, headers: 13018, data: 16110 },
  });
  assert.equal(parseH2loadSummary('h2load: connection refused'), undefined);
});

test('estimateLag: on schedule is no lag, a late burst is', () => {
  const onTime = Array.from({ length: 100 }, (_, k) => 1_000_000 + k * 10_000);
  assert.deepEqual(estimateLag(onTime, 100), { maxLagMs: 0, meanLagMs: 0, p99LagMs: 0 });
  const late = [...onTime.slice(0, 50), ...onTime.slice(50).map((t) => t + 50_000)];
  const lag = estimateLag(late, 100);
  assert.equal(lag.maxLagMs, 50);
  assert.equal(lag.meanLagMs, 25);
});

const BENCH = fileURLToPath(new URL('../cli/bench.js', import.meta.url));

test('bench --generator h2load measures h2 cells through the proxy with h2load, and refuses h1 cells', { timeout: 15_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-h2load-bench-'));
  const matrix = join(dir, 'm.yaml');
  writeFileSync(matrix, 'name: h2load-e2e\nduration: 1s\nwarmup: 0ms\nreps: 1\nbackend: {latency: {dist: fixed, ms: 1}}\naxes:\n  protocol: [h1, h2]\n');
  try {
    const refused = await execa(process.execPath, [BENCH, '--matrix', matrix, '--generator', 'h2load', '--out', join(dir, 'out')], { reject: false });
    assert.equal(refused.exitCode, 2, refused.stderr);
    assert.match(refused.stderr, /--generator h2load: it generates h2 only, and this matrix has h1 cells; add --only protocol=h2/);
    const r = await execa(process.execPath, [BENCH, '--matrix', matrix, '--generator', 'h2load', '--only', 'protocol=h2', '--out', join(dir, 'out')], {
      reject: false,
    });
    assert.equal(r.exitCode, 0, r.stderr);
    const results = JSON.parse(readFileSync(join(dir, 'out', 'latest', 'results.json'), 'utf8')) as RunResults;
    assert.equal(results.run.matrix.spec.generator, 'h2load');
    const rep = results.cells[0]!.reps[0]!;
    assert.equal(rep.generator, 'h2load');
    assert.ok(rep.rps > 0 && rep.latencyMs.p50 >= 1, JSON.stringify(rep.latencyMs));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('H2loadLog reads rows as they are appended, a row cut between reads included', async () => {
  await initHistograms();
  const histograms = new OutcomeHistograms(false);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-h2load-log-'));
  const file = join(dir, 'log.tsv');
  const log = new H2loadLog(file, histograms, 2);
  try {
    await log.poll(); // no file yet: nothing, no error
    const t0 = 1_700_000_000_000_000;
    writeFileSync(file, `${t0}\t200\t1500\n${t0 + 10}\t503\t900\n${t0 + 20}\t-1\t40`);
    await log.poll();
    assert.equal(log.counts.requests, 2, 'the cut row waits for its end');
    appendFileSync(file, `00\n${t0 + 30}\t404\t700\nnot a row\n${t0 + 1_200_000}\t200\t2500\textra\n${t0 + 40}\t200\t3000`);
    await log.finish();
    assert.deepEqual(log.counts, { requests: 6, failedStreams: 1, status4xx: 1, status5xx: 1, otherStatus: 0, malformed: 1 });
    assert.equal(log.errors, 3);
    assert.equal(histograms.success.count, 3);
    assert.equal(allOf(histograms).count, 6, 'failures too, at their logged latency');
    assert.ok(Math.abs(histograms.success.summaryMs().max - 3) < 0.01, 'the largest success, 3 ms');
    // By the second each request was sent in: successes and errors.
    assert.deepEqual(
      log.timeSeries().map((s) => [s.t, s.rps, s.errors]),
      [
        [0, 2, 3],
        [1, 1, 0],
      ],
    );
  } finally {
    await log.close();
    histograms.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
