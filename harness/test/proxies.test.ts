// The proxy axis and its drivers' pure parts: the axis in matrix files, which cells a proxy cannot run (and why),
// cell ids, our driver's command line for a cell, the run's proxy component, another proxy's native metrics and
// its Prometheus target.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AXIS_DEFAULTS, type CellParams } from '../matrix/axes.js';
import { expandCells, restrictAxes } from '../matrix/cells.js';
import { loadMatrix, parseMatrix } from '../matrix/load.js';
import { nativeDelta, parsePrometheusText } from '../orchestrator/metrics-scrape.js';
import { pinnedExecutable } from '../orchestrator/pinning.js';
import { proxyCellSpec } from '../orchestrator/topology.js';
import type { ProxyCellSpec } from '../proxies/driver.js';
import { DEFAULT_ENGINE, PROXY_DRIVERS, PROXY_NAMES, proxyVersion, unsupportedReason } from '../proxies/registry.js';
import { DEFAULT_PROXY_MAIN, mitigationArgs, proxyArgs, sluiceDriver } from '../proxies/sluice.js';
import { sluiceComponents, sluiceVersion } from '../results/components.js';
import { cellParamsSchema } from '../results/schema/cell.js';
import { FileSdTargets, scrapeLabels } from '../telemetry/file-sd.js';

const matrix = (axes: string, rest = ''): ReturnType<typeof parseMatrix> => parseMatrix(`name: t\nduration: 1s\n${rest}axes: {${axes}}\n`, 't.yaml');

test('the proxy axis: sluice by default, swept or fixed by name, an unknown proxy refused naming the key', () => {
  assert.deepEqual(PROXY_NAMES, ['sluice', 'sluice-node', 'sluice-wire', 'nghttpx', 'haproxy']);
  assert.equal(AXIS_DEFAULTS.proxy, 'sluice');
  const [unswept] = expandCells(matrix('concurrency: [1]')).cells;
  assert.equal(unswept!.params.proxy, 'sluice');
  assert.equal(unswept!.id, 'concurrency=1', 'an unswept proxy does not name the cell');
  const fixed = expandCells(matrix('concurrency: [1]', 'defaults: {proxy: haproxy}\n'));
  assert.equal([...fixed.cells, ...fixed.excluded].length, 1);
  assert.equal((fixed.cells[0] ?? fixed.excluded[0])!.id, 'concurrency=1');
  const swept = expandCells(matrix('proxy: [sluice, nghttpx, haproxy], concurrency: [1]'));
  assert.deepEqual(
    [...swept.cells.map((c) => c.id), ...swept.excluded.map((e) => e.id)].sort(),
    ['concurrency=1,proxy=haproxy', 'concurrency=1,proxy=nghttpx', 'concurrency=1,proxy=sluice'],
  );
  assert.throws(() => matrix('proxy: [envoy]'), /axes\.proxy\.0/);
  assert.deepEqual(restrictAxes(matrix('proxy: [sluice, haproxy]'), ['proxy=haproxy']).axes.proxy, ['haproxy']);
  assert.throws(() => restrictAxes(matrix('proxy: [sluice, haproxy]'), ['proxy=nginx']), /"nginx" is not a valid proxy value/);
});

test('results written before the axis existed read as sluice cells', () => {
  const { proxy: _proxy, ...old } = AXIS_DEFAULTS;
  assert.equal(cellParamsSchema.parse(old).proxy, 'sluice');
  assert.equal(cellParamsSchema.parse({ ...old, proxy: 'nghttpx' }).proxy, 'nghttpx');
});

test('target: direct runs no proxy: of a swept proxy axis only the first value keeps its direct cell', () => {
  const e = expandCells(matrix('target: [direct, proxy], proxy: [sluice, nghttpx, haproxy]'));
  const direct = e.cells.filter((c) => c.params.target === 'direct');
  assert.deepEqual(direct.map((c) => c.id), ['proxy=sluice,target=direct']);
  const dropped = e.excluded.filter((x) => x.id.includes('target=direct'));
  assert.deepEqual(dropped.map((x) => x.id).sort(), ['proxy=haproxy,target=direct', 'proxy=nghttpx,target=direct']);
  for (const x of dropped) assert.equal(x.reason, 'target: direct runs no proxy; its baseline is the proxy=sluice cell');
  // The first listed keeps it, whichever it is; an unswept proxy leaves the one direct cell alone.
  const other = expandCells(matrix('target: [direct], proxy: [haproxy, sluice]'));
  assert.deepEqual(other.cells.map((c) => c.id), ['proxy=haproxy,target=direct']);
  assert.deepEqual(expandCells(matrix('target: [direct]', 'defaults: {proxy: nghttpx}\n')).cells.map((c) => c.id), ['target=direct']);
});

