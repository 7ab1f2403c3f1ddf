import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMatrix, loadMatrix } from '../matrix/load.js';
import { expandCells, restrictAxes, cellId } from '../matrix/cells.js';
import { MatrixError } from '../matrix/errors.js';

const BASE = `
name: t
protocol: h2
duration: 1s
axes:
  concurrency: [1, 8]
  endpoints: [1, 10, 100]
`;

test('cells are the cartesian product of the axes', () => {
  const { cells, excluded } = expandCells(parseMatrix(BASE, 't.yaml'));
  assert.equal(cells.length, 6);
  assert.equal(excluded.length, 0);
  assert.deepEqual(
    cells.map((c) => [c.params.concurrency, c.params.endpoints]),
    [[1, 1], [1, 10], [1, 100], [8, 1], [8, 10], [8, 100]],
  );
  // unswept axes take the defaults (linkerd's windows)
  assert.equal(cells[0]!.params.streamWindow, 65535);
  assert.equal(cells[0]!.params.connWindow, 1048576);
  assert.equal(cells[0]!.params.protocol, 'h2');
});

test('exclusions remove matching cells and keep their reason', () => {
  const spec = parseMatrix(
    BASE + `exclude:\n  - {concurrency: 8, endpoints: [10, 100], reason: too slow}\n  - {endpoints: 1, concurrency: 1}\n`,
    't.yaml',
  );
  const { cells, excluded } = expandCells(spec);
  assert.deepEqual(cells.map((c) => c.id), ['concurrency=1,endpoints=10', 'concurrency=1,endpoints=100', 'concurrency=8,endpoints=1']);
  assert.equal(excluded.length, 3);
  assert.equal(excluded.find((e) => e.id === 'concurrency=8,endpoints=10')?.reason, 'too slow');
  assert.equal(excluded.find((e) => e.id === 'concurrency=1,endpoints=1')?.reason, 'excluded by the matrix');
});

test('a cell id depends on the axis values alone, not on key order or backend settings', () => {
  const a = expandCells(parseMatrix(BASE, 'a.yaml')).cells.map((c) => c.id);
  const reordered = `name: t\nduration: 1s\nbackend: {responseBytes: 99}\naxes:\n  endpoints: [1, 10, 100]\n  concurrency: [1, 8]\n`;
  const b = expandCells(parseMatrix(reordered, 'b.yaml')).cells.map((c) => c.id);
  assert.deepEqual([...a].sort(), [...b].sort());
  assert.equal(cellId({ streamWindow: 65535, adaptive: false }), 'adaptive=false,streamWindow=65535');
});

function rejects(yaml: string, ...patterns: RegExp[]) {
  assert.throws(
    () => parseMatrix(yaml, '/x/bad.yaml'),
    (e: unknown) => {
      assert.ok(e instanceof MatrixError, `expected MatrixError, got ${String(e)}`);
      assert.match(e.message, /\/x\/bad\.yaml/);
      for (const p of patterns) assert.match(e.message, p);
      return true;
    },
  );
}

test('refuses an unknown key, naming its path', () => {
  rejects(BASE + 'concurrncy: 3\n', /concurrncy: unknown key/);
  rejects(BASE.replace('endpoints:', 'endpointz:'), /axes\.endpointz: unknown key/);
  rejects(BASE + 'backend: {latency: {dist: fixed, ms: 1}, bytes: 3}\n', /backend\.bytes: unknown key/);
});

test('refuses a wrong type, naming the key path and what was expected', () => {
  rejects(BASE.replace('[1, 8]', '[1, "eight"]'), /axes\.concurrency\.1/, /number/);
  rejects(BASE.replace('duration: 1s', 'duration: 10'), /duration/);
  rejects(BASE.replace('duration: 1s', 'duration: soon'), /duration: expected a duration/);
  rejects(BASE.replace('protocol: h2', 'protocol: h3'), /protocol/);
  rejects(BASE + 'reps: 0\n', /reps/);
  rejects(BASE.replace('endpoints: [1, 10, 100]', 'streamWindow: [4294967296]'), /axes\.streamWindow\.0/);
});

