// The HAProxy driver against a real haproxy: it starts behind the synthetic backends, forwards h2, gRPC and
// HTTP/1.1, exports haproxy_* metrics, and leaves no process behind; and it applies its stream window (the
// physics check, short: a 40 ms upstream link and 1 MiB responses, one stream, are window-bound through a
// 64 KiB window and not through a 16 MiB one). A missing haproxy fails these tests with the Debian package to
// install (the driver's start says so), never skips them.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AXIS_DEFAULTS, type CellParams } from '../matrix/axes.js';
import { runLoad } from '../load/run-load.js';
import type { Protocol, RepResult } from '../load/types.js';
import { startBackends, startLink } from '../orchestrator/launch.js';
import { parsePrometheusText, sumOf } from '../orchestrator/metrics-scrape.js';
import { addressInUse } from '../orchestrator/port-retry.js';
import { freePort } from '../orchestrator/ports.js';
import { Supervisor } from '../orchestrator/supervisor.js';
import type { ProxyCellSpec, RunningProxy } from '../proxies/driver.js';
import { HAPROXY_COMMAND, haproxyDriver } from '../proxies/haproxy.js';
import { HAPROXY_CONN_WINDOW } from '../proxies/haproxy-config.js';
import { childPids, isAlive } from './helpers/processes.js';

const MIB = 1024 * 1024;

/** Pids of live haproxy processes whose command line names this config file. */
function haproxiesUsing(configFile: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('haproxy') && argv.includes(configFile) && isAlive(Number(entry))) pids.push(Number(entry));
    } catch {
      // gone while we looked
    }
  }
  return pids;
}

interface Cell {
  sup: Supervisor;
  proxy: RunningProxy;
  ports: number[];
  configFile: string;
}

/** Backends (through a 40 ms link when rttMs is set), then haproxy through the driver; `body` runs, then everything stops. */
async function withHaproxy(params: CellParams, body: (cell: Cell) => Promise<void>): Promise<void> {
  const sup = new Supervisor();
  const workDir = mkdtempSync(join(tmpdir(), 'sluice-haproxy-'));
  const configFile = join(workDir, 'haproxy.cfg');
  try {
    const backends = await startBackends(sup, params, { latency: { dist: 'fixed', ms: 0 } });
    let endpoints = backends.ports.map((p) => `${backends.host}:${p}`);
    if (params.rttMs > 0) endpoints = (await startLink(sup, 'link-upstream', { rttMs: params.rttMs, jitterMs: 0, bandwidthMbps: 0 }, endpoints)).listen;
    const spec: ProxyCellSpec = {
      params,
      listen: `127.0.0.1:${await freePort()}`,
      admin: `127.0.0.1:${await freePort()}`,
      discovery: { endpoints },
      upstreamProtocol: params.protocol === 'h1' ? 'h1' : 'h2',
      extraFlags: [],
      workDir,
    };
    assert.equal(haproxyDriver.unsupported(params, { discovery: false, extraFlags: [] }), undefined);
    const proxy = await haproxyDriver.start(sup, spec);
    await body({ sup, proxy, ports: backends.ports, configFile });
  } finally {
    await sup.stopAll();
    rmSync(workDir, { recursive: true, force: true });
  }
  assert.deepEqual(haproxiesUsing(configFile), [], 'no haproxy of this cell is left');
}

function cellParams(protocol: Protocol, more: Partial<CellParams> = {}): CellParams {
  return { ...AXIS_DEFAULTS, protocol, endpoints: 2, responseBytes: 1024, connWindow: HAPROXY_CONN_WINDOW, ...more };
}

async function load(url: string, protocol: Protocol, more: { durationMs?: number; responseBytes?: number; streams?: number } = {}): Promise<RepResult> {
  return runLoad({
    url,
    protocol,
    connections: 1,
    streamsPerConnection: more.streams ?? (protocol === 'h1' ? 1 : 4),
    durationMs: more.durationMs ?? 300,
    warmupMs: 0,
    timeoutMs: 10_000,
    method: 'GET',
    bodyBytes: 0,
    responseBytes: more.responseBytes ?? 1024,
    h2StreamWindow: 16 * MIB,
    h2ConnWindow: 16 * MIB,
  });
}

/** One h2 request through the proxy (a POST when given a body): its status, body size and the endpoint (port) that answered. */
function h2Get(session: http2.ClientHttp2Session, upload?: Buffer): Promise<{ status: number; bytes: number; endpoint: string }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': upload ? 'POST' : 'GET', ':path': '/' });
    let status = 0;
    let endpoint = '';
    let bytes = 0;
    req.on('response', (headers) => {
      status = Number(headers[':status']);
      endpoint = String(headers['x-sluice-endpoint'] ?? '');
    });
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => resolve({ status, bytes, endpoint }));
    req.on('error', reject);
    req.end(upload);
  });
}

