// target: direct measures the backend without the proxy, the baseline the proxy's cost is read against.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMatrix } from '../matrix/load.js';
import { expandCells } from '../matrix/cells.js';
import { Orchestrator, newRunResults } from '../orchestrator/orchestrator.js';
import { ResultsWriter } from '../results/writer.js';
import { hostInfo } from '../results/host.js';
import { mergeEncodedSummary } from '../load/statistic/histogram.js';
import { formatMarkdown } from '../output/markdown.js';
import { DEFAULT_PROXY_MAIN } from '../proxies/sluice.js';
import { sluiceVersion } from '../results/components.js';

const cellDirs = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('sluice-cell-'));

test('a direct cell runs without a proxy; a proxy cell beside it reads the proxy per repetition, on warm connections', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-direct-'));
  const spec = parseMatrix('name: d\nduration: 500ms\nwarmup: 200ms\naxes: {target: [direct, proxy]}\n', 'd.yaml');
  const expansion = expandCells(spec);
  assert.deepEqual(expansion.cells.map((c) => c.id), ['target=direct', 'target=proxy']);
  const plan = { durationMs: 500, warmupMs: 200, reps: 2, timeoutMs: 2000 };
  // order cell: both repetitions of a cell on the same processes and connections, which this test reads.
  const results = newRunResults({ id: 'd', spec, file: 'd.yaml', sha256: '0', only: [], plan, git: null, host: hostInfo(), excluded: [], order: 'cell' });
  const events: string[] = [];
  const dirsBefore = new Set(cellDirs());
  const orchestrator = new Orchestrator({ results, expansion, plan, writer: new ResultsWriter(join(dir, 'd')) });
  orchestrator.on('event', (e) => events.push(e.type));
  const final = await orchestrator.run();
  const [direct, proxied] = final.cells;
  assert.equal(direct?.status, 'ok', direct?.error);
  assert.equal(proxied?.status, 'ok', proxied?.error);
  assert.ok(direct!.reps[0]!.rps > 0 && proxied!.reps[0]!.rps > 0);
  assert.equal(direct!.reps[0]!.proxy, undefined, 'no proxy ran for the direct cell');
  assert.equal(direct!.proxy, undefined);
  // The proxy cell ran ours through its driver, and says so: name, version, the command line it generated.
  assert.equal(proxied!.params.proxy, 'sluice');
  assert.equal(proxied!.proxy?.name, 'sluice');
  assert.equal(proxied!.proxy?.version, sluiceVersion());
  const command = proxied!.proxy?.config.command ?? [];
  assert.deepEqual(command.slice(0, 2), [process.execPath, DEFAULT_PROXY_MAIN]);
  assert.deepEqual(command.slice(command.indexOf('--stream-window'), command.indexOf('--stream-window') + 4), ['--stream-window', '65535', '--conn-window', '1048576']);
  assert.deepEqual(cellDirs().filter((d) => !dirsBefore.has(d)), [], "each cell's work folder is removed after it");
  assert.deepEqual(direct!.reps[0]!.errors, {});
  assert.equal(events.filter((e) => e === 'cell-done').length, 2);
  for (const cell of [direct!, proxied!]) {
    assert.equal(cell.connect?.ready, cell.connect?.connections, 'the connections were open before the warm-up');
    // The cell's percentiles come from its repetitions' histograms merged.
    const merged = await mergeEncodedSummary([cell.summary!.histogram]);
    assert.equal(merged.count, cell.reps[0]!.requests + cell.reps[1]!.requests);
    assert.deepEqual(cell.summary!.latencyMs, merged.latencyMs);
  }
  for (const rep of proxied!.reps) {
    const p = rep.proxy!;
    assert.ok(p.cpuS > 0 && p.peakRssBytes > 0 && (p.endRssBytes ?? 0) > 0, JSON.stringify(p));
    assert.ok(p.peakRssBytes >= (p.endRssBytes ?? 0));
    // The proxy's own count of this repetition's streams: every request sent in the window reached it (and a
    // few of the warm-up's or the drain's edges may fall in the scrape's interval).
    const opened = p.metrics?.streams.opened['downstream'] ?? 0;
    assert.ok(opened >= rep.requests && opened < rep.requests * 1.2, `streams opened ${opened}, requests ${rep.requests}`);
    assert.equal(p.metrics?.sessions.opened['downstream'] ?? 0, 0, 'no new downstream session: the generator kept its connection');
    assert.equal(p.native, undefined, 'ours is read by its documented names, not as native metrics');
  }
  const report = formatMarkdown(final);
  const directRow = report.split('\n').find((l) => l.startsWith('| direct |'))!;
  assert.match(directRow, /\| - \| ok \|$/, `no proxy figure for the direct cell: ${directRow}`);
  const proxyRow = report.split('\n').find((l) => l.startsWith('| proxy |'))!;
  assert.match(proxyRow, /\| [\d.]+ \| ok \|$/, proxyRow);
});
