// The generator's record of one repetition (harness/load/types.ts RepResult) as zod, the source of the JSON
// Schema's repetition. The interface keeps the documentation; agreement.ts makes tsc fail when the two differ.
import { z } from 'zod';

/** Counts by a name (an error class, an RST_STREAM code, ...). */
export const counts = z.record(z.string(), z.number());

export const latencySummary = z.object({
  p50: z.number(),
  p90: z.number(),
  p95: z.number().optional(),
  p99: z.number(),
  p999: z.number(),
  max: z.number(),
  mean: z.number(),
}).meta({ id: 'LatencySummaryMs' });

export const percentileName = z.enum(['p50', 'p90', 'p95', 'p99', 'p999', 'max']);

export const traceBucket = z.object({
  t: z.number(),
  ok: z.number(),
  errors: counts,
  endpoints: counts,
  maxLatencyMs: z.number(),
});

const openLoop = z.object({
  targetRps: z.number(),
  sentRps: z.number(),
  lagP50Ms: z.number().optional(),
  lagP99Ms: z.number().optional(),
  maxLagMs: z.number(),
  meanLagMs: z.number(),
  behind: z.boolean(),
  due: z.number().optional(),
  sent: z.number().optional(),
  capped: z.number().optional(),
  pacerCpu: z.number().optional(),
});

export const connectRecord = z.object({ ms: z.number(), connections: z.number(), ready: z.number() });

const ms = (what: string) => latencySummary.describe(what);

export const repResultSchema = z.object({
  rps: z.number().describe('goodput: requests sent in the window that succeeded, per second of durationS'),
  completedRps: z.number().describe('every outcome, successes and failures, per second of durationS'),
  requests: z.number().describe('requests sent in the measured window, each a success or one error class'),
  successes: z.number(),
  errorRate: z.number().describe('failed / requests'),
  bodyBytesPerS: z.number().optional().describe('response body bytes that arrived inside the window, per second'),
  durationS: z.number().describe('the measured window as it really was'),
  latencyMs: ms('every request of the window, send (intended, in open loop) to outcome; timeouts at the timeout'),
  latencyLowerBounds: z.array(percentileName).describe('percentiles of latencyMs a timeout reached: lower bounds'),
  successLatencyMs: ms('the successful requests only'),
  errors: counts.describe('failed requests by class: rst:<CODE>, goaway:<CODE>, ECONNRESET, timeout, status:5xx, ...'),
  rst: z.object({ received: counts, sent: counts }).describe('RST_STREAM frames by code name on the window\'s requests'),
  rstRate: z.number().describe('RST_STREAM received / requests'),
  drainMs: z.number().optional().describe('from the window\'s end until the last request sent in it had its outcome'),
  connect: connectRecord.optional(),
  generatorSaturated: z.boolean(),
  generatorCpu: z.number(),
  histogram: z.string().describe('HdrHistogram of latencyMs, compressed base64, microseconds'),
  successHistogram: z.string(),
  goawayReceived: counts.optional(),
  goawayStreamsCut: counts.optional(),
  timeSeries: z.array(z.object({ t: z.number(), rps: z.number(), p99Ms: z.number(), errors: z.number() })).optional(),
  openLoop: openLoop.optional(),
  uncorrectedLatencyMs: ms('open loop only: from the real send instead of the intended one').optional(),
  uncorrectedHistogram: z.string().optional(),
  littlesLaw: z.object({ concurrency: z.number(), estimate: z.number(), ratio: z.number() }).optional(),
  workers: z.array(z.object({ elu: z.number(), requests: z.number() })).optional(),
  generator: z.enum(['sluice', 'h2load']).optional(),
  streaming: z
    .object({ messages: z.number(), messagesPerS: z.number(), messageLatencyMs: latencySummary, messageHistogram: z.string() })
    .optional(),
  ramp: z.array(z.object({ call: z.number(), connections: z.number(), ttfbMs: z.number(), totalMs: z.number() })).optional(),
  trace: z.object({ bucketMs: z.number(), buckets: z.array(traceBucket) }).optional(),
  attack: z
    .object({ kind: z.literal('rapid-reset'), streams: z.number(), goaway: counts, connectionsClosed: z.number(), reconnects: z.number() })
    .optional(),
  connections: z.object({ closedByPeer: z.number(), opened: z.number() }).optional(),
  stalled: z.object({ streams: z.number(), resetByPeer: counts }).optional(),
}).meta({ id: 'RepResult' });
