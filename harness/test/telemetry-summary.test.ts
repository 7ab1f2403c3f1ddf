// The pushed summaries' samples (telemetry/README.md "Pushed summaries") and their OpenMetrics export, from a
// hand-built run: names, labels, values against the run's own numbers, gate lines, escaping and ordering.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CellResult, RunResults } from '../results/model.js';
import { cellLabels, gitRevisionLabel } from '../telemetry/cell-labels.js';
import { escapeLabelValue, formatOpenMetrics } from '../telemetry/openmetrics.js';
import { cellSummarySamples, SUMMARY_METRICS, type CellSamples, type SummarySample } from '../telemetry/summary-metrics.js';
import { telemetryRun } from './helpers/telemetry-fixture.js';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-02T12:00:00.500Z';

function only(group: CellSamples, name: string, labels: Record<string, string> = {}): SummarySample {
  const found = group.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.equal(found.length, 1, `${group.grouping.cell}: one ${name} ${JSON.stringify(labels)}, found ${found.length}`);
  return found[0]!;
}

const okCells = (r: RunResults): CellResult[] => r.cells.filter((c) => c.status === 'ok');
const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test('cellLabels: the contract’s cell labels, values printed as the params print them', async () => {
  const r = await telemetryRun('a', T0);
  const cell = r.cells[0]!;
  assert.deepEqual(cellLabels('fixture', cell), {
    matrix: 'fixture',
    cell: cell.id,
    protocol: 'h2',
    stream_window: String(cell.params.streamWindow),
    conn_window: String(cell.params.connWindow),
    adaptive: 'false',
    concurrency: String(cell.params.concurrency),
    endpoints: '1',
    rtt_ms: '0',
  });
  assert.equal(gitRevisionLabel({ commit: 'abc', dirty: true }), 'abc-dirty');
  assert.equal(gitRevisionLabel({ commit: 'abc', dirty: false }), 'abc');
  assert.equal(gitRevisionLabel(null), 'unknown');
});

test('one group per ok cell, keyed job/instance/matrix/cell, with every sample the contract names', async () => {
  const r = await telemetryRun('run-a', T0);
  const groups = cellSummarySamples(r, { host: 'bench-1' });
  assert.equal(groups.length, okCells(r).length);
  assert.equal(okCells(r).length, r.cells.length - 1, 'the fixture has a failed cell, which pushes nothing');
  for (const [i, cell] of okCells(r).entries()) {
    const g = groups[i]!;
    const s = cell.summary!;
    assert.deepEqual(g.grouping, { job: 'sluice', instance: 'bench-1', matrix: 'fixture', cell: cell.id });
    for (const sample of g.samples) {
      assert.deepEqual({ ...sample.labels, ...cellLabels('fixture', cell) }, sample.labels, 'every sample carries the cell labels');
      assert.equal(sample.help, SUMMARY_METRICS[sample.name]);
      assert.ok(!('job' in sample.labels) && !('instance' in sample.labels), 'job and instance come from the grouping key');
    }
    assert.equal(only(g, 'sluice_cell_rps').value, s.rps.mean);
    assert.equal(only(g, 'sluice_cell_latency_seconds', { quantile: '0.5' }).value, s.latencyMs.p50 / 1000);
    assert.equal(only(g, 'sluice_cell_latency_seconds', { quantile: '0.99' }).value, s.latencyMs.p99 / 1000);
    assert.equal(only(g, 'sluice_cell_latency_seconds', { quantile: '0.999' }).value, s.latencyMs.p999 / 1000);
    assert.equal(only(g, 'sluice_cell_rst_ratio').value, s.rstRate.mean);
    assert.equal(only(g, 'sluice_cell_error_ratio').value, s.errorRate.mean);
    // report.md's proxy CPU µs/req: all CPU over all requests.
    const cpu = cell.reps.reduce((a, rep) => a + rep.proxy!.cpuS, 0) / cell.reps.reduce((a, rep) => a + rep.requests, 0);
    assert.ok(Math.abs(only(g, 'sluice_cell_proxy_cpu_seconds_per_request').value - cpu) < 1e-15);
    assert.equal(only(g, 'sluice_cell_measured_timestamp_seconds').value, Date.parse(T0) / 1000);
    assert.deepEqual(only(g, 'sluice_nightly_run_info').labels, { ...cellLabels('fixture', cell), run_id: 'run-a', git_revision: 'f'.repeat(40) });
    assert.equal(only(g, 'sluice_nightly_run_info').value, 1);
  }
});

