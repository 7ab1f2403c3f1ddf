// One cell of results.json (model.ts CellResult): its parameters, its repetitions and their summary.
import { z } from 'zod';
import { AXES, AXIS_NAMES, type AxisName } from '../../matrix/axes.js';
import { connectRecord, counts, latencySummary, percentileName } from './rep.js';
import { headlineSchema, linkRoleSchema, measuredRepSchema } from './measured.js';

/** Every axis with its own value type (matrix/axes.ts), so the schema says what a cell's params may hold. */
const paramsShape = Object.fromEntries(AXIS_NAMES.map((name) => [name, AXES[name].value])) as { [K in AxisName]: (typeof AXES)[K]['value'] };
export const cellParamsSchema = z
  .object({
    ...paramsShape,
    // Runs written before the axis existed ran our proxy: read so, they still compare with today's.
    proxy: AXES.proxy.value.default(AXES.proxy.default),
  })
  .meta({ id: 'CellParams' });

export const proxyConfigSchema = z
  .object({
    command: z.array(z.string()).describe('the command and its arguments, as started (before any taskset)'),
    files: z.record(z.string(), z.string()).optional().describe('config files written, by name, with their text'),
  })
  .meta({ id: 'ProxyConfig' });

export const cellProxySchema = z
  .object({
    name: z.string().describe('its driver, the proxy axis value'),
    version: z.string().describe('as the proxy reports it (ours: sluice\'s package version)'),
    config: proxyConfigSchema.describe('of the cell\'s last visit'),
  })
  .describe('the proxy the cell ran through; absent for target: direct');

export const estimateSchema = z.object({
  median: z.number(),
  ci95: z.tuple([z.number(), z.number()]).describe('95% confidence interval of the mean over repetitions (Student\'s t)'),
  mean: z.number(),
  n: z.number().int(),
}).meta({ id: 'Estimate' });

export const cellSummarySchema = z.object({
  rps: estimateSchema,
  completedRps: estimateSchema,
  errorRate: estimateSchema,
  bodyBytesPerS: estimateSchema.optional(),
  p50Ms: estimateSchema,
  p99Ms: estimateSchema,
  p999Ms: estimateSchema,
  rstRate: estimateSchema,
  latencyMs: latencySummary.describe('every request of every repetition: the exact merge of their histograms'),
  latencyLowerBounds: z.array(percentileName),
  successLatencyMs: latencySummary,
  histogram: z.string(),
  requests: z.number(),
  successes: z.number(),
  errors: counts,
  generatorSaturatedReps: z.number().int(),
  headline: headlineSchema.extend({ estimate: estimateSchema }).optional(),
}).meta({ id: 'CellSummary' });

export const cellResultSchema = z.object({
  id: z.string(),
  params: cellParamsSchema,
  axes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).describe('the swept axes and their values for this cell'),
  proxy: cellProxySchema.optional(),
  status: z.enum(['ok', 'failed']),
  error: z.string().optional(),
  stderrTail: z.string().optional(),
  startedAt: z.string(),
  finishedAt: z.string(),
  overheadMs: z.object({ start: z.number(), stop: z.number() }).describe('starting and stopping its processes, per visit (the mean over visits)'),
  visits: z.number().int().min(1).describe('times its processes were started: 1 (order cell) or one per repetition (interleave)'),
  connect: connectRecord.optional(),
  links: z.array(z.object({ role: linkRoleSchema, routes: z.number(), warning: z.string().optional() })).optional(),
  warnings: z.array(z.string()).optional(),
  reps: z.array(measuredRepSchema),
  summary: cellSummarySchema.optional(),
  scenario: z.record(z.string(), z.unknown()).optional(),
});
