// runLoad itself: options refused by name, aborts, and the RepResult's arithmetic.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoadOptionsError } from '../../load/options.js';
import { generate } from '../../load/generate.js';
import { LoadAbortedError, runLoad, runLoadInThread } from '../../load/run-load.js';
import { h2Server, quickOptions, respond, withClientSockets } from './servers.js';

test('bad options are refused before connecting, naming the option', async () => {
  const base = quickOptions('http://127.0.0.1:1/', 'h2');
  const cases: [Partial<typeof base>, string][] = [
    [{ url: 'ftp://x/' }, 'url'],
    [{ connections: 0 }, 'connections'],
    [{ streamsPerConnection: 1.5 }, 'streamsPerConnection'],
    [{ durationMs: 0 }, 'durationMs'],
    [{ timeoutMs: -1 }, 'timeoutMs'],
    [{ method: 'get' }, 'method'],
    [{ h2StreamWindow: 2 ** 31 }, 'h2StreamWindow'],
    [{ protocol: 'h3' as 'h2' }, 'protocol'],
    [{ rate: 0 }, 'rate'],
    [{ rate: Number.NaN }, 'rate'],
    [{ workers: 0 }, 'workers'],
    [{ workers: 3 }, 'workers'], // more than its 2 connections
    [{ receiver: 'lazy' as 'eager' }, 'receiver'],
    [{ stallStreams: -1 }, 'stallStreams'],
    [{ generator: 'wrk' as 'sluice' }, 'generator'],
    [{ scenario: 'bidi' as 'unary' }, 'scenario'],
    [{ streamMessages: 0 }, 'streamMessages'],
    // Server streaming: each message carries an 8-byte stamp, and only the wire clients read bodies.
    [{ scenario: 'server-streaming', responseBytes: 7 }, 'responseBytes'],
    [{ scenario: 'server-streaming', protocol: 'h1' }, 'scenario'],
    [{ scenario: 'server-streaming', client: 'lib' }, 'scenario'],
    [{ scenario: 'server-streaming', generator: 'h2load' }, 'generator'],
    // A wire connection needs the wire client (every mode runs on both: wire-*.test.ts, rapid-reset.test.ts).
    [{ wireConnection: 'h3' as 'h2' }, 'wireConnection'],
    [{ wireConnection: 'h2', client: 'lib' }, 'wireConnection'],
    [{ wireConnection: 'wire', protocol: 'h1' }, 'wireConnection'],
    [{ wireConnection: 'h2', generator: 'h2load' }, 'wireConnection'],
  ];
  for (const [override, option] of cases) {
    await assert.rejects(runLoad({ ...base, ...override }), (err: unknown) => err instanceof LoadOptionsError && err.option === option);
  }
  // In the calling thread there is one share only.
  await assert.rejects(runLoadInThread({ ...base, workers: 2 }), (err: unknown) => err instanceof LoadOptionsError && err.option === 'workers');
});

test('aborting a run rejects with LoadAbortedError and closes its connections', async () => {
  const controller = new AbortController();
  let abortTimer: NodeJS.Timeout | undefined;
  // Aborted 150 ms into the load itself (setting up, WASM included, may take longer than that on a busy machine).
  const server = await h2Server((stream) => {
    abortTimer ??= setTimeout(() => controller.abort(), 150);
    respond(stream, 200, 'ok', 5);
  });
  try {
    const started = Date.now();
    const { sockets } = await withClientSockets(async () => {
      await assert.rejects(runLoadInThread(quickOptions(server.url, 'h2', { durationMs: 10_000, warmupMs: 0 }), undefined, controller.signal), LoadAbortedError);
    });
    assert.ok(Date.now() - started < 3000);
    assert.ok(sockets.length > 0 && sockets.every((s) => s.destroyed));
  } finally {
    await server.close();
  }
});

test('requests, rps and rstRate agree with each other', async () => {
  const server = await h2Server((stream, n) => (n % 4 === 0 ? stream.close(8) : respond(stream)));
  try {
    const r = await runLoad(quickOptions(server.url, 'h2', { durationMs: 300, warmupMs: 100 }));
    const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
    const rst = Object.values(r.rst.received).reduce((a, b) => a + b, 0);
    assert.ok(errors > 0 && errors < r.requests);
    assert.equal(r.rps, r.successes / r.durationS);
    assert.equal(r.completedRps, r.requests / r.durationS);
    assert.equal(r.successes + errors, r.requests);
    assert.equal(r.errorRate, errors / r.requests);
    assert.equal(r.rstRate, rst / r.requests);
    assert.deepEqual(Object.keys(r.errors), ['rst:CANCEL']);
    assert.equal(typeof r.generatorSaturated, 'boolean');
    const busiest = Math.max(...(r.workers ?? []).map((w) => w.elu));
    assert.equal(r.generatorSaturated, r.generatorCpu - (r.openLoop?.pacerCpu ?? 0) > 0.9 || busiest > 0.9);
    assert.equal(r.workers?.length, 1);
    assert.equal(r.workers?.[0]?.requests, r.requests);
  } finally {
    await server.close();
  }
});

test("generate(): 'this-thread' runs one worker's load in the caller's thread, 'worker' (and more than one worker) in worker threads", async () => {
  const server = await h2Server((stream) => respond(stream));
  try {
    const options = quickOptions(server.url, 'h2', { durationMs: 200, warmupMs: 0, connections: 2 });
    // The generator's sockets are seen by this thread's diagnostics channel only when it runs in this thread.
    const here = await withClientSockets(() => generate(options, undefined, undefined, 'this-thread'));
    assert.ok(here.result.successes > 0);
    assert.equal(here.sockets.length, 2, 'both connections opened in this thread');
    const worker = await withClientSockets(() => generate(options));
    assert.ok(worker.result.successes > 0);
    assert.equal(worker.sockets.length, 0, 'none in this thread: the worker opened them');
    const two = await withClientSockets(() => generate({ ...options, workers: 2 }, undefined, undefined, 'this-thread'));
    assert.ok(two.result.successes > 0);
    assert.equal(two.sockets.length, 0, 'two workers cannot share this thread: worker threads are used');
  } finally {
    await server.close();
  }
});