test('haproxy starts, forwards h2 to both endpoints, exports haproxy_* metrics, and stops with no process left', { timeout: 60_000 }, async () => {
  await withHaproxy(cellParams('h2', { streamWindow: MIB }), async ({ proxy, ports, configFile }) => {
    const pid = proxy.child.pid!;
    assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'haproxy', 'the child is haproxy itself, the process to sample');
    assert.deepEqual(childPids(pid), [], 'one process: no master, no workers');
    assert.deepEqual(haproxiesUsing(configFile), [pid]);
    assert.equal(proxy.metricsUrl, `${proxy.adminUrl}/metrics`);
    assert.deepEqual(proxy.config.command, [HAPROXY_COMMAND, '-db', '-f', configFile]);

    const session = http2.connect(proxy.url);
    try {
      const answers = [];
      for (let i = 0; i < 20; i++) answers.push(await h2Get(session));
      for (const a of answers) assert.deepEqual([a.status, a.bytes], [200, 1024]);
      assert.deepEqual([...new Set(answers.map((a) => Number(a.endpoint)))].sort(), [...ports].sort(), 'both endpoints answered');
      // What it advertises to clients: the cell's stream window and 1024 streams.
      assert.equal(session.remoteSettings.initialWindowSize, MIB);
      assert.equal(session.remoteSettings.maxConcurrentStreams, 1024);
      // Its connection window: the protocol's 65 535 until its first connection WINDOW_UPDATE, which takes it
      // to 2^31-1 (and every later one tops it back up there).
      assert.equal(session.state.remoteWindowSize, 65_535);
      const upload = await h2Get(session, Buffer.alloc(1000));
      assert.deepEqual([upload.status, upload.bytes], [200, 1024]);
      assert.equal(session.state.remoteWindowSize, HAPROXY_CONN_WINDOW);
    } finally {
      session.close();
    }

    const text = await (await fetch(proxy.metricsUrl!)).text();
    const samples = parsePrometheusText(text);
    assert.ok(samples.some((s) => s.name.startsWith('haproxy_process_')), 'process metrics');
    assert.equal(sumOf(samples, 'haproxy_backend_http_responses_total', { proxy: 'endpoints', code: '2xx' }), 21);
    assert.equal(sumOf(samples, 'haproxy_process_nbthread'), 1);
  });
});

test('haproxy forwards gRPC (h2 end to end, trailers) and HTTP/1.1 without errors', { timeout: 60_000 }, async () => {
  for (const protocol of ['grpc', 'h1'] as const) {
    await withHaproxy(cellParams(protocol), async ({ proxy }) => {
      const rep = await load(proxy.url, protocol);
      assert.ok(rep.successes > 0, `${protocol}: ${rep.successes} successes`);
      assert.deepEqual(rep.errors, {}, protocol);
      const samples = parsePrometheusText(await (await fetch(proxy.metricsUrl!)).text());
      assert.ok(sumOf(samples, 'haproxy_backend_http_responses_total', { proxy: 'endpoints', code: '2xx' }) >= rep.successes, protocol);
    });
  }
});

test('a haproxy that cannot start fails the start with its own words, and leaves no process', { timeout: 30_000 }, async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as AddressInfo).port;
  const sup = new Supervisor();
  const workDir = mkdtempSync(join(tmpdir(), 'sluice-haproxy-'));
  try {
    const spec: ProxyCellSpec = {
      params: cellParams('h2'),
      listen: `127.0.0.1:${port}`,
      admin: `127.0.0.1:${await freePort()}`,
      discovery: { endpoints: ['127.0.0.1:1'] },
      upstreamProtocol: 'h2',
      extraFlags: [],
      workDir,
    };
    await assert.rejects(haproxyDriver.start(sup, spec), (err: Error) => {
      assert.match(err.message, /haproxy did not start: proxy exited with code 1[^]*cannot bind socket \(Address already in use\)/);
      assert.equal(addressInUse(err), true, 'the bench starts it again on fresh ports');
      return true;
    });
  } finally {
    await sup.stopAll();
    taken.close();
    rmSync(workDir, { recursive: true, force: true });
  }
  assert.equal(sup.size, 0);
  assert.deepEqual(haproxiesUsing(join(workDir, 'haproxy.cfg')), []);
});

// The windows' physics through haproxy, as cells of the proxy axis: harness/test/physics.test.ts.
