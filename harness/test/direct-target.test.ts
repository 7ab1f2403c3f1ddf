// target: direct measures the backend without the proxy, the baseline the proxy's cost is read against.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMatrix } from '../matrix/load.js';
import { expandCells } from '../matrix/cells.js';
import { Orchestrator, newRunResults } from '../orchestrator/orchestrator.js';
import { ResultsWriter } from '../results/writer.js';
import { hostInfo } from '../results/host.js';

test('a direct cell runs without a proxy and a proxy cell beside it carries the proxy CPU', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-direct-'));
  const spec = parseMatrix('name: d\nduration: 500ms\nwarmup: 0ms\naxes: {target: [direct, proxy]}\n', 'd.yaml');
  const expansion = expandCells(spec);
  assert.deepEqual(expansion.cells.map((c) => c.id), ['target=direct', 'target=proxy']);
  const plan = { durationMs: 500, warmupMs: 0, reps: 1, timeoutMs: 2000 };
  const results = newRunResults({ id: 'd', spec, file: 'd.yaml', sha256: '0', only: [], plan, git: null, host: hostInfo(), excluded: [] });
  const events: string[] = [];
  const orchestrator = new Orchestrator({ results, expansion, plan, writer: new ResultsWriter(join(dir, 'd')) });
  orchestrator.on('event', (e) => events.push(e.type));
  const final = await orchestrator.run();
  const [direct, proxied] = final.cells;
  assert.equal(direct?.status, 'ok', direct?.error);
  assert.equal(proxied?.status, 'ok', proxied?.error);
  assert.ok(direct!.reps[0]!.rps > 0 && proxied!.reps[0]!.rps > 0);
  assert.equal(direct!.reps[0]!.proxy, undefined, 'no proxy ran for the direct cell');
  assert.ok((proxied!.reps[0]!.proxy?.peakRssBytes ?? 0) > 0, 'the proxy cell measured the proxy');
  assert.deepEqual(direct!.reps[0]!.errors, {});
  assert.equal(events.filter((e) => e === 'cell-done').length, 2);
});
