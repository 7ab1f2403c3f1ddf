// The nghttpx driver against the real nghttpx and the synthetic backends: it starts, forwards h2 (round robin
// over two endpoints), gRPC (trailers and all) and HTTP/1.1 upstreams, leaves no process behind, and applies
// its windows: with a 40 ms link between nghttpx and the backend, one stream through a 64 KiB window moves at
// most window / RTT, through 16 MiB windows far more. Without nghttpx these tests fail naming the Debian
// package (never skip).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http2 from 'node:http2';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { AXIS_DEFAULTS, type CellParams } from '../matrix/axes.js';
import { startBackends } from '../orchestrator/launch.js';
import { addressInUse } from '../orchestrator/port-retry.js';
import { freePort } from '../orchestrator/ports.js';
import { Supervisor } from '../orchestrator/supervisor.js';
import { runLoad } from '../load/run-load.js';
import type { LoadOptions } from '../load/types.js';
import type { ProxyCellSpec, RunningProxy } from '../proxies/driver.js';
import { nghttpxDriver } from '../proxies/nghttpx.js';
import { childPids, isAlive } from './helpers/processes.js';

const MIB = 1024 * 1024;
const LARGE = 16 * MIB;
const ZERO_LATENCY = { latency: { dist: 'fixed' as const, ms: 0 } };

/** pids of every process named exactly nghttpx (pgrep -x), none when pgrep finds none. */
function nghttpxPids(): number[] {
  try {
    return execFileSync('pgrep', ['-x', 'nghttpx'], { encoding: 'utf8' }).split('\n').filter((l) => l !== '').map(Number);
  } catch {
    return [];
  }
}

async function cellSpec(params: CellParams, endpoints: string[], upstreamProtocol: 'h1' | 'h2'): Promise<ProxyCellSpec> {
  return {
    params,
    listen: `127.0.0.1:${await freePort()}`,
    admin: `127.0.0.1:${await freePort()}`,
    discovery: { endpoints },
    upstreamProtocol,
    extraFlags: [],
    workDir: tmpdir(),
  };
}

/** Starts nghttpx for the spec, runs `work` on it, stops everything and checks nothing of it is left. */
async function withNghttpx(params: CellParams, upstreamProtocol: 'h1' | 'h2', work: (proxy: RunningProxy) => Promise<void>): Promise<void> {
  const sup = new Supervisor();
  let pid: number | undefined;
  try {
    const backends = await startBackends(sup, params, ZERO_LATENCY);
    const endpoints = backends.ports.map((p) => `${backends.host}:${p}`);
    const proxy = await nghttpxDriver.start(sup, await cellSpec(params, endpoints, upstreamProtocol));
    pid = proxy.child.pid;
    assert.ok(pid !== undefined && isAlive(pid), 'nghttpx runs');
    assert.deepEqual(childPids(pid), [], 'one process (--single-process): its pid is all there is to sample');
    assert.equal(proxy.adminUrl, undefined);
    assert.equal(proxy.metricsUrl, undefined);
    await work(proxy);
  } finally {
    await sup.stopAll();
  }
  assert.ok(!isAlive(pid!), `nghttpx ${pid} is gone after stopAll`);
  assert.ok(!nghttpxPids().includes(pid!), 'pgrep -x nghttpx no longer finds it');
  assert.equal(sup.size, 0);
}

/** One GET through the proxy: its status, body size and the backend endpoint (port) that answered. */
function get(url: string, session: http2.ClientHttp2Session): Promise<{ status: number; bytes: number; endpoint: string }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': '/', ':authority': new URL(url).host });
    let status = 0;
    let endpoint = '';
    let bytes = 0;
    req.on('response', (h) => {
      status = Number(h[':status']);
      endpoint = String(h['x-sluice-endpoint']);
    });
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => resolve({ status, bytes, endpoint }));
    req.on('error', reject);
    req.end();
  });
}

function load(url: string, protocol: LoadOptions['protocol'], overrides: Partial<LoadOptions> = {}): LoadOptions {
  return {
    url,
    protocol,
    connections: 1,
    streamsPerConnection: 4,
    durationMs: 300,
    warmupMs: 100,
    timeoutMs: 5000,
    method: 'GET',
    bodyBytes: 0,
    h2StreamWindow: LARGE,
    h2ConnWindow: LARGE,
    ...overrides,
  };
}