test("a scenario that needs our control plane or our flags runs on ours only; every other proxy's cell is excluded with the reason", () => {
  const cp = expandCells(matrix('proxy: [sluice, nghttpx, haproxy]', 'scenario: balancer-exhaustion\n'));
  assert.deepEqual(cp.cells.map((c) => c.id), ['proxy=sluice']);
  assert.deepEqual(
    cp.excluded.map((x) => x.reason),
    ['nghttpx', 'haproxy'].map((p) => `${p}: balancer-exhaustion discovers its endpoints from a control plane (linkerd's Destination API), which only our proxy speaks`),
  );
  const flags = expandCells(matrix('proxy: [sluice, haproxy]', 'protocol: h1\nscenario: keepalive-race\n'));
  assert.deepEqual(flags.cells.map((c) => c.id), ['proxy=sluice']);
  assert.deepEqual(flags.excluded, [{ id: 'proxy=haproxy', reason: "haproxy: keepalive-race sets our proxy's own flags (--retries 0)" }]);
  // What no matrix can run comes before the proxy's reasons, and the proxy's before the matrix's own.
  const order = expandCells(matrix('proxy: [haproxy]', 'protocol: h2\nscenario: keepalive-race\nexclude: [{proxy: haproxy, reason: mine}]\n'));
  assert.match(order.excluded[0]!.reason, /keepalive-race runs on h1 only/);
});

test('our driver supports every cell; every registered driver is named as its registry key', () => {
  const adaptive: CellParams = { ...AXIS_DEFAULTS, adaptive: true, connWindow: 65_535, h1Reissue: false };
  assert.equal(unsupportedReason('sluice', adaptive, { discovery: true, extraFlags: ['--retries', '0'] }), undefined);
  // Our proxy under its engine names runs every cell too, with --engine forced (before a scenario's own flags).
  const spec = (extraFlags: string[]): ProxyCellSpec => ({
    params: adaptive, listen: '127.0.0.1:1', admin: '127.0.0.1:2', discovery: { endpoints: ['127.0.0.1:3'] }, upstreamProtocol: 'h2', extraFlags, workDir: '/nonexistent',
  });
  for (const [name, engine] of [['sluice-node', 'node'], ['sluice-wire', 'wire']] as const) {
    assert.equal(unsupportedReason(name, adaptive, { discovery: true, extraFlags: ['--retries', '0'] }), undefined);
    const command = PROXY_DRIVERS[name].configure(spec(['--retries', '0'])).command;
    assert.deepEqual(command.slice(command.indexOf('--engine'), command.indexOf('--engine') + 4), ['--engine', engine, '--retries', '0']);
  }
  assert.ok(!PROXY_DRIVERS.sluice.configure(spec([])).command.includes('--engine'), 'sluice runs the proxy default engine');
  for (const name of PROXY_NAMES) {
    assert.equal(PROXY_DRIVERS[name].name, name);
    // The axis's own value is never a reason to exclude (every driver runs a cell at the defaults).
    assert.equal(unsupportedReason(name, { ...AXIS_DEFAULTS, proxy: name, connWindow: 2_147_483_647 }, { discovery: false, extraFlags: [] }), undefined);
  }
});

