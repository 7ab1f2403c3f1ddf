// The whole bench through its CLI: real backends, real proxy, real generator on 127.0.0.1, about a second per cell.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { RunResults } from '../results/model.js';
import { childPids, isAlive } from './helpers/processes.js';

const BENCH = fileURLToPath(new URL('../cli/bench.js', import.meta.url));

function tempMatrix(body: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
  const file = join(dir, 'm.yaml');
  writeFileSync(file, body);
  return { dir, file };
}

function readJson(file: string): RunResults {
  return JSON.parse(readFileSync(file, 'utf8')) as RunResults;
}

test('a 2-cell matrix runs end to end and writes results.json, report.md, results.csv, report.html and latest', { timeout: 60_000 }, async () => {
  const { dir, file } = tempMatrix(`
name: e2e
duration: 1s
warmup: 200ms
reps: 1
backend: {latency: {dist: fixed, ms: 1}, responseBytes: 512}
axes:
  protocol: [h1, h2]
  concurrency: [4]
`);
  const out = join(dir, 'out');
  const r = await execa(process.execPath, [BENCH, '--matrix', file, '--out', out], { reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stderr, /\[2\/2\]/, 'progress shows cells done / total');
  const latest = join(out, 'latest');
  assert.ok(existsSync(latest), 'results/latest exists');
  const results = readJson(join(out, readlinkSync(latest), 'results.json'));
  assert.equal(results.schema, 'sluice.results/v1');
  assert.equal(results.run.status, 'complete');
  assert.equal(results.cells.length, 2);
  assert.deepEqual(results.cells.map((c) => c.params.protocol).sort(), ['h1', 'h2']);
  for (const cell of results.cells) {
    assert.equal(cell.status, 'ok', cell.error);
    assert.equal(cell.reps.length, 1);
    const rep = cell.reps[0]!;
    assert.ok(rep.rps > 0, `${cell.id}: rps ${rep.rps}`);
    assert.ok(rep.latencyMs.p50 <= rep.latencyMs.p99 && rep.latencyMs.p99 <= rep.latencyMs.p999, JSON.stringify(rep.latencyMs));
    // the backend waits 1 ms, so no request can be faster than that
    assert.ok(rep.latencyMs.p50 >= 1, `${cell.id}: p50 ${rep.latencyMs.p50}`);
    assert.deepEqual(rep.errors, {}, `${cell.id}: errors`);
    assert.equal(rep.rstRate, 0);
    assert.ok((rep.proxy?.peakRssBytes ?? 0) > 0, 'proxy peak RSS recorded');
    assert.equal(cell.summary?.rps.median, rep.rps);
    assert.ok(cell.overheadMs.start > 0);
  }
  assert.ok(results.run.overheadMs && results.run.overheadMs.start > 0);
  const report = readFileSync(join(out, readlinkSync(latest), 'report.md'), 'utf8');
  assert.match(report, /\| protocol \| concurrency \| goodput RPS \|/);
  assert.match(report, /\| h2 \| 4 \| [\d,]+ \|/);
  // The other derived files, and the last screen: the summary table and where the HTML report is.
  const csv = readFileSync(join(out, readlinkSync(latest), 'results.csv'), 'utf8').split('\r\n');
  assert.match(csv[0]!, /^cell,rep,protocol,concurrency,rps,/);
  assert.equal(csv.filter((l) => l !== '').length, 3, 'a header and one row per repetition');
  const html = readFileSync(join(out, readlinkSync(latest), 'report.html'), 'utf8');
  assert.match(html, /<section id="distributions">/);
  assert.match(r.stderr, /^cell +goodput rps +P50 ms +P99 ms +errors +headline$/m);
  assert.match(r.stderr, /^concurrency=4,protocol=h2 +[\d,.]+ +[\d.]+ +[\d.]+ +0/m);
  assert.match(r.stderr, new RegExp(`report: .*${readlinkSync(latest)}/report\\.html`));
});

test('SIGINT during a run stops every child and leaves a valid partial results.json', { timeout: 60_000 }, async () => {
  const { dir, file } = tempMatrix(`
name: interrupt
duration: 1s
warmup: 0ms
reps: 1
axes:
  concurrency: [1, 2, 4, 8, 16, 32]
`);
  const out = join(dir, 'out');
  const bench = execa(process.execPath, [BENCH, '--matrix', file, '--out', out], { reject: false });
  const pid = bench.pid!;
  const seen = new Set<number>();
  let resultsFile = '';
  // Wait until one cell is saved and the next one's processes are up, noting the bench's children on the way.
  const deadline = Date.now() + 30_000;
  for (;;) {
    for (const c of childPids(pid)) seen.add(c);
    const latest = join(out, 'latest');
    if (existsSync(latest)) {
      resultsFile = join(out, readlinkSync(latest), 'results.json');
      const partial = existsSync(resultsFile) ? readJson(resultsFile) : undefined;
      if (partial && partial.cells.length >= 1 && childPids(pid).length >= 2) break;
    }
    assert.ok(Date.now() < deadline, 'a cell finished and the next cell started within 30 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const c of childPids(pid)) seen.add(c);
  assert.ok(seen.size >= 2, 'backends and proxy were children of the bench');
  process.kill(pid, 'SIGINT');
  const r = await bench;
  assert.equal(r.exitCode, 130, r.stderr);
  for (const child of seen) assert.equal(isAlive(child), false, `child ${child} is still running`);
  const results = readJson(resultsFile);
  assert.equal(results.run.status, 'interrupted');
  assert.ok(results.run.finishedAt);
  assert.ok(results.cells.length >= 1 && results.cells.length < 6, `${results.cells.length} cells saved`);
  for (const c of results.cells) {
    assert.equal(c.status, 'ok', `${c.id}: ${c.error ?? ''}\n${c.stderrTail ?? ''}\nbench stderr:\n${r.stderr}`);
    assert.equal(c.reps.length, 1, `${c.id}: ${c.reps.length} repetitions saved`);
  }
});

test('bad flags and bad matrix files exit 2 naming the flag or the file', async () => {
  const { file } = tempMatrix('name: bad\nduration: 1s\naxes: {concurrency: [1], colour: [red]}\n');
  const bad = await execa(process.execPath, [BENCH, '--matrix', file, '--dry-run'], { reject: false });
  assert.equal(bad.exitCode, 2);
  assert.match(bad.stderr, /m\.yaml: invalid matrix/);
  assert.match(bad.stderr, /axes\.colour: unknown key/);
  const flag = await execa(process.execPath, [BENCH, '--duration', 'ten'], { reject: false });
  assert.equal(flag.exitCode, 2);
  assert.match(flag.stderr, /--duration: "ten" is not a duration/);
  const unknown = await execa(process.execPath, [BENCH, '--concurency', '3'], { reject: false });
  assert.equal(unknown.exitCode, 2);
  assert.match(unknown.stderr, /--concurency/);
});

test('--dry-run prints the cells, the exclusions with reasons and an estimate, and runs nothing', async () => {
  const r = await execa(process.execPath, [BENCH, '--matrix', 'h2', '--dry-run', '--only', 'rttMs=50', '--only', 'concurrency=8'], { reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  // 1 MiB: 9 fixed window pairs + 3 adaptive; 1 KiB: the default windows, fixed and adaptive.
  assert.match(r.stdout, /matrix h2: 14 cells, 22 excluded/);
  assert.match(r.stdout, /1 KiB responses never fill a window/);
  assert.match(r.stdout, /adaptive windows start from the default stream window/);
  assert.match(r.stdout, /estimated time: \d+/);
});
