// The whole bench through its CLI: real backends, real proxy, real generator on 127.0.0.1, about a second per cell.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import type { RunResults } from '../results/model.js';
import { readResults } from '../results/read.js';
import { resultsSchema } from '../results/schema/run.js';
import { allowedCpus, formatCpuList } from '../orchestrator/pinning.js';
import { sluiceVersion } from '../results/components.js';
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

// Ctrl-C, and a closed terminal (SIGHUP): the children lead their own process groups, so the bench must stop them.
for (const signal of ['SIGINT', 'SIGHUP'] as const) test(`${signal} during a run stops every child and leaves a valid partial results.json`, { timeout: 60_000 }, async () => {
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
  process.kill(pid, signal);
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

/** The CPUs a process may run on, as /proc says. */
function cpusAllowed(pid: number): string {
  return /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

test('2 cells x 2 reps interleave (c1r1, c2r1, c1r2, c2r2); results.json is valid after every visit and records the run', { timeout: 90_000 }, async () => {
  const matrix = `
name: interleave
duration: 1s
warmup: 200ms
reps: 2
axes:
  concurrency: [1, 4]
`;
  const { dir, file } = tempMatrix(matrix);
  const out = join(dir, 'out');
  const bench = execa(process.execPath, [BENCH, '--matrix', file, '--out', out], { reject: false });
  // Read the file as the bench rewrites it: every state must be a valid results.json.
  const seen = new Set<string>();
  let reading = true;
  const poll = (async () => {
    while (reading) {
      const latest = join(out, 'latest');
      if (existsSync(latest)) {
        const text = readFileSync(join(out, readlinkSync(latest), 'results.json'), 'utf8');
        if (!seen.has(text)) {
          seen.add(text);
          const parsed = resultsSchema.safeParse(JSON.parse(text));
          assert.ok(parsed.success, `an intermediate results.json is invalid: ${parsed.success ? '' : JSON.stringify(parsed.error.issues[0])}`);
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const r = await bench;
  reading = false;
  await poll;
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stderr, /2 cells to measure in 4 visits \(repetitions interleaved\)/);
  assert.match(r.stderr, /\[4\/4\].* rep 2\/2/);
  assert.ok(seen.size >= 3, `${seen.size} states of results.json seen`);

  const resultsFile = join(out, readlinkSync(join(out, 'latest')), 'results.json');
  const raw: unknown = JSON.parse(readFileSync(resultsFile, 'utf8'));
  const results = readResults(resultsFile);
  // Nothing written that the schema does not describe (zod drops unknown keys; JSON Schema would refuse them).
  assert.deepEqual(results, raw);
  const [c1, c2] = results.cells;
  assert.ok(c1 && c2);
  for (const cell of [c1, c2]) {
    assert.equal(cell.status, 'ok', cell.error);
    assert.equal(cell.reps.length, 2);
    assert.equal(cell.visits, 2);
    assert.equal(cell.summary?.rps.n, 2);
  }
  // c1's second visit came after c2's first.
  assert.ok(c1.startedAt < c2.startedAt && c2.startedAt < c1.finishedAt, `${c1.startedAt} ${c2.startedAt} ${c1.finishedAt}`);

  const run = results.run;
  assert.equal(run.options.order, 'interleave');
  assert.deepEqual(run.pinning, {});
  assert.equal(run.matrix.file, file);
  assert.equal(run.matrix.sha256, createHash('sha256').update(matrix).digest('hex'));
  assert.equal(run.host.node, process.version);
  assert.ok(run.host.cores >= 1 && run.host.memoryBytes > 0 && run.host.cpuModel && run.host.kernel);
  assert.match(run.git?.commit ?? '', /^[0-9a-f]{40}$/);
  assert.equal(typeof run.git?.dirty, 'boolean');
  assert.deepEqual(run.generator, { name: 'sluice', version: sluiceVersion(), revision: run.git?.commit });
  assert.deepEqual(run.proxy, { name: 'sluice-proxy', version: sluiceVersion(), revision: run.git?.commit });
});

test('--pin proxy=0,load=1 runs the proxy on CPU 0 and the generator on CPU 1, and records it', { timeout: 60_000, skip: allowedCpus().length < 2 && 'needs 2 CPUs' }, async () => {
  const [a, b] = allowedCpus();
  const { dir, file } = tempMatrix(`
name: pinned
duration: 1s
warmup: 0ms
reps: 2
axes:
  concurrency: [2]
`);
  const out = join(dir, 'out');
  const bench = execa(process.execPath, [BENCH, '--matrix', file, '--out', out, '--pin', `proxy=${a},load=${b}`, '--order', 'cell'], { reject: false });
  const pid = bench.pid!;
  let finished = false;
  void bench.finally(() => (finished = true));
  const affinity = new Map<string, string>();
  const deadline = Date.now() + 30_000;
  while (!affinity.has('proxy') && Date.now() < deadline && !finished) {
    for (const child of childPids(pid)) {
      const line = cmdline(child);
      const role = line.includes('proxy/src/main.js') ? 'proxy' : line.includes('backends/main.js') ? 'backends' : undefined;
      // The proxy reads its flags only after taskset has exec'd node: its command line is then node's.
      if (role && line.startsWith(process.execPath)) affinity.set(role, cpusAllowed(child));
    }
    affinity.set('bench', cpusAllowed(pid));
    await new Promise((r) => setTimeout(r, 50));
  }
  const r = await bench;
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(affinity.get('proxy'), String(a));
  assert.equal(affinity.get('bench'), String(b), 'the bench process runs the generator');
  assert.equal(affinity.get('backends'), formatCpuList(allowedCpus()), 'the backends get every CPU back');
  const results = readResults(join(out, 'latest'));
  assert.deepEqual(results.run.pinning, { proxy: [a], load: [b] });
  assert.equal(results.run.options.order, 'cell');
  assert.equal(results.cells[0]?.visits, 1);
  assert.equal(results.cells[0]?.reps.length, 2);
});

test('bad --pin and --order values exit 2 naming the flag', async () => {
  for (const [args, message] of [
    [['--pin', 'gpu=0'], /^sluice bench: --pin gpu=0: unknown role "gpu"/],
    [['--pin', 'proxy=4096'], /^sluice bench: --pin proxy=4096: CPU 4096 is not available here/],
    [['--pin', 'proxy:0'], /^sluice bench: --pin proxy:0: "proxy:0" is not role=CPU/],
    [['--order', 'sideways'], /^sluice bench: --order sideways: expected interleave \| cell/],
  ] as const) {
    const r = await execa(process.execPath, [BENCH, '--dry-run', ...args], { reject: false });
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
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
