import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareRuns } from '../../compare/compare-runs.js';
import { formatCompareMarkdown } from '../../output/compare-markdown.js';
import { around, fixtureRun, TWO_CELLS } from '../helpers/results-fixture.js';

const H1 = 'concurrency=8,protocol=h1';
const H2 = 'concurrency=8,protocol=h2';
const load = (results: ReturnType<typeof fixtureRun>, file: string) => ({ file, results });

test('a clear drop is worse, a flat cell no change; the ratio is B/A of the means', () => {
  const a = fixtureRun(TWO_CELLS, () => around(1000, 5).map((rps) => ({ rps, p99: 2 })));
  const b = fixtureRun(TWO_CELLS, (id) => around(id === H2 ? 800 : 1000, 5).map((rps) => ({ rps, p99: 2 })), 'run-b');
  const c = compareRuns(load(a, 'a.json'), load(b, 'b.json'));
  const h2 = c.cells.find((x) => x.id === H2)!.metrics.find((m) => m.metric === 'rps')!;
  assert.ok(Math.abs(h2.ratio - 0.8) < 1e-12);
  assert.equal(h2.verdict, 'worse');
  assert.ok(h2.ci[1] < 1 && h2.p < 0.05);
  const h1 = c.cells.find((x) => x.id === H1)!.metrics.find((m) => m.metric === 'rps')!;
  assert.equal(h1.verdict, 'no change');
  assert.equal(c.cells.find((x) => x.id === H2)!.metrics.find((m) => m.metric === 'p99')!.verdict, 'no change');
});

test('lower latency is better; three repetitions a side are never enough at 95%', () => {
  const a = fixtureRun(TWO_CELLS, () => around(1000, 5).map((rps, i) => ({ rps, p99: 10 + i * 0.1 })));
  const b = fixtureRun(TWO_CELLS, () => around(1000, 5).map((rps, i) => ({ rps, p99: 5 + i * 0.1 })));
  const p99 = compareRuns(load(a, 'a'), load(b, 'b')).cells[0]!.metrics.find((m) => m.metric === 'p99')!;
  assert.equal(p99.verdict, 'better');
  const a3 = fixtureRun(TWO_CELLS, () => around(1000, 3).map((rps) => ({ rps })));
  const b3 = fixtureRun(TWO_CELLS, () => around(500, 3).map((rps) => ({ rps })));
  const few = compareRuns(load(a3, 'a'), load(b3, 'b'));
  assert.ok(few.cells.every((cell) => cell.metrics.every((m) => m.verdict === 'not enough repetitions')));
  assert.equal(few.minReps, 4);
});

test('seeded: the same input gives the same output', () => {
  const a = fixtureRun(TWO_CELLS, () => [1000, 1030, 990, 1010, 970].map((rps) => ({ rps })));
  const b = fixtureRun(TWO_CELLS, () => [1000, 960, 1005, 940, 985].map((rps) => ({ rps })));
  assert.deepEqual(compareRuns(load(a, 'a'), load(b, 'b')), compareRuns(load(a, 'a'), load(b, 'b')));
  assert.equal(formatCompareMarkdown(compareRuns(load(a, 'a'), load(b, 'b'))), formatCompareMarkdown(compareRuns(load(a, 'a'), load(b, 'b'))));
});

test('cells on one side only are listed, failed cells are not compared, direct cells have no proxy CPU', () => {
  const wide = TWO_CELLS.replace('concurrency: [8]', 'concurrency: [8, 64]');
  const a = fixtureRun(TWO_CELLS, (id) => (id === H1 ? undefined : around(1000, 5).map((rps) => ({ rps, cpuS: 0.2 }))));
  const b = fixtureRun(wide, () => around(1000, 5).map((rps) => ({ rps })));
  const c = compareRuns(load(a, 'a'), load(b, 'b'));
  assert.deepEqual(c.onlyInB.sort(), ['concurrency=64,protocol=h1', 'concurrency=64,protocol=h2']);
  assert.deepEqual(c.onlyInA, []);
  assert.equal(c.cells.find((x) => x.id === H1)!.status, 'failed in A');
  const h2 = c.cells.find((x) => x.id === H2)!;
  assert.equal(h2.status, 'compared');
  assert.ok(!h2.metrics.some((m) => m.metric === 'cpuPerRequest'), 'B has no proxy record, so no CPU comparison');
  const md = formatCompareMarkdown(c);
  assert.match(md, /## Only in B\n\n- concurrency=64,protocol=h1/);
  assert.match(md, /concurrency=8,protocol=h1: failed in A \(proxy exited with code 1\)/);
});

test('proxy CPU per request is CPU seconds over requests, in µs; zero error rates print as such', () => {
  const a = fixtureRun(TWO_CELLS, () => around(1000, 5, 0).map((rps) => ({ rps, requests: 1000, cpuS: 0.2 })));
  const b = fixtureRun(TWO_CELLS, () => around(1000, 5, 0).map((rps) => ({ rps, requests: 1000, cpuS: 0.3 })));
  const cpu = compareRuns(load(a, 'a'), load(b, 'b')).cells[0]!.metrics.find((m) => m.metric === 'cpuPerRequest')!;
  assert.ok(Math.abs(cpu.a.mean - 200) < 1e-9 && Math.abs(cpu.b.mean - 300) < 1e-9);
  assert.match(formatCompareMarkdown(compareRuns(load(a, 'a'), load(b, 'b'))), /\| 0 both = \|/);
});

test('differences between the two runs settings are named', () => {
  const a = fixtureRun(TWO_CELLS, () => around(1000, 5).map((rps) => ({ rps })));
  const b = fixtureRun(TWO_CELLS.replace('protocol: h2\n', 'protocol: h2\nbackend: {latency: {dist: fixed, ms: 3}}\n'), () => around(1000, 5).map((rps) => ({ rps })));
  const c = compareRuns(load(a, 'a'), load(b, 'b'));
  assert.equal(c.differences.length, 1);
  assert.match(c.differences[0]!, /^backend: .*"ms":0.* -> .*"ms":3/);
});
