// The whole of results.json (model.ts RunResults): the run (what makes it comparable with another), its cells
// and the cells the matrix excluded. resultsSchema is the one source of results.schema.json.
import { z } from 'zod';
import { matrixSchema } from '../../matrix/schema.js';
import { cellResultSchema } from './cell.js';

export const RESULTS_SCHEMA = 'sluice.results/v1';

export const hostSchema = z.object({
  name: z.string().optional(),
  cpuModel: z.string(),
  cores: z.number().int(),
  memoryBytes: z.number(),
  kernel: z.string(),
  node: z.string().describe('the Node.js version the harness ran on (process.version)'),
});

/** A program that took part in the run and its version: the generator, the proxy. */
export const componentSchema = z.object({
  name: z.string(),
  version: z.string(),
  revision: z.string().nullable().describe('git commit it was built from, where known'),
});

const cpuList = z.array(z.number().int().min(0)).min(1);
export const pinningSchema = z
  .object({ proxy: cpuList.optional(), load: cpuList.optional(), backends: cpuList.optional() })
  .describe('CPUs each role was pinned to (--pin); a role left out was not pinned');

export const runInfoSchema = z.object({
  id: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  status: z.enum(['running', 'complete', 'interrupted']),
  git: z.object({ commit: z.string(), dirty: z.boolean() }).nullable(),
  host: hostSchema,
  matrix: z.object({ name: z.string(), file: z.string(), sha256: z.string(), spec: matrixSchema.meta({ id: 'MatrixSpec' }) }),
  generator: componentSchema,
  proxy: componentSchema,
  pinning: pinningSchema,
  options: z.object({
    only: z.array(z.string()),
    durationMs: z.number(),
    warmupMs: z.number(),
    reps: z.number().int(),
    order: z.enum(['interleave', 'cell']).describe('interleave: every cell\'s repetition 1, then every cell\'s 2, ...; cell: all of a cell\'s repetitions at once'),
  }),
  overheadMs: z.object({ start: z.number(), stop: z.number() }).optional(),
});

export const resultsSchema = z.object({
  schema: z.literal(RESULTS_SCHEMA),
  run: runInfoSchema,
  cells: z.array(cellResultSchema),
  excluded: z.array(z.object({ id: z.string(), reason: z.string() })),
});
