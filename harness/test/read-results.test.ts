// readResults: what compare, gate, report and --resume read. Every bad file is one line naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readResults, ResultsError } from '../results/read.js';
import { sampleResults } from './helpers/sample-results.js';

function dirWith(text: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-read-'));
  const file = join(dir, 'results.json');
  writeFileSync(file, text);
  return { dir, file };
}

/** The error readResults throws: a ResultsError whose message is one line naming the file. */
function failure(path: string, file: string): string {
  try {
    readResults(path);
  } catch (err) {
    assert.ok(err instanceof ResultsError, `a ResultsError, not ${String(err)}`);
    assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
    assert.ok(err.message.startsWith(`${file}: `), `names the file: ${err.message}`);
    return err.message;
  }
  assert.fail(`${path} was read`);
}

test('a valid file reads back, by its path or its run folder', () => {
  const sample = sampleResults();
  const { dir, file } = dirWith(JSON.stringify(sample));
  assert.deepEqual(readResults(file), JSON.parse(JSON.stringify(sample)));
  assert.equal(readResults(dir).cells.length, 1);
});

test('a missing file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-read-'));
  assert.match(failure(join(dir, 'results.json'), join(dir, 'results.json')), /no such results file/);
  assert.match(failure(dir, join(dir, 'results.json')), /no such results file/);
});

test('a truncated file', () => {
  const text = JSON.stringify(sampleResults(), null, 2);
  const { file } = dirWith(text.slice(0, Math.floor(text.length / 2)));
  assert.match(failure(file, file), /not valid JSON, truncated or damaged/);
});

test('a file from a newer schema says so and what this sluice reads', () => {
  const { file } = dirWith(JSON.stringify({ ...sampleResults(), schema: 'sluice.results/v2', somethingNew: [] }));
  assert.equal(failure(file, file), `${file}: written as sluice.results/v2, newer than this sluice reads (sluice.results/v1); update sluice to read it`);
});

test('a file that is not sluice results, and one with a wrong field', () => {
  const other = dirWith(JSON.stringify({ name: 'package' }));
  assert.match(failure(other.file, other.file), /not a sluice results file/);
  const sample = sampleResults();
  sample.cells[0]!.reps[0]!.rps = 'fast' as unknown as number;
  const wrong = dirWith(JSON.stringify(sample));
  assert.match(failure(wrong.file, wrong.file), /not valid sluice\.results\/v1: cells\.0\.reps\.0\.rps: .*number/);
});