test("our driver's command line for a cell: the fixture of flags, passed as before the drivers", async () => {
  const params: CellParams = { ...AXIS_DEFAULTS, streamWindow: 1_048_576, connWindow: 16_777_216, adaptive: true, h1Reissue: false, failfastMs: 500 };
  const fixture = [
    '--listen', '127.0.0.1:4000',
    '--admin', '127.0.0.1:4001',
    '--endpoints', '127.0.0.1:5000,127.0.0.1:5001',
    '--upstream-protocol', 'auto',
    '--stream-window', '1048576',
    '--conn-window', '16777216',
    '--h1-reissue', 'off',
    '--failfast', '500ms',
    '--retries', '0',
    '--adaptive',
  ];
  const spec = { params, listen: '127.0.0.1:4000', admin: '127.0.0.1:4001', discovery: { endpoints: ['127.0.0.1:5000', '127.0.0.1:5001'] }, upstreamProtocol: 'h2' as const, extraFlags: ['--retries', '0'], workDir: '/nowhere' };
  assert.deepEqual(proxyArgs(params, spec.listen, spec.admin, spec.discovery, spec.extraFlags), fixture);
  assert.deepEqual(sluiceDriver().configure(spec), { command: [process.execPath, DEFAULT_PROXY_MAIN, ...fixture] });
  assert.deepEqual(sluiceDriver('/tmp/stand-in.mjs').configure(spec).command.slice(0, 2), [process.execPath, '/tmp/stand-in.mjs']);
  assert.deepEqual(mitigationArgs(AXIS_DEFAULTS), [], 'a default cell passes no mitigation flag');
  // Discovery from a control plane (ours only).
  const cp = proxyArgs(AXIS_DEFAULTS, 'l', 'a', { destination: '127.0.0.1:7000', service: 'green', idleServices: ['blue'] });
  assert.deepEqual(cp.slice(4, 12), ['--destination', '127.0.0.1:7000', '--service', 'green', '--control-conn-window', '1048576', '--idle-services', 'blue']);
  // The spec the topology gives a driver: free ports, the cell's upstream protocol.
  const built = await proxyCellSpec({ ...AXIS_DEFAULTS, protocol: 'h1' }, { endpoints: ['127.0.0.1:1'] }, [], '/w');
  assert.match(built.listen, /^127\.0\.0\.1:\d+$/);
  assert.notEqual(built.listen, built.admin);
  assert.equal(built.upstreamProtocol, 'h1');
  assert.equal((await proxyCellSpec({ ...AXIS_DEFAULTS, protocol: 'grpc' }, { endpoints: [] }, [], '/w')).upstreamProtocol, 'h2');
});

test("a proxy's version is asked once per run", async () => {
  const first = proxyVersion('sluice');
  assert.equal(proxyVersion('sluice'), first, 'the same answer, not a second question');
  assert.equal(await first, sluiceVersion());
});

test('the run names its proxy: ours, the one other, or mixed with each version', () => {
  const git = { commit: 'abc', dirty: false };
  const v = sluiceVersion();
  assert.deepEqual(sluiceComponents({ generator: 'sluice' }, git).proxy, { name: 'sluice-proxy', version: v, revision: 'abc' });
  assert.deepEqual(sluiceComponents({ generator: 'sluice' }, git, undefined, [{ name: 'sluice', version: v }]).proxy, { name: 'sluice-proxy', version: v, revision: 'abc' });
  assert.deepEqual(sluiceComponents({ generator: 'sluice' }, git, undefined, [{ name: 'nghttpx', version: 'nghttpx nghttp2/1.52.0' }]).proxy, { name: 'nghttpx', version: 'nghttpx nghttp2/1.52.0', revision: null });
  assert.deepEqual(sluiceComponents({ generator: 'sluice' }, git, undefined, [{ name: 'sluice', version: v }, { name: 'haproxy', version: '2.6.12' }]).proxy, {
    name: 'mixed',
    version: `sluice: ${v}; haproxy: 2.6.12`,
    revision: 'abc',
  });
});

test("another proxy's metrics over a repetition: counters' increases (zeros left out), gauges at the end, by name", () => {
  const before = parsePrometheusText(['# TYPE x counter', 'px_requests_total{fe="a"} 10', 'px_requests_total{fe="b"} 5', 'px_idle_total 3', 'px_restarted_total 50', 'px_lat_bucket{le="1"} 2'].join('\n'));
  const after = parsePrometheusText(
    ['px_requests_total{fe="a"} 17', 'px_requests_total{fe="b"} 6', 'px_new_total{x="1"} 4', 'px_idle_total 3', 'px_restarted_total 2', 'px_lat_bucket{le="1"} 5', 'px_sessions{fe="a"} 2', 'px_sessions{fe="b"} 1', 'px_limit 0', 'px_nan NaN', 'px_inf +Inf'].join('\n'),
  );
  assert.deepEqual(nativeDelta(before, after), { px_lat_bucket: 3, px_limit: 0, px_new_total: 4, px_requests_total: 8, px_restarted_total: 2, px_sessions: 3 });
});