test('refuses an empty axis and a missing name', () => {
  rejects(BASE.replace('[1, 8]', '[]'), /axes\.concurrency/);
  rejects(BASE.replace('name: t', ''), /name/);
});

test('refuses YAML that does not parse, with the line', () => {
  rejects('name: t\naxes: [unclosed\n', /bad\.yaml:\d+:\d+: not valid YAML/);
  rejects('name: t\nname: u\nduration: 1s\naxes: {concurrency: [1]}\n', /not valid YAML/);
});

test('--only restricts an axis and refuses unknown axes or values', () => {
  const spec = parseMatrix(BASE, 't.yaml');
  const { cells } = expandCells(restrictAxes(spec, ['concurrency=8', 'endpoints=1,100']));
  assert.deepEqual(cells.map((c) => c.id), ['concurrency=8,endpoints=1', 'concurrency=8,endpoints=100']);
  assert.throws(() => restrictAxes(spec, ['concurrency=3']), /--only concurrency=3: 3 is not a value of axis concurrency/);
  assert.throws(() => restrictAxes(spec, ['color=red']), /unknown axis "color"/);
  assert.throws(() => restrictAxes(spec, ['streamWindow=65535']), /does not sweep "streamWindow"/);
  assert.throws(() => restrictAxes(spec, ['concurrency']), /expected axis=value/);
});

test('the shipped matrices load: quick has 8 cells; h2 sweeps seed 004 over links and payloads; flow is the BDP ramp', () => {
  const quick = expandCells(loadMatrix('quick').spec);
  assert.equal(quick.cells.length, 8);
  assert.deepEqual([...new Set(quick.cells.map((c) => c.params.protocol))].sort(), ['h1', 'h2']);
  const h2 = loadMatrix('h2');
  assert.deepEqual(h2.spec.axes.streamWindow, [65535, 262144, 1048576]);
  assert.deepEqual(h2.spec.axes.connWindow, [1048576, 4194304, 16777216]);
  assert.deepEqual(h2.spec.axes.concurrency, [1, 8, 64, 256]);
  assert.deepEqual(h2.spec.axes.rttMs, [0, 10, 50]);
  assert.deepEqual(h2.spec.axes.responseBytes, [1024, 1048576]);
  const e = expandCells(h2.spec);
  const big = e.cells.filter((c) => c.params.responseBytes === 1048576);
  // 1 MiB: 9 fixed window pairs + adaptive from 64 KiB over 3 connection windows, x 4 concurrencies x 3 links.
  assert.equal(big.length, 12 * 4 * 3);
  assert.ok(e.cells.every((c) => c.params.adaptive === false || c.params.streamWindow === 65535));
  // 1 KiB: the default windows only, fixed and adaptive.
  assert.equal(e.cells.length - big.length, 2 * 4 * 3);
  assert.ok(e.cells.every((c) => c.params.clientStreamWindow === 16 * 1024 * 1024 && c.params.backendConnWindow === 16 * 1024 * 1024));
  assert.ok(e.excluded.every((x) => /adaptive windows start from the default|1 KiB responses never fill a window/.test(x.reason)));
  const flow = expandCells(loadMatrix('flow').spec);
  assert.deepEqual(flow.cells.map((c) => c.id), ['adaptive=false,rttMs=16', 'adaptive=false,rttMs=64', 'adaptive=true,rttMs=16', 'adaptive=true,rttMs=64']);
  assert.ok(flow.cells.every((c) => c.params.responseBytes === 1048576 && c.params.protocol === 'grpc' && c.params.streamWindow === 65535));
});

test('a matrix path is read from disk and an unknown name lists the known ones', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-matrix-'));
  const file = join(dir, 'mine.yaml');
  writeFileSync(file, BASE);
  const loaded = loadMatrix(file);
  assert.equal(loaded.file, file);
  assert.match(loaded.sha256, /^[0-9a-f]{64}$/);
  assert.throws(() => loadMatrix('no-such-matrix'), /--matrix no-such-matrix: no such file .*known matrices: .*quick/);
});

