// One repetition as results.json stores it (model.ts MeasuredRep): the generator's record plus what the
// orchestrator read of the proxy (its CPU, memory and /metrics), of the emulated links and of the scenario.
import { z } from 'zod';
import { repResultSchema } from './rep.js';

/** Counts that may leave a name out (proxy-metrics.ts Counts), and the same grouped by one more label. */
const sparseCounts = z.record(z.string(), z.number().optional());
const grouped = z.record(z.string(), sparseCounts.optional());
const byDirection = z.record(z.string(), grouped.optional());

export const proxyMetricsSchema = z.object({
  rst: byDirection,
  goaway: byDirection,
  requests: sparseCounts,
  retries: sparseCounts,
  retryBudgetExhausted: z.number(),
  sheds: sparseCounts,
  timeouts: sparseCounts,
  failFastS: z.number(),
  adaptiveWindowChanges: grouped,
  connectionsClosed: grouped,
  rapidResets: z.number(),
  keepaliveTimeouts: sparseCounts,
  sessions: z.object({ opened: sparseCounts, atEnd: sparseCounts }),
  streams: z.object({ opened: sparseCounts, atEnd: sparseCounts }),
  windowsAtEnd: grouped,
}).meta({ id: 'ProxyMetricsDelta' });

export const proxyRepSchema = z
  .object({
    cpuS: z.number().describe('CPU seconds the proxy used during the measured window'),
    peakRssBytes: z.number(),
    endRssBytes: z.number().optional(),
    metrics: proxyMetricsSchema.optional().describe("our proxy's /metrics over the repetition: counters as increases, gauges at the end"),
    native: z
      .record(z.string(), z.number())
      .optional()
      .describe("another proxy's own metrics over the repetition, by name, labels summed: a counter's increase (zeros left out) or a gauge at the end"),
  })
  .describe('what the orchestrator read of the proxy; absent for target: direct');

export const linkRoleSchema = z.enum(['upstream', 'downstream', 'direct']);

export const linkRepSchema = z.object({
  role: linkRoleSchema,
  cpuS: z.number(),
  saturated: z.boolean(),
  reason: z.string().optional(),
  stats: z.record(z.string(), z.unknown()).optional(),
});

export const headlineSchema = z.object({
  name: z.string(),
  value: z.number(),
  unit: z.string(),
  better: z.enum(['lower', 'higher']),
  /** A bound, not a measurement: what it times never happened within the window (the value). */
  censored: z.boolean().optional(),
});

const observedEvent = z.object({
  name: z.string(),
  appliedMs: z.number(),
  proxyAppliedMs: z.number().optional(),
  newEndpoints: z.array(z.string()).optional(),
  oldEndpoints: z.array(z.string()).optional(),
});

/** A scenario's outcome: its headline and timeline, then fields of its own (workloads/scenarios/). */
const scenarioOutcome = z.looseObject({ headline: headlineSchema, events: z.array(observedEvent) });

/** What h2load adds to a record it produced (harness/load/external/h2load.ts). */
const h2loadExtra = z.object({
  requests: z.object({ total: z.number(), started: z.number(), done: z.number(), succeeded: z.number(), failed: z.number(), errored: z.number(), timeout: z.number() }),
  statusCodes: z.object({ '2xx': z.number(), '3xx': z.number(), '4xx': z.number(), '5xx': z.number() }),
  trafficBytes: z.object({ total: z.number(), headers: z.number(), data: z.number() }),
  version: z.string(),
  args: z.array(z.string()),
});

export const measuredRepSchema = repResultSchema.extend({
  proxy: proxyRepSchema.optional(),
  links: z.array(linkRepSchema).optional(),
  scenario: scenarioOutcome.optional(),
  attacker: repResultSchema.optional(),
  generatorNotes: z.array(z.string()).optional(),
  h2load: h2loadExtra.optional(),
}).meta({ id: 'MeasuredRep' });
