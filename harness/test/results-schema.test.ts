// results.schema.json is generated from the zod schemas and committed: it must be what the code generates now,
// and it must describe every field the README documents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RESULTS_SCHEMA_FILE, resultsJsonSchemaText } from '../results/schema/json-schema.js';
import { resultsSchema } from '../results/schema/run.js';
import { sampleResults } from './helpers/sample-results.js';

const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

interface JsonSchema {
  type?: string;
  $ref?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  $defs?: Record<string, JsonSchema>;
}

test('the committed results.schema.json is what the zod schemas generate (run `npm run schema` after changing them)', () => {
  const committed = readFileSync(RESULTS_SCHEMA_FILE, 'utf8');
  assert.ok(committed === resultsJsonSchemaText(), `${RESULTS_SCHEMA_FILE} is out of date: run npm run schema`);
});

test("every field of the README's results table is in the schema of a repetition", () => {
  const schema = JSON.parse(readFileSync(RESULTS_SCHEMA_FILE, 'utf8')) as JsonSchema;
  const rep = schema.$defs?.['MeasuredRep']?.properties ?? {};
  const readme = readFileSync(README, 'utf8');
  const section = readme.slice(readme.indexOf('## Results and the report'), readme.indexOf('Each cell\'s `summary`'));
  const fields = [...section.matchAll(/^\| (.+?) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([A-Za-z0-9]+)`/g)].map((f) => f[1]!));
  assert.ok(fields.length >= 25, `found ${fields.length} fields in the README's table`);
  for (const f of fields) assert.ok(rep[f], `README documents ${f}, the schema of a repetition lacks it`);
  assert.equal(rep['rps']?.type, 'number');
  assert.equal(rep['latencyMs']?.$ref, '#/$defs/LatencySummaryMs');
  assert.deepEqual(schema.$defs?.['LatencySummaryMs']?.required, ['p50', 'p90', 'p99', 'p999', 'max', 'mean']);
});

test('the run records what makes runs comparable, as required fields', () => {
  const schema = JSON.parse(readFileSync(RESULTS_SCHEMA_FILE, 'utf8')) as JsonSchema;
  const run = schema.properties?.['run'];
  for (const key of ['git', 'host', 'matrix', 'generator', 'proxy', 'pinning', 'options']) assert.ok(run?.required?.includes(key), key);
  assert.deepEqual(run?.properties?.['host']?.required, ['cpuModel', 'cores', 'memoryBytes', 'kernel', 'node']);
  assert.ok(run?.properties?.['options']?.required?.includes('order'));
});

test('a results object sluice builds validates, and nothing in it is left undescribed', () => {
  const sample = sampleResults();
  const raw: unknown = JSON.parse(JSON.stringify(sample));
  const parsed = resultsSchema.safeParse(raw);
  assert.ok(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 3)));
  // zod drops keys it does not know: equal means every key is described (what additionalProperties: false checks).
  assert.deepEqual(parsed.data, raw);
  const wrong = resultsSchema.safeParse({ ...sample, cells: [{ ...sample.cells[0], reps: [{ ...sample.cells[0]!.reps[0], rps: '12' }] }] });
  assert.equal(wrong.success, false);
});
