// A proxy that dies at start becomes a failed cell carrying its stderr; the next cell still runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMatrix } from '../matrix/load.js';
import { expandCells } from '../matrix/cells.js';
import { Orchestrator, newRunResults } from '../orchestrator/orchestrator.js';
import { ResultsWriter } from '../results/writer.js';
import { hostInfo } from '../results/host.js';

test('a crashing proxy is recorded as a failed cell with its stderr tail, and the run goes on', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fail-'));
  const crasher = join(dir, 'crash.mjs');
  writeFileSync(crasher, `process.stderr.write('panic: window exhausted\\n'); process.exit(3);\n`);
  const spec = parseMatrix('name: f\nduration: 200ms\nwarmup: 0ms\naxes: {concurrency: [1, 2]}\n', 'f.yaml');
  const expansion = expandCells(spec);
  const plan = { durationMs: 200, warmupMs: 0, reps: 1, timeoutMs: 1000 };
  const results = newRunResults({ id: 'f', spec, file: 'f.yaml', sha256: '0', only: [], plan, git: null, host: hostInfo(), excluded: [] });
  const writer = new ResultsWriter(join(dir, 'f'));
  const events: string[] = [];
  const orchestrator = new Orchestrator({ results, expansion, plan, writer, proxyMain: crasher });
  orchestrator.on('event', (e) => events.push(e.type));
  const final = await orchestrator.run();
  assert.equal(final.cells.length, 2, 'both cells were attempted');
  for (const cell of final.cells) {
    assert.equal(cell.status, 'failed');
    assert.match(cell.error ?? '', /proxy exited with code 3/);
    assert.match(cell.stderrTail ?? '', /panic: window exhausted/);
    // The proxy's config is recorded even though it never got ready: what was started, to debug it.
    assert.equal(cell.proxy?.name, 'sluice');
    assert.equal(cell.proxy?.config.command[1], crasher);
  }
  assert.equal(final.run.status, 'complete');
  assert.equal(events.filter((e) => e === 'cell-done').length, 2);
});