test("the proxy's Prometheus target is its metrics URL: another path or a query become file_sd labels", () => {
  assert.deepEqual(scrapeLabels('http://127.0.0.1:9000/metrics'), {});
  assert.deepEqual(scrapeLabels('http://127.0.0.1:9000/stats/prometheus?scope=frontend&scope=backend&x=1'), { __metrics_path__: '/stats/prometheus', __param_scope: 'frontend', __param_x: '1' });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sd-'));
  const sd = new FileSdTargets(dir, 'm');
  sd.onEvent({ type: 'cell-start', index: 0, todo: 1, id: 'proxy=haproxy', params: { ...AXIS_DEFAULTS, proxy: 'haproxy' } });
  sd.onEvent({ type: 'cell-targets', id: 'proxy=haproxy', targets: { proxyMetricsUrl: 'http://127.0.0.1:9000/prom', links: [] } });
  const [group] = JSON.parse(readFileSync(join(dir, 'proxy.json'), 'utf8')) as { targets: string[]; labels: Record<string, string> }[];
  assert.deepEqual(group!.targets, ['127.0.0.1:9000']);
  assert.equal(group!.labels['__metrics_path__'], '/prom');
  assert.equal(group!.labels['cell'], 'proxy=haproxy');
  // A proxy without metrics (nghttpx) leaves the job without a target.
  sd.onEvent({ type: 'cell-targets', id: 'proxy=nghttpx', targets: { links: [] } });
  sd.onEvent({ type: 'run-done', results: {} as never, interrupted: false });
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'proxy.json'), 'utf8')), []);
});

test('a program of another make is pinned like ours: taskset -c before it', () => {
  assert.deepEqual(pinnedExecutable('nghttpx', ['--conf', 'x'], [0, 1]), ['taskset', ['-c', '0-1', 'nghttpx', '--conf', 'x']]);
  assert.deepEqual(pinnedExecutable('nghttpx', ['--conf', 'x'], undefined), ['nghttpx', ['--conf', 'x']]);
});

test('the shipped proxies matrix: three proxies over the same 48 cells each, the connection window out of the way', () => {
  const { spec } = loadMatrix('proxies');
  assert.deepEqual(spec.axes.proxy, ['sluice', 'nghttpx', 'haproxy']);
  assert.deepEqual(spec.axes.concurrency, [1, 8, 64, 256]);
  assert.deepEqual(spec.axes.protocol, ['h2', 'grpc']);
  assert.deepEqual(spec.axes.responseBytes, [1024, 1048576]);
  assert.deepEqual(spec.axes.rttMs, [0, 20]);
  assert.deepEqual(spec.axes.streamWindow, [65535, 1048576]);
  const e = expandCells(spec);
  assert.equal(e.cells.length + e.excluded.length, 3 * 4 * 2 * 2 * 2 * 2);
  const ours = e.cells.filter((c) => c.params.proxy === 'sluice');
  assert.equal(ours.length, 4 * 2 * 2 * 3, '1 MiB with both windows, 1 KiB with 64 KiB only');
  assert.ok(e.cells.every((c) => c.params.connWindow === 2 ** 31 - 1 && c.params.link === 'upstream' && c.params.target === 'proxy'));
  // Each proxy has the same cells, or says why not (a driver's reason may come before the matrix's own).
  const tiny = (id: string): boolean => /responseBytes=1024,.*streamWindow=1048576/.test(id);
  assert.equal([...e.cells.map((c) => c.id), ...e.excluded.map((x) => x.id)].filter((id) => !tiny(id)).length, 3 * ours.length);
  assert.ok(e.excluded.every((x) => tiny(x.id) || x.reason.startsWith('nghttpx: ') || x.reason.startsWith('haproxy: ')), 'only the 1 KiB x 1 MiB cells, or a proxy saying why');
  // The smoke run's slice (scripts/smoke-matrices.ts): every proxy, protocol, payload and window, 18 cells.
  const slice = expandCells(restrictAxes(spec, ['concurrency=64', 'rttMs=20']));
  assert.equal([...slice.cells.map((c) => c.id), ...slice.excluded.map((x) => x.id)].filter((id) => !tiny(id)).length, 18);
});

test("the harness's DEFAULT_ENGINE is the proxy's own --engine default (the harness reads the proxy through its command line only)", () => {
  const help = execFileSync(process.execPath, [DEFAULT_PROXY_MAIN, '--help'], { encoding: 'utf8' });
  const line = help.split('\n').find((l) => l.trimStart().startsWith('--engine'));
  assert.ok(line, '--help lists --engine');
  assert.match(line, new RegExp(`default: ${DEFAULT_ENGINE}$`));
});
