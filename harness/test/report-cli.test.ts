// `npm run report -- RUN`: the derived files made again from a run's results.json, which it leaves as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { reportFixture } from './helpers/report-fixture.js';

const REPORT = fileURLToPath(new URL('../cli/report.js', import.meta.url));

test('report RUN writes report.md, results.csv and report.html beside results.json; a folder or the file', { timeout: 30_000 }, async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'sluice-report-cli-')), 'run');
  mkdirSync(dir);
  const json = JSON.stringify(await reportFixture(), null, 2) + '\n';
  writeFileSync(join(dir, 'results.json'), json);
  for (const arg of [dir, join(dir, 'results.json')]) {
    const r = await execa(process.execPath, [REPORT, arg], { reject: false });
    assert.equal(r.exitCode, 0, r.stderr);
    for (const f of ['report.md', 'results.csv', 'report.html']) assert.match(r.stdout, new RegExp(`wrote ${join(dir, f).replace(/[.]/g, '\\.')}`));
    assert.match(r.stdout, /^cell +goodput rps +P50 ms/m);
  }
  assert.equal(readFileSync(join(dir, 'results.json'), 'utf8'), json, 'results.json is only read');
  assert.match(readFileSync(join(dir, 'report.html'), 'utf8'), /<section id="heatmap">/);
  assert.match(readFileSync(join(dir, 'results.csv'), 'utf8'), /^cell,rep,concurrency,streamWindow,connWindow,rps,/);
});

test('report with a missing or wrong RUN exits 2 naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-report-cli-'));
  const none = await execa(process.execPath, [REPORT, join(dir, 'nope')], { reject: false });
  assert.equal(none.exitCode, 2);
  assert.match(none.stderr, /nope: no such file or folder/);
  const empty = await execa(process.execPath, [REPORT, dir], { reject: false });
  assert.equal(empty.exitCode, 2);
  assert.match(empty.stderr, /no results\.json in this folder/);
  writeFileSync(join(dir, 'results.json'), '{"schema": "other"}');
  const wrong = await execa(process.execPath, [REPORT, dir], { reject: false });
  assert.equal(wrong.exitCode, 2);
  assert.match(wrong.stderr, /not a sluice results file/);
  const noArg = await execa(process.execPath, [REPORT], { reject: false });
  assert.equal(noArg.exitCode, 2);
});
