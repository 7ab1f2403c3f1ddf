// `npm run schema`: writes harness/results/results.schema.json from the zod schemas in harness/results/schema/.
// The file is committed so that other tools can validate results.json without sluice; a test keeps it in sync.
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { RESULTS_SCHEMA_FILE, resultsJsonSchemaText } from '../harness/results/schema/json-schema.js';

writeFileSync(RESULTS_SCHEMA_FILE, resultsJsonSchemaText());
process.stdout.write(`sluice: wrote ${relative(process.cwd(), RESULTS_SCHEMA_FILE)}\n`);