test('a scenario cell’s headline: scenario, name, unit and better as labels, the median as value', async () => {
  const r = await telemetryRun('a', T0);
  const groups = cellSummarySamples(r, { host: 'h' });
  const withHeadline = okCells(r).filter((c) => c.summary!.headline);
  assert.equal(withHeadline.length, 2);
  for (const cell of okCells(r)) {
    const g = groups.find((x) => x.grouping.cell === cell.id)!;
    const h = cell.summary!.headline;
    const samples = g.samples.filter((s) => s.name === 'sluice_cell_headline');
    if (!h) {
      assert.equal(samples.length, 0);
      continue;
    }
    assert.equal(samples.length, 1);
    assert.equal(samples[0]!.value, h.value);
    assert.deepEqual(
      { scenario: samples[0]!.labels.scenario, name: samples[0]!.labels.name, unit: samples[0]!.labels.unit, better: samples[0]!.labels.better },
      { scenario: 'rapid-reset', name: 'victim goodput, "well-behaved"', unit: 'req/s', better: 'higher' },
    );
  }
});

test('gate lines: absolute ones on every cell; relative ones where the baseline has the cell, from its per-repetition means', async () => {
  const run = await telemetryRun('cand', T1);
  const baseline = await telemetryRun('base', T0, 2);
  const dropped = baseline.cells.find((c) => c.status === 'ok')!;
  baseline.cells = baseline.cells.filter((c) => c !== dropped);
  const groups = cellSummarySamples(run, { host: 'h', baseline });
  for (const g of groups) {
    const lines = g.samples.filter((s) => s.name === 'sluice_cell_gate_limit');
    const line = (metric: string) => lines.find((s) => s.labels.metric === metric);
    assert.deepEqual([line('rst_ratio')?.value, line('rst_ratio')?.labels.bound], [0.001, 'ceiling']);
    assert.deepEqual([line('error_ratio')?.value, line('error_ratio')?.labels.bound], [0.01, 'ceiling']);
    assert.equal(line('p50_seconds'), undefined, 'no p50 gate in the matrix');
    const base = baseline.cells.find((c) => c.id === g.grouping.cell);
    if (!base) {
      assert.equal(g.grouping.cell, dropped.id);
      assert.deepEqual(lines.map((s) => s.labels.metric).sort(), ['error_ratio', 'rst_ratio'], 'a cell without a baseline has absolute lines only');
      continue;
    }
    assert.equal(lines.length, 5);
    assert.ok(Math.abs(line('rps')!.value - meanOf(base.reps.map((x) => x.rps)) * 0.95) < 1e-9);
    assert.equal(line('rps')!.labels.bound, 'floor');
    assert.ok(Math.abs(line('p99_seconds')!.value - (meanOf(base.reps.map((x) => x.latencyMs.p99)) / 1000) * 1.1) < 1e-15);
    assert.equal(line('p99_seconds')!.labels.bound, 'ceiling');
    const cpu = meanOf(base.reps.map((x) => x.proxy!.cpuS / x.requests));
    assert.ok(Math.abs(line('proxy_cpu_seconds_per_request')!.value - cpu * 1.2) < 1e-15);
  }
  // A baseline of another matrix is not this run's: the gate would refuse it, so no relative lines.
  baseline.run.matrix.name = 'other';
  for (const g of cellSummarySamples(run, { host: 'h', baseline })) {
    assert.deepEqual(g.samples.filter((s) => s.name === 'sluice_cell_gate_limit').map((s) => s.labels.metric).sort(), ['error_ratio', 'rst_ratio']);
  }
  // No gates in the matrix: no lines.
  run.run.matrix.spec.gates = {};
  assert.ok(cellSummarySamples(run, { host: 'h' }).every((g) => g.samples.every((s) => s.name !== 'sluice_cell_gate_limit')));
});

