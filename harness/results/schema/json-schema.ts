// results.schema.json is generated from the zod schemas (`npm run schema`), never edited by hand; a test fails
// when the committed file and this differ.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { STORED_AS_FRACTION } from '../../matrix/gates.js';
import { RESULTS_SCHEMA, resultsSchema } from './run.js';

/** The committed file, found from this compiled file (dist/harness/results/schema/) or its source. */
export const RESULTS_SCHEMA_FILE = fileURLToPath(new URL('../../../../harness/results/results.schema.json', import.meta.url));

/** The JSON Schema (draft 2020-12) of results.json, as text: what `npm run schema` writes. */
export function resultsJsonSchemaText(): string {
  const schema = z.toJSONSchema(resultsSchema, {
    target: 'draft-2020-12',
    io: 'output',
    // A gate threshold is parsed from `5%` by a transform, which JSON Schema cannot say; what is stored is the fraction.
    unrepresentable: 'any',
    override: (ctx) => {
      if (z.globalRegistry.get(ctx.zodSchema)?.['storedAs'] === STORED_AS_FRACTION) {
        for (const key of Object.keys(ctx.jsonSchema)) if (key !== 'storedAs') delete ctx.jsonSchema[key];
        Object.assign(ctx.jsonSchema, { type: 'number', exclusiveMinimum: 0, description: 'a fraction (the matrix file may say 5% or 0.05)' });
        delete ctx.jsonSchema['storedAs'];
      }
    },
  });
  const titled = {
    $schema: schema.$schema,
    title: `${RESULTS_SCHEMA}: the results of a sluice bench run (results/<run-id>/results.json)`,
    ...schema,
  };
  return JSON.stringify(titled, null, 2) + '\n';
}
