// `npm run load` through its CLI (dist/harness/cli/load.js) against h2c servers in this process, 127.0.0.1.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { RepResult } from '../load/types.js';
import { h2Server, respond } from './load/servers.js';

const LOAD = fileURLToPath(new URL('../cli/load.js', import.meta.url));

function load(args: string[]) {
  return execa(process.execPath, [LOAD, ...args], { reject: false, stdin: 'ignore' });
}

test('--json prints exactly the RepResult on stdout', { timeout: 15_000 }, async () => {
  const server = await h2Server((stream) => respond(stream, 200, 'hello'));
  try {
    const r = await load(['--url', server.url, '-p', 'h2', '-c', '2', '-m', '4', '-d', '1s', '--warmup', '200ms', '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as RepResult;
    assert.ok(rep.rps > 0, `rps ${rep.rps}`);
    assert.ok(rep.requests > 0);
    assert.equal(typeof rep.histogram, 'string');
    assert.ok(rep.latencyMs.p50 <= rep.latencyMs.p99);
    assert.deepEqual(rep.errors, {});
    // stderr is not a TTY here: no progress
    assert.equal(r.stderr, '');
  } finally {
    await server.close();
  }
});

test('--wire-connection: the h2/ library (default) and wire/connection.ts each run the same load, with no error', { timeout: 15_000 }, async () => {
  const server = await h2Server((stream) => respond(stream, 200, 'hello'));
  try {
    for (const connection of ['h2', 'wire']) {
      const r = await load(['--url', server.url, '-c', '1', '-m', '4', '-d', '300ms', '--warmup', '0s', '--wire-connection', connection, '--json']);
      assert.equal(r.exitCode, 0, r.stderr);
      const rep = JSON.parse(r.stdout) as RepResult;
      assert.ok(rep.requests > 0, `${connection}: ${rep.requests} requests`);
      assert.deepEqual(rep.errors, {}, connection);
    }
  } finally {
    await server.close();
  }
});

test('--generator h2load --json prints the same record, made by h2load', { timeout: 15_000 }, async () => {
  const server = await h2Server((stream) => respond(stream, 200, 'hello'));
  try {
    const r = await load(['--url', server.url, '-c', '2', '-m', '4', '-d', '1s', '--warmup', '0s', '--generator', 'h2load', '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as RepResult;
    assert.equal(rep.generator, 'h2load');
    assert.ok(rep.rps > 0, `rps ${rep.rps}`);
  } finally {
    await server.close();
  }
});

test('without --json: a human summary with the percentiles table and the histogram', { timeout: 15_000 }, async () => {
  const server = await h2Server((stream, n) => respond(stream, n % 10 === 0 ? 503 : 200, 'hello'));
  try {
    const r = await load([server.url, '-c', '2', '-m', '2', '-d', '1s', '--warmup', '0s']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^sluice load: GET http:\/\/127\.0\.0\.1:\d+\/echo \(h2\), 2 connections x 2 streams, closed loop/);
    assert.match(r.stdout, /Goodput\s+[\d,]+ rps: successful responses per second \([\d,]+ of [\d,]+ requests sent in [\d.]+ s\)/);
    assert.match(r.stdout, /Completed\s+[\d,]+ rps: every outcome, successes and failures; error rate [\d.]+%/);
    assert.match(r.stdout, /\n\s+p50\s+p90\s+p95\s+p99\s+p99\.9\s+max\s+mean\n\s+all\s+[\d.]+\s+[\d.]+/);
    assert.match(r.stdout, /Latency histogram \(all\)\n(\s+<= [\d.]+ ms \| █*\s+[\d,]+\s+[\d.]+%\n)+/);
    assert.match(r.stdout, /\n\s+status:5xx\s+[\d,]+\s+[\d.]+%\n/);
  } finally {
    await server.close();
  }
});

test('--attack rapid-reset --trace-ms: exit 0 though no request had an outcome; the attack and the trace in the summary', { timeout: 15_000 }, async () => {
  const server = await h2Server(() => undefined);
  try {
    const r = await load(['--url', server.url, '-m', '4', '-d', '500ms', '--warmup', '0s', '--attack', 'rapid-reset', '--trace-ms', '100']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^sluice load: GET .* 1 connection x 4 streams, rapid-reset attacker, closed loop/);
    assert.match(r.stdout, /\nAttack\s+rapid-reset: [\d,]+ streams opened and reset in the window \(no latency outcome\); GOAWAY .*; [\d,]+ connections closed by the target, [\d,]+ reconnects\n/);
    assert.match(r.stdout, /\nTrace\s+\d+ buckets of 100 ms by arrival/);
  } finally {
    await server.close();
  }
});

test('--trace-ms --json: the trace in the record, bucket by bucket', { timeout: 15_000 }, async () => {
  const server = await h2Server((stream) => respond(stream, 200, 'hello'));
  try {
    const r = await load(['--url', server.url, '-d', '500ms', '--warmup', '0s', '--trace-ms', '50', '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as RepResult;
    assert.equal(rep.trace?.bucketMs, 50);
    assert.ok(rep.trace!.buckets.length >= 10);
    assert.equal(
      rep.trace!.buckets.reduce((n, b) => n + b.ok, 0),
      rep.successes,
    );
  } finally {
    await server.close();
  }
});

test('bad flags exit 2 with a message naming the flag', { timeout: 15_000 }, async () => {
  const url = 'http://127.0.0.1:1/';
  const cases: [string[], RegExp][] = [
    [['-c', '0'], /-c\/--connections 0/],
    [['-d', 'ten'], /--duration: "ten" is not a duration/],
    [['-p', 'h3'], /-p\/--protocol h3: expected h1 \| h2 \| grpc/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['-m', 'x'], /-m\/--streams x/],
    [['--rate', '0'], /--rate 0/],
    [['--receiver', 'lazy'], /--receiver lazy/],
    [['-p', 'h1', '--stream-window', '65535'], /--stream-window applies to -p h2 only/],
    [['-p', 'h1', '--generator', 'h2load'], /--generator h2load: protocol h1 is not supported/],
    [['--generator', 'wrk'], /--generator wrk/],
    [['--scenario', 'bidi'], /--scenario bidi: expected unary \| large-body \| server-streaming/],
    [['-p', 'h1', '--scenario', 'server-streaming'], /--scenario: .*needs h2 or gRPC on the wire client/],
    [['--scenario', 'server-streaming', '--response-bytes', '4'], /--response-bytes: .*at least 8/],
    [['--stream-messages', '3'], /--stream-messages applies to --scenario server-streaming only/],
    [['--response-bytes', '1.5'], /--response-bytes 1.5/],
    [['--trace-ms', '0'], /--trace-ms 0: expected a whole number of at least 1/],
    [['--trace-ms', '2.5'], /--trace-ms 2.5/],
    [['--attack', 'slowloris'], /--attack slowloris: expected rapid-reset/],
    [['-p', 'h1', '--attack', 'rapid-reset'], /--attack: .*needs h2 or gRPC on the wire client/],
    [['--attack', 'rapid-reset', '--stall-streams', '1'], /--attack: .*possible with stallStreams/],
    [['--stall-streams', '2147483648'], /--stall-streams 2147483648: expected a whole number in 0\.\.2147483647/],
    [['--wire-connection', 'nghttp2'], /--wire-connection nghttp2: expected h2 \| wire/],
    [['-p', 'h1', '--wire-connection', 'wire'], /--wire-connection.*the wire client only/],
  ];
  await Promise.all(
    cases.map(async ([args, message]) => {
      const r = await load(['--url', url, ...args]);
      assert.equal(r.exitCode, 2, `${args.join(' ')}: exit ${r.exitCode} ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.match(r.stderr, /^sluice load: /);
      assert.equal(r.stdout, '');
    }),
  );
  const noUrl = await load(['-c', '1']);
  assert.equal(noUrl.exitCode, 2);
  assert.match(noUrl.stderr, /--url: a target is required/);
});

test('Ctrl-C stops the run: exit 130, and the process ends by itself (nothing left open)', { timeout: 15_000 }, async () => {
  let streams = 0;
  const server = await h2Server((stream) => {
    streams++;
    respond(stream, 200, 'hello', 2);
  });
  try {
    const child = load(['--url', server.url, '-c', '2', '-m', '2', '-d', '60s', '--warmup', '0s']);
    while (streams === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGINT');
    const r = await child;
    assert.equal(r.exitCode, 130, r.stderr);
    assert.match(r.stderr, /interrupted/);
  } finally {
    await server.close();
  }
});

test('--help lists every flag', async () => {
  const r = await load(['--help']);
  assert.equal(r.exitCode, 0);
  for (const flag of ['--url', '--protocol', '--connections', '--streams', '--duration', '--rate', '--warmup', '--workers', '--timeout', '--method', '--body-bytes', '--receiver', '--stall-streams', '--stream-window', '--conn-window', '--generator', '--json', '--response-bytes', '--scenario', '--stream-messages', '--trace-ms', '--attack', '--wire-connection']) {
    assert.ok(r.stdout.includes(flag), flag);
  }
});
