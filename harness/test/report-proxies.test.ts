// report.md's "Proxies side by side": one row per setting of the other axes, the proxies' numbers in columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CellSummary } from '../results/model.js';
import { formatMarkdown } from '../output/markdown.js';
import { formatProxiesSideBySide } from '../output/proxies-side-by-side.js';
import { fixtureRun } from './helpers/results-fixture.js';

const MATRIX = `name: sides
protocol: h2
duration: 1s
reps: 1
defaults: {connWindow: 2147483647}
axes:
  concurrency: [8, 64]
  proxy: [sluice, nghttpx, haproxy]
`;

const RPS: Record<string, number> = { sluice: 1000, nghttpx: 4000, haproxy: 2000 };

function run(failed = '') {
  const r = fixtureRun(MATRIX, (id) => (id === failed ? undefined : [{ rps: RPS[/proxy=(\w+)/.exec(id)![1]!]! * (id.includes('concurrency=64') ? 2 : 1), p99: 5, cpuS: 0.1 }]));
  for (const c of r.cells) {
    if (c.status !== 'ok') continue;
    c.summary = { rps: { mean: c.reps[0]!.rps, median: c.reps[0]!.rps, ci95: [0, 0], n: 1 }, latencyMs: { p99: 5 } } as unknown as CellSummary;
  }
  return r;
}

test('one row per setting of the other axes; each proxy its RPS, P99 and CPU per request; ratios to the first proxy', () => {
  const lines = formatProxiesSideBySide(run().cells);
  const table = lines.filter((l) => l.startsWith('| '));
  assert.equal(table[0], '| concurrency | sluice RPS | sluice P99 ms | sluice CPU µs/req | nghttpx RPS | nghttpx P99 ms | nghttpx CPU µs/req | haproxy RPS | haproxy P99 ms | haproxy CPU µs/req | nghttpx / sluice RPS | haproxy / sluice RPS |');
  assert.equal(table.length, 3, 'a header and one row per concurrency');
  // 0.1 CPU s over 1000 requests is 100 µs each; over 4000, 25.
  assert.match(table[1]!, /^\| 8 \| 1,000 \| 5\.00 \| 100 \| 4,000 \| 5\.00 \| 25\.0 \| 2,000 \| 5\.00 \| 50\.0 \| 4\.00 \| 2\.00 \|$/);
  assert.match(table[2]!, /^\| 64 \| 2,000 .* \| 4\.00 \| 2\.00 \|$/);
});

test('a failed proxy cell is "-", its ratio too; no section without two proxies swept', () => {
  const table = formatProxiesSideBySide(run('concurrency=8,proxy=nghttpx').cells).filter((l) => l.startsWith('| 8 '));
  assert.match(table[0]!, /\| 100 \| - \| - \| - \| 2,000 .* \| - \| 2\.00 \|$/);
  const single = fixtureRun('name: one\nprotocol: h2\nduration: 1s\nreps: 1\naxes: {concurrency: [8, 64]}\n', () => [{ rps: 10 }]);
  assert.deepEqual(formatProxiesSideBySide(single.cells), []);
  assert.doesNotMatch(formatMarkdown(single), /Proxies side by side/);
  // report.md carries the section where the proxy axis is swept (here cells without a summary: every number '-').
  assert.match(formatMarkdown(fixtureRun(MATRIX, () => [{ rps: 10 }])), /## Proxies side by side[\s\S]*\| 8 \| - \| - \| - \|/);
});

test('a cell whose link or generator was saturated is marked †', () => {
  const r = run();
  const cell = r.cells.find((c) => c.id === 'concurrency=64,proxy=haproxy')!;
  cell.reps[0]!.links = [{ role: 'upstream', cpuS: 0.1, saturated: true }];
  const row = formatProxiesSideBySide(r.cells).find((l) => l.startsWith('| 64 '))!;
  assert.match(row, /\| 4,000 †/);
  assert.equal((row.match(/†/g) ?? []).length, 1);
});
