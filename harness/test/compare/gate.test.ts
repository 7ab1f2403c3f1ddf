import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateGate, GateInputError } from '../../compare/gate.js';
import { formatGateReport } from '../../output/gate-report.js';
import { around, fixtureRun, TWO_CELLS, type RepValues } from '../helpers/results-fixture.js';

const H2 = 'concurrency=8,protocol=h2';
type Reps = (id: string) => RepValues[] | undefined;
const gate = (a: Reps, b: Reps, yamlA = TWO_CELLS, yamlB = TWO_CELLS) =>
  evaluateGate({ file: 'base.json', results: fixtureRun(yamlA, a) }, { file: 'cand.json', results: fixtureRun(yamlB, b, 'run-b') });
const steady: Reps = () => around(1000, 5).map((rps) => ({ rps, p99: 2 }));

test('A/A passes, exit 0', () => {
  const g = gate(steady, steady);
  assert.equal(g.outcome, 'pass');
  assert.equal(g.exitCode, 0);
  // rps and p99 relative, rstRate absolute, in each of the two cells.
  assert.equal(g.checks.length, 6);
});

test('a 20% RPS drop past a 5% limit fails, naming the cell, the metric, the change and its interval', () => {
  const g = gate(steady, (id) => around(id === H2 ? 800 : 1000, 5).map((rps) => ({ rps, p99: 2 })));
  assert.equal(g.exitCode, 1);
  const failed = g.checks.filter((c) => c.outcome === 'fail');
  assert.deepEqual(failed.map((c) => [c.cell, c.metric]), [[H2, 'rps']]);
  const report = formatGateReport(g);
  assert.match(report, /^# sluice gate: FAIL \(1 check failed in 1 cell\)/);
  assert.match(report, /- concurrency=8,protocol=h2 RPS: 1,000 rps -> 800 rps \(-20\.0%, 95% interval -20\.\d% \.\. -19\.\d%, p = 0\.008\), limit -5\.0%/);
});

test('a significant drop whose interval reaches inside the limit passes: the limit needs statistical support', () => {
  // -4% on average against a 5% limit: significant, but not past the limit.
  const g = gate(steady, () => around(960, 5).map((rps) => ({ rps, p99: 2 })));
  const rps = g.checks.find((c) => c.metric === 'rps' && c.cell === H2)!;
  assert.equal(rps.comparison!.verdict, 'worse');
  assert.equal(rps.outcome, 'pass');
  assert.equal(g.exitCode, 0);
});

test('P99 rising past its limit fails', () => {
  const g = gate(steady, () => around(1000, 5).map((rps, i) => ({ rps, p99: 3 + i * 0.01 })));
  assert.deepEqual(g.checks.filter((c) => c.outcome === 'fail').map((c) => c.metric), ['p99', 'p99']);
});

test('absolute rates: an RST rate above its max fails over all the requests, whatever the baseline', () => {
  const g = gate(steady, (id) => around(1000, 5).map((rps) => ({ rps, p99: 2, rstRate: id === H2 ? 0.002 : 0 })));
  const f = g.checks.filter((c) => c.outcome === 'fail');
  assert.deepEqual(f.map((c) => [c.cell, c.metric, c.kind]), [[H2, 'rstRate', 'absolute']]);
  assert.match(formatGateReport(g), /concurrency=8,protocol=h2 rstRate: 2\.0e-3 over all requests, above the limit 1\.0e-3 \(baseline 0\)/);
});

test('three repetitions a side: not enough repetitions, exit 3, said plainly', () => {
  const three: Reps = () => around(1000, 3).map((rps) => ({ rps }));
  const g = gate(three, () => around(500, 3).map((rps) => ({ rps })));
  assert.equal(g.outcome, 'not enough repetitions');
  assert.equal(g.exitCode, 3);
  assert.match(formatGateReport(g), /the smallest p-value they can give is 0\.100, not below 0\.050; run at least 4 per side/);
});

test('a cell that failed in the candidate fails the gate; one that failed in the baseline is listed as not gated', () => {
  const g = gate(steady, (id) => (id === H2 ? undefined : steady(id)));
  assert.equal(g.exitCode, 1);
  assert.match(formatGateReport(g), /concurrency=8,protocol=h2: the cell failed in the candidate: proxy exited with code 1/);
  const h = gate((id) => (id === H2 ? undefined : steady(id)), steady);
  assert.equal(h.exitCode, 0);
  assert.deepEqual(h.notGated, [`${H2}: failed in the baseline`]);
});

test('unusable pairs are refused: another matrix, changed axes, no gates', () => {
  assert.throws(() => gate(steady, steady, TWO_CELLS, TWO_CELLS.replace('name: fixture', 'name: other')), (e: Error) => e instanceof GateInputError && /of matrix fixture, candidate cand.json of matrix other/.test(e.message));
  assert.throws(() => gate(steady, steady, TWO_CELLS, TWO_CELLS.replace('concurrency: [8]', 'concurrency: [8, 64]')), /axes changed .*concurrency \["8"\] -> \["64","8"\]/);
  const noGates = TWO_CELLS.slice(0, TWO_CELLS.indexOf('gates:'));
  assert.throws(() => gate(steady, steady, noGates, noGates), /has no gates: nothing to check/);
});

test('gates read from an older results file with percentage strings still work', () => {
  const a = fixtureRun(TWO_CELLS, steady);
  const b = fixtureRun(TWO_CELLS, steady, 'run-b');
  (b.run.matrix.spec as unknown as { gates: unknown }).gates = { rps: { maxDrop: '5%' } };
  const g = evaluateGate({ file: 'a', results: a }, { file: 'b', results: b });
  assert.equal(g.gates.rps?.maxDrop, 0.05);
  assert.equal(g.checks.length, 2);
});
