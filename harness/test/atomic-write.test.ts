// results.json is replaced whole (a temporary file renamed over it): a reader polling it while it is rewritten
// sees the old file or the new one, never a part.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { writeAtomic, ResultsWriter } from '../results/writer.js';
import { sampleResults } from './helpers/sample-results.js';

test('a write replaces the file by a rename: a new inode, no temporary file left behind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-atomic-'));
  const writer = new ResultsWriter(dir);
  writer.write(sampleResults());
  const before = statSync(writer.resultsFile).ino;
  writer.write(sampleResults());
  assert.notEqual(statSync(writer.resultsFile).ino, before, 'rewritten in place, not renamed over');
  assert.deepEqual(readdirSync(dir), ['results.json']);
});

test('latest is linked only to a run whose results.json exists', () => {
  const parent = mkdtempSync(join(tmpdir(), 'sluice-latest-'));
  const writer = new ResultsWriter(join(parent, 'run-1'));
  assert.throws(() => writer.linkLatest(), /run-1\/results\.json: latest would point at a run without results\.json/);
  writer.write(sampleResults());
  writer.linkLatest();
  assert.equal(readFileSync(join(parent, 'latest', 'results.json'), 'utf8'), readFileSync(writer.resultsFile, 'utf8'));
});

test('a reader polling the file while it is rewritten never sees a half-written one', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-atomic-'));
  const file = join(dir, 'results.json');
  // Large enough that a write takes several system calls.
  const big = (n: number) => JSON.stringify({ n, pad: 'x'.repeat(4 * 1024 * 1024) });
  writeAtomic(file, big(0));
  const reader = new Worker(
    `const { readFileSync } = require('node:fs');
     const { parentPort, workerData } = require('node:worker_threads');
     let reads = 0, bad = 0, stop = false;
     parentPort.on('message', () => { stop = true; });
     const loop = () => {
       for (let i = 0; i < 20; i++) {
         try { JSON.parse(readFileSync(workerData, 'utf8')); } catch { bad++; }
         reads++;
       }
       if (stop) parentPort.postMessage({ reads, bad }); else setImmediate(loop);
     };
     loop();`,
    { eval: true, workerData: file },
  );
  for (let n = 1; n <= 60; n++) {
    writeAtomic(file, big(n));
    await new Promise((r) => setImmediate(r));
  }
  const done = new Promise<{ reads: number; bad: number }>((resolve) => reader.once('message', resolve));
  reader.postMessage('stop');
  const { reads, bad } = await done;
  await reader.terminate();
  assert.ok(reads > 0, 'the reader read');
  assert.equal(bad, 0, `${bad} of ${reads} reads saw a partial file`);
});