test('version: the first line of nghttpx --version (fails naming the Debian package when nghttpx is missing)', async () => {
  assert.match(await nghttpxDriver.version(), /^nghttpx nghttp2\/\d+\.\d+\.\d+/);
});

test('h2: starts, forwards to two h2c endpoints in turn, the generator runs clean through it, stops with nothing left', { timeout: 60_000 }, async () => {
  await nghttpxDriver.version();
  const params: CellParams = { ...AXIS_DEFAULTS, protocol: 'h2', endpoints: 2, responseBytes: 4096 };
  await withNghttpx(params, 'h2', async (proxy) => {
    assert.equal(proxy.config.command[0], 'nghttpx');
    const session = http2.connect(proxy.url);
    try {
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await get(proxy.url, session));
      for (const a of answers) assert.deepEqual([a.status, a.bytes], [200, 4096], JSON.stringify(a));
      const order = answers.map((a) => a.endpoint);
      assert.equal(new Set(order).size, 2, `both endpoints answered: ${order.join(' ')}`);
      assert.ok(order[0] !== order[1] && order[0] === order[2] && order[1] === order[3], `round robin: ${order.join(' ')}`);
    } finally {
      session.close();
    }
    const rep = await runLoad(load(proxy.url, 'h2'));
    assert.ok(rep.successes > 0, JSON.stringify(rep.errors));
    assert.deepEqual(rep.errors, {});
  });
});

test('gRPC: unary calls through nghttpx to the gRPC backends, every one OK (trailers forwarded)', { timeout: 60_000 }, async () => {
  await nghttpxDriver.version();
  const params: CellParams = { ...AXIS_DEFAULTS, protocol: 'grpc', endpoints: 2, responseBytes: 1024 };
  await withNghttpx(params, 'h2', async (proxy) => {
    const rep = await runLoad(load(proxy.url, 'grpc', { bodyBytes: 64, responseBytes: 1024 }));
    assert.ok(rep.successes > 0, JSON.stringify(rep.errors));
    assert.deepEqual(rep.errors, {});
    // The library client as well: grpc-js reads the status from the trailers.
    const lib = await runLoad(load(proxy.url, 'grpc', { client: 'lib', bodyBytes: 64, responseBytes: 1024 }));
    assert.ok(lib.successes > 0, JSON.stringify(lib.errors));
    assert.deepEqual(lib.errors, {});
  });
});

test('h1 upstream: h2 and HTTP/1.1 clients through nghttpx to HTTP/1.1 backends', { timeout: 60_000 }, async () => {
  await nghttpxDriver.version();
  const params: CellParams = { ...AXIS_DEFAULTS, protocol: 'h1', endpoints: 2, responseBytes: 2048 };
  await withNghttpx(params, 'h1', async (proxy) => {
    const session = http2.connect(proxy.url);
    try {
      const a = await get(proxy.url, session);
      assert.deepEqual([a.status, a.bytes], [200, 2048]);
    } finally {
      session.close();
    }
    const rep = await runLoad(load(proxy.url, 'h1', { streamsPerConnection: 1, connections: 2 }));
    assert.ok(rep.successes > 0, JSON.stringify(rep.errors));
    assert.deepEqual(rep.errors, {});
  });
});

test('an nghttpx that exits before it is ready fails the start with its own error (here: the port is taken)', { timeout: 30_000 }, async () => {
  await nghttpxDriver.version();
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const sup = new Supervisor();
  try {
    const port = (taken.address() as AddressInfo).port;
    const spec = { ...(await cellSpec(AXIS_DEFAULTS, ['127.0.0.1:9'], 'h2')), listen: `127.0.0.1:${port}` };
    await assert.rejects(nghttpxDriver.start(sup, spec), (err: Error) => {
      assert.match(err.message, /proxy exited with code \d+ before http:\/\/127\.0\.0\.1:\d+\/ was ready/);
      assert.match(err.message, /--- nghttpx stderr ---\n[\s\S]*(bind|listen|Address already in use)/i);
      assert.equal(addressInUse(err), true, 'the bench starts it again on fresh ports');
      return true;
    });
  } finally {
    await sup.stopAll();
    taken.close();
  }
});