test('a cell without a proxy (target direct) has no CPU sample; nothing non-finite is ever a sample', async () => {
  const r = await telemetryRun('a', T0);
  const cell = okCells(r)[0]!;
  for (const rep of cell.reps) delete rep.proxy;
  cell.summary!.rstRate = { ...cell.summary!.rstRate, mean: NaN };
  const g = cellSummarySamples(r, { host: 'h' })[0]!;
  assert.equal(g.samples.filter((s) => s.name === 'sluice_cell_proxy_cpu_seconds_per_request' || s.name === 'sluice_cell_rst_ratio').length, 0);
  assert.ok(cellSummarySamples(r, { host: 'h' }).every((x) => x.samples.every((s) => Number.isFinite(s.value))));
});

test('OpenMetrics: the instance is each run\'s recorded host name unless --host says one; else the default', async () => {
  const a = await telemetryRun('run-a', T0);
  const named = { ...a, run: { ...a.run, host: { ...a.run.host, name: 'rack-7' } } };
  const unnamed = { ...a, run: { ...a.run, id: 'run-old', host: { ...a.run.host } } };
  delete unnamed.run.host.name;
  const instances = (text: string) => new Set([...text.matchAll(/instance="([^"]*)"/g)].map((m) => m[1]));
  assert.deepEqual(instances(formatOpenMetrics([named], { defaultHost: 'here' }).text), new Set(['rack-7']));
  assert.deepEqual(instances(formatOpenMetrics([unnamed], { defaultHost: 'here' }).text), new Set(['here']));
  assert.deepEqual(instances(formatOpenMetrics([named, unnamed], { host: 'forced', defaultHost: 'here' }).text), new Set(['forced']));
});

test('OpenMetrics: each family once and together, runs oldest first, stamped in seconds, escaped, ending # EOF', async () => {
  const a = await telemetryRun('run-a', T0);
  const b = await telemetryRun('run-b', T1, 1.5);
  // Given newest first and one run twice: written oldest first, once.
  const out = formatOpenMetrics([b, a, b], { host: 'bench "1"', defaultHost: 'unused' });
  assert.equal(out.runs, 2);
  assert.equal(out.cells, 2 * okCells(a).length);
  const lines = out.text.split('\n');
  assert.equal(lines.at(-1), '', 'ends with a line feed');
  assert.equal(lines.at(-2), '# EOF');
  assert.equal(out.text.indexOf('# EOF'), out.text.length - 6);
  const families = Object.keys(SUMMARY_METRICS);
  let current = '';
  const seen: string[] = [];
  let lastTime = new Map<string, number>();
  for (const line of lines.slice(0, -2)) {
    const type = /^# TYPE (\S+) gauge$/.exec(line);
    if (type) {
      assert.ok(!seen.includes(type[1]!), `${type[1]} typed once`);
      seen.push(type[1]!);
      current = type[1]!;
      lastTime = new Map();
      continue;
    }
    if (line.startsWith('# HELP ')) {
      assert.ok(line.startsWith(`# HELP ${current} `), 'HELP follows its TYPE');
      continue;
    }
    const m = /^(\w+)\{(.*)\} (\S+) (\S+)$/.exec(line);
    assert.ok(m, `a sample line: ${line}`);
    assert.equal(m[1], current, 'samples of a family are together, under its TYPE');
    assert.ok(m[2]!.startsWith('job="sluice",instance="bench \\"1\\""'), m[2]);
    assert.ok(Number.isFinite(Number(m[3])));
    const t = Number(m[4]);
    assert.ok(t === Date.parse(T0) / 1000 || t === Date.parse(T1) / 1000, `timestamp in seconds: ${m[4]}`);
    // A series is its name and labels but for the run id (on run_info only, where the series differ anyway).
    const series = m[2]!;
    assert.ok((lastTime.get(series) ?? -Infinity) <= t, `non-decreasing timestamps in ${series}`);
    lastTime.set(series, t);
  }
  assert.deepEqual(seen, families, 'families in the contract’s order');
  assert.ok(lines.includes(`sluice_cell_measured_timestamp_seconds{${'job="sluice",instance="bench \\"1\\""'},${labelText(cellLabels('fixture', okCells(a)[0]!))}} ${Date.parse(T1) / 1000} ${Date.parse(T1) / 1000}`));
  assert.match(out.text, /name="victim goodput, \\"well-behaved\\""/);
  assert.match(out.text, /^# HELP sluice_cell_headline The scenario's headline value/m);
});

test('escapeLabelValue: backslash, double quote and line feed', () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  assert.equal(escapeLabelValue('plain, text'), 'plain, text');
});

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
}
