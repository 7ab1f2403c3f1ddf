// The matrix file format (DESIGN.md "Matrices"), validated with zod. Unknown keys are refused so a typo
// (`concurrncy:`) is an error, not a silently ignored axis.
import { z } from 'zod';
import { parseDuration } from '../../common/duration.js';

const MAX_WINDOW = 2 ** 31 - 1;

const durationString = z.string().refine(
  (s) => {
    try {
      parseDuration(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected a duration such as 500ms, 5s or 2m' },
);

const protocol = z.enum(['h1', 'h2', 'grpc']);
const scenario = z.string().min(1);

/** Each axis: the type of one value. A matrix may give these as a scalar (fixed for all cells) or under `axes:`. */
export const axisValue = {
  protocol,
  scenario,
  streamWindow: z.number().int().min(0).max(MAX_WINDOW),
  connWindow: z.number().int().min(65535).max(MAX_WINDOW),
  adaptive: z.boolean(),
  concurrency: z.number().int().min(1).max(10_000),
  connections: z.number().int().min(1).max(10_000),
  endpoints: z.number().int().min(1).max(1000),
  /** proxy: load goes through the proxy; direct: straight to the first backend endpoint, the baseline the proxy's cost is read against. */
  target: z.enum(['proxy', 'direct']),
} as const;

export type AxisName = keyof typeof axisValue;
export const AXIS_NAMES = Object.keys(axisValue) as AxisName[];

const axes = z.strictObject({
  protocol: z.array(axisValue.protocol).nonempty().optional(),
  scenario: z.array(axisValue.scenario).nonempty().optional(),
  streamWindow: z.array(axisValue.streamWindow).nonempty().optional(),
  connWindow: z.array(axisValue.connWindow).nonempty().optional(),
  adaptive: z.array(axisValue.adaptive).nonempty().optional(),
  concurrency: z.array(axisValue.concurrency).nonempty().optional(),
  connections: z.array(axisValue.connections).nonempty().optional(),
  endpoints: z.array(axisValue.endpoints).nonempty().optional(),
  target: z.array(axisValue.target).nonempty().optional(),
});

const scalarOrList = <T extends z.ZodType>(t: T) => z.union([t, z.array(t).nonempty()]);

/** An exclusion names axis values (one or a list each); a cell matching all of them is skipped. `reason` says why. */
const exclusion = z
  .strictObject({
    reason: z.string().min(1).optional(),
    protocol: scalarOrList(axisValue.protocol).optional(),
    scenario: scalarOrList(axisValue.scenario).optional(),
    streamWindow: scalarOrList(axisValue.streamWindow).optional(),
    connWindow: scalarOrList(axisValue.connWindow).optional(),
    adaptive: scalarOrList(axisValue.adaptive).optional(),
    concurrency: scalarOrList(axisValue.concurrency).optional(),
    connections: scalarOrList(axisValue.connections).optional(),
    endpoints: scalarOrList(axisValue.endpoints).optional(),
    target: scalarOrList(axisValue.target).optional(),
  })
  .refine((e) => Object.keys(e).some((k) => k !== 'reason'), { message: 'an exclusion must name at least one axis' });

const latency = z.discriminatedUnion('dist', [
  z.strictObject({ dist: z.literal('fixed'), ms: z.number().min(0) }),
  z.strictObject({ dist: z.literal('uniform'), minMs: z.number().min(0), maxMs: z.number().min(0) }),
  z.strictObject({ dist: z.literal('normal'), ms: z.number().min(0), stddevMs: z.number().min(0) }),
  z.strictObject({ dist: z.literal('lognormal'), ms: z.number().min(0), sigma: z.number().min(0) }),
  z.strictObject({
    dist: z.literal('bimodal'),
    ms: z.number().min(0),
    slowMs: z.number().min(0),
    slowShare: z.number().min(0).max(1),
  }),
]);

const percent = z.string().regex(/^\d+(\.\d+)?%$/, 'expected a percentage such as 5%');

export const matrixSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected a name of letters, digits, . _ -'),
  description: z.string().optional(),
  protocol: axisValue.protocol.default('h2'),
  scenario: axisValue.scenario.default('unary'),
  duration: durationString,
  warmup: durationString.default('1s'),
  reps: z.number().int().min(1).max(100).default(1),
  timeout: durationString.default('5s'),
  /** Which engine generates the load: sluice's own, or nghttp2's h2load (h2 cells only). */
  generator: z.enum(['sluice', 'h2load']).default('sluice'),
  backend: z
    .strictObject({
      latency: latency.default({ dist: 'fixed', ms: 0 }),
      responseBytes: z.number().int().min(0).max(64 * 1024 * 1024).default(1024),
    })
    .default({ latency: { dist: 'fixed', ms: 0 }, responseBytes: 1024 }),
  request: z
    .strictObject({
      method: z.enum(['GET', 'POST', 'PUT']).default('GET'),
      bodyBytes: z.number().int().min(0).max(64 * 1024 * 1024).default(0),
    })
    .default({ method: 'GET', bodyBytes: 0 }),
  /** Values used where an axis is not swept. */
  defaults: z
    .strictObject({
      streamWindow: axisValue.streamWindow.optional(),
      connWindow: axisValue.connWindow.optional(),
      adaptive: axisValue.adaptive.optional(),
      concurrency: axisValue.concurrency.optional(),
      connections: axisValue.connections.optional(),
      endpoints: axisValue.endpoints.optional(),
      target: axisValue.target.optional(),
    })
    .default({}),
  axes: axes.refine((a) => Object.keys(a).length > 0, { message: 'at least one axis is needed' }),
  exclude: z.array(exclusion).default([]),
  gates: z
    .strictObject({
      rps: z.strictObject({ maxDrop: percent }).optional(),
      p99: z.strictObject({ maxRise: percent }).optional(),
      rstRate: z.strictObject({ max: z.number().min(0).max(1) }).optional(),
    })
    .default({}),
});

export type MatrixSpec = z.infer<typeof matrixSchema>;
export type LatencySpec = MatrixSpec['backend']['latency'];
export type Exclusion = MatrixSpec['exclude'][number];
