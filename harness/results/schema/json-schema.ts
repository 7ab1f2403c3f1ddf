// results.schema.json is generated from the zod schemas (`npm run schema`), never edited by hand; a test fails
// when the committed file and this differ.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { RESULTS_SCHEMA, resultsSchema } from './run.js';

/** The committed file, found from this compiled file (dist/harness/results/schema/) or its source. */
export const RESULTS_SCHEMA_FILE = fileURLToPath(new URL('../../../../harness/results/results.schema.json', import.meta.url));

/** The JSON Schema (draft 2020-12) of results.json, as text: what `npm run schema` writes. */
export function resultsJsonSchemaText(): string {
  const schema = z.toJSONSchema(resultsSchema, { target: 'draft-2020-12', io: 'output' });
  const titled = {
    $schema: schema.$schema,
    title: `${RESULTS_SCHEMA}: the results of a sluice bench run (results/<run-id>/results.json)`,
    ...schema,
  };
  return JSON.stringify(titled, null, 2) + '\n';
}
