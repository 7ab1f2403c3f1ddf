import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readResultsFile, ResultsFileError } from '../../results/read-results.js';
import { fixtureRun, TWO_CELLS } from '../helpers/results-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-read-results-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = fixtureRun(TWO_CELLS, () => [{ rps: 1000 }]);
const write = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const refused = (input: string, re: RegExp) => assert.throws(() => readResultsFile(input), (e: Error) => e instanceof ResultsFileError && re.test(e.message));

test('a run folder or a results.json file', () => {
  mkdirSync(join(dir, 'run'));
  writeFileSync(join(dir, 'run', 'results.json'), JSON.stringify(run));
  assert.equal(readResultsFile(join(dir, 'run')).results.run.id, 'run-a');
  assert.equal(readResultsFile(join(dir, 'run', 'results.json')).file, join(dir, 'run', 'results.json'));
});

test('missing, truncated, another or newer schema, missing fields: refused naming the file', () => {
  refused(join(dir, 'nope'), /nope\/results\.json: no such file|nope: no such file/);
  const text = JSON.stringify(run);
  refused(write('cut.json', text.slice(0, text.length / 2)), /cut\.json: not valid JSON, truncated/);
  refused(write('v9.json', JSON.stringify({ ...run, schema: 'sluice.results/v9' })), /v9\.json: schema sluice\.results\/v9 was written by a newer sluice; this one reads sluice\.results\/v1/);
  refused(write('other.json', JSON.stringify({ hello: 1 })), /other\.json: no "schema" field/);
  refused(write('old.json', JSON.stringify({ ...run, schema: 'sluice.results/v0' })), /old\.json: schema "sluice\.results\/v0", expected/);
  const broken = JSON.parse(text) as { cells: { reps: { rps?: number }[] }[] };
  delete broken.cells[1]!.reps[0]!.rps;
  refused(write('broken.json', JSON.stringify(broken)), /broken\.json: cells\.1\.reps\.0\.rps: .*not a usable sluice\.results\/v1 file/);
});
