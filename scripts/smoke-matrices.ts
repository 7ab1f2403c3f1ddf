// `npm run smoke:matrices`: every shipped matrix (workloads/matrices/*.yaml) run once in a shortened form
// (`--duration 1s --reps 1`, the matrix's own warm-up), as CI does after `npm test`, so that none of them rots:
// each must finish with every cell `ok` (a scenario timeline longer than 1 s is cut short, which is allowed;
// a cell that fails to start or to measure is not). Prints one line per matrix; exits 1 naming what failed.
// `--only NAME,NAME` runs a subset. A matrix too big to smoke whole runs a slice of its cells (SLICES) that still
// touches every value of the axes its code paths depend on.
import { readdirSync, readFileSync, readlinkSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import type { RunResults } from '../harness/results/model.js';

const BENCH = 'dist/harness/cli/bench.js';
const MATRICES = 'workloads/matrices';

/**
 * `--only` restrictions by matrix. proxies: 144 cells whole (about 8 minutes at 1 s each); concurrency 64 over the
 * 20 ms link keeps every proxy, protocol, payload and window: 18 cells, about a minute. h2: 168 cells whole (9-10
 * minutes of CI's 25); concurrency 1 and 256 (one stream, and the most the matrix puts on a connection) over no delay and
 * the 50 ms link keep every window, adaptive setting and payload: 56 cells, about 3 minutes.
 */
const SLICES: Record<string, string[]> = {
  proxies: ['--only', 'concurrency=64', '--only', 'rttMs=20'],
  h2: ['--only', 'concurrency=1,256', '--only', 'rttMs=0,50'],
};

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const all = readdirSync(MATRICES).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length)).sort();
const names = values.only ? values.only.split(',') : all;
for (const name of names) {
  if (!all.includes(name)) {
    process.stderr.write(`smoke:matrices: --only: no matrix "${name}" in ${MATRICES} (there are: ${all.join(', ')})\n`);
    process.exit(2);
  }
}

const failures: string[] = [];
for (const name of names) {
  const out = mkdtempSync(join(tmpdir(), `sluice-smoke-${name}-`));
  const started = performance.now();
  const r = await execa(process.execPath, [BENCH, '--matrix', name, '--duration', '1s', '--reps', '1', ...(SLICES[name] ?? []), '--out', out], { reject: false, stdout: 'ignore' });
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  if (r.exitCode !== 0) {
    failures.push(`${name}: exit ${r.exitCode}: ${r.stderr.split('\n').slice(-5).join(' | ')}`);
    process.stdout.write(`${name}: FAILED (exit ${r.exitCode}) in ${seconds}s\n`);
    continue;
  }
  const results = JSON.parse(readFileSync(join(out, readlinkSync(join(out, 'latest')), 'results.json'), 'utf8')) as RunResults;
  const bad = results.cells.filter((c) => c.status !== 'ok');
  for (const cell of bad) failures.push(`${name}: cell ${cell.id}: ${cell.status}: ${cell.error ?? ''}`);
  process.stdout.write(`${name}: ${results.cells.length - bad.length}/${results.cells.length} cells ok in ${seconds}s\n`);
}
if (failures.length > 0) {
  process.stderr.write(`smoke:matrices: ${failures.length} failure(s):\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
  process.exit(1);
}