test('every axis of the registry is accepted under axes, defaults and exclude, and its values typed', async () => {
  const { AXES, AXIS_NAMES } = await import('../matrix/axes.js');
  for (const name of AXIS_NAMES) {
    const value = JSON.stringify(AXES[name].default);
    const spec = parseMatrix(`name: t\nduration: 1s\naxes:\n  ${name}: [${value}]\nexclude:\n  - {${name}: ${value}, reason: r}\n`, 't.yaml');
    assert.equal(expandCells(spec).excluded.length, 1, name);
    if (name === 'protocol' || name === 'scenario') continue;
    const other = name === 'target' ? 'endpoints' : 'target';
    const fixed = parseMatrix(`name: t\nduration: 1s\ndefaults: {${name}: ${value}}\naxes: {${other}: [${JSON.stringify(AXES[other].default)}]}\n`, 't.yaml');
    assert.deepEqual(expandCells(fixed).cells[0]!.params[name], AXES[name].default, name);
  }
  rejects(`name: t\nduration: 1s\naxes: {rttMs: [-1]}\n`, /axes\.rttMs\.0/);
  rejects(`name: t\nduration: 1s\naxes: {link: [sideways]}\n`, /axes\.link\.0/);
});

test('the wind axes: links, payloads and every hop\'s windows default as documented and can be swept', () => {
  const spec = parseMatrix(
    `name: t\nduration: 1s\nbackend: {responseBytes: 1048576}\ndefaults: {rttMs: 40, link: both}\naxes:\n  clientStreamWindow: [65535, 16777216]\n  bandwidthMbps: [0, 80]\n`,
    't.yaml',
  );
  const [first] = expandCells(spec).cells;
  assert.equal(first!.params.responseBytes, 1048576, 'backend.responseBytes is every cell\'s responseBytes');
  assert.equal(first!.params.rttMs, 40);
  assert.equal(first!.params.link, 'both');
  assert.equal(first!.params.backendStreamWindow, 16 * 1024 * 1024, 'backends default to large windows');
  assert.equal(first!.params.clientConnWindow, 16 * 1024 * 1024, 'so does the generator');
  assert.equal(first!.params.jitterMs, 0);
  assert.equal(first!.id, 'bandwidthMbps=0,clientStreamWindow=65535');
  assert.deepEqual(
    expandCells(restrictAxes(spec, ['bandwidthMbps=80'])).cells.map((c) => c.id),
    ['bandwidthMbps=80,clientStreamWindow=65535', 'bandwidthMbps=80,clientStreamWindow=16777216'],
  );
});

test('a value given twice, or a default for a swept axis, is refused with both keys named', () => {
  rejects(`name: t\nduration: 1s\nbackend: {responseBytes: 10}\ndefaults: {responseBytes: 20}\naxes: {concurrency: [1]}\n`, /defaults\.responseBytes: given twice: also backend\.responseBytes/);
  rejects(`name: t\nduration: 1s\nrequest: {bodyBytes: 10}\ndefaults: {requestBytes: 20}\naxes: {concurrency: [1]}\n`, /defaults\.requestBytes: given twice: also request\.bodyBytes/);
  rejects(`name: t\nduration: 1s\ndefaults: {concurrency: 4}\naxes: {concurrency: [1]}\n`, /defaults\.concurrency: concurrency is swept/);
  rejects(`name: t\nduration: 1s\ndefaults: {protocol: h1}\naxes: {concurrency: [1]}\n`, /defaults\.protocol: protocol is set at the top level/);
});

test('the README documents every axis of the registry', async () => {
  const { AXIS_NAMES } = await import('../matrix/axes.js');
  const { readFileSync } = await import('node:fs');
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  for (const name of AXIS_NAMES) assert.match(readme, new RegExp(`^\\| [^|]*\`${name}\``, 'm'), `README axes table lacks ${name}`);
});
