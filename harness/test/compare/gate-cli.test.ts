// The CLIs' contract: exit codes and files, on small hand-built runs (no bench is run).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { around, fixtureRun, TWO_CELLS, type RepValues } from '../helpers/results-fixture.js';

const cli = (name: string) => fileURLToPath(new URL(`../../cli/${name}.js`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sluice-gate-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const runFile = (name: string, reps: (id: string) => RepValues[] | undefined, yaml = TWO_CELLS) => {
  const f = join(dir, `${name}.json`);
  writeFileSync(f, JSON.stringify(fixtureRun(yaml, reps, name)));
  return f;
};
const run = (name: string, ...args: string[]) => spawnSync(process.execPath, [cli(name), ...args], { encoding: 'utf8', cwd: dir });

const base = runFile('base', () => around(1000, 5).map((rps) => ({ rps, p99: 2 })));
const same = runFile('same', () => around(1000, 5).map((rps) => ({ rps, p99: 2 })));
const slow = runFile('slow', () => around(700, 5).map((rps) => ({ rps, p99: 2 })));
const three = runFile('three', () => around(1000, 3).map((rps) => ({ rps, p99: 2 })));

test('gate exit codes: 0 pass, 1 fail, 3 not enough repetitions, 2 unusable input', () => {
  assert.equal(run('gate', '--baseline', base, same).status, 0);
  const fail = run('gate', '--baseline', base, slow);
  assert.equal(fail.status, 1);
  assert.match(fail.stdout, /FAIL.*\n[\s\S]*concurrency=8,protocol=h1 RPS: 1,000 rps -> 700 rps \(-30\.0%/);
  assert.equal(run('gate', '--baseline', three, three).status, 3);
  const missing = run('gate', '--baseline', join(dir, 'nope.json'), same);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^sluice gate: .*nope\.json: no such (results )?file/);
  writeFileSync(join(dir, 'cut.json'), readFileSync(same, 'utf8').slice(0, 100));
  assert.match(run('gate', '--baseline', base, join(dir, 'cut.json')).stderr, /cut\.json: not valid JSON/);
  const axes = runFile('axes', () => around(1000, 5).map((rps) => ({ rps })), TWO_CELLS.replace('concurrency: [8]', 'concurrency: [64]'));
  const changed = run('gate', '--baseline', base, axes);
  assert.equal(changed.status, 2);
  assert.match(changed.stderr, /axes changed/);
  assert.match(run('gate').stderr, /expected one candidate run/);
  assert.match(run('gate', same).stderr, /no baseline for matrix fixture: .*results\/baselines\/fixture\.json does not exist/);
});

test('--update-baseline writes results/baselines/<matrix>.json without histograms; then the gate finds it', () => {
  const out = run('gate', '--update-baseline', base);
  assert.equal(out.status, 0, out.stderr);
  const file = join(dir, 'results', 'baselines', 'fixture.json');
  assert.ok(existsSync(file));
  const text = readFileSync(file, 'utf8');
  assert.ok(!text.includes('HISTOGRAM') && !text.includes('timeSeries'));
  assert.equal(run('gate', same).status, 0);
  const few = run('gate', '--update-baseline', three);
  assert.match(few.stderr, /the gate needs 4 per side/);
});

test('compare prints Markdown, or JSON with unbounded ratios as null', () => {
  const md = run('compare', base, slow);
  assert.equal(md.status, 0);
  assert.match(md.stdout, /^# sluice compare/);
  const errs = runFile('errs', () => around(1000, 5).map((rps) => ({ rps, errorRate: 0.01 })));
  const json = run('compare', '--json', base, errs);
  const parsed = JSON.parse(json.stdout) as { cells: { metrics: { metric: string; ratio: number | null }[] }[] };
  assert.equal(parsed.cells[0]!.metrics.find((m) => m.metric === 'errorRate')!.ratio, null);
  assert.equal(run('compare', base).status, 2);
  assert.match(run('compare', '--seed', 'x', base, slow).stderr, /--seed x: expected a whole number/);
});
