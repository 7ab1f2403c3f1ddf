// The matrix file format (DESIGN.md "Matrices"), validated with zod. Unknown keys are refused so a typo
// (`concurrncy:`) is an error, not a silently ignored axis.
import { z } from 'zod';
import { parseDuration } from '../../common/duration.js';
import { AXES, axesSchema, defaultsSchema, exclusionSchema } from './axes.js';
import { gatesSchema } from './gates.js';

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

export { AXIS_NAMES, type AxisName } from './axes.js';

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

/**
 * The backends' faults (workloads/backends/README.md), the same for every cell; a scenario may add its own. They
 * apply to every endpoint, or with slowEndpoints K to the first K only.
 */
const faultKeys = {
  slowEndpoints: z.number().int().min(1).max(1000).optional(),
  slowLatency: z.string().min(1).optional(),
  refuse: z.enum(['closed', 'reset']).optional(),
  resetShare: z.number().min(0).max(1).optional(),
  resetCode: z.string().min(1).optional(),
  failShare: z.number().min(0).max(1).optional(),
  failStatus: z.number().int().min(400).max(599).optional(),
  failGrpc: z.string().min(1).optional(),
  idleCloseMs: z.number().int().min(1).optional(),
  earlyStatus: z.number().int().min(400).max(599).optional(),
  earlyAfterBytes: z.number().int().min(0).optional(),
  earlyLingerMs: z.number().int().min(0).max(60_000).optional(),
  stallRead: z.boolean().optional(),
} as const;

export const matrixSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected a name of letters, digits, . _ -'),
    description: z.string().optional(),
    /** The protocol and scenario of every cell unless swept (as `defaults:` does for the other axes). */
    protocol: AXES.protocol.value.default(AXES.protocol.default),
    scenario: AXES.scenario.value.default(AXES.scenario.default),
    duration: durationString,
    warmup: durationString.default('1s'),
    reps: z.number().int().min(1).max(100).default(1),
    timeout: durationString.default('5s'),
    /** Which engine generates the load: sluice's own, or nghttp2's h2load (h2 cells only). */
    generator: z.enum(['sluice', 'h2load']).default('sluice'),
    backend: z
      .strictObject({
        latency: latency.default({ dist: 'fixed', ms: 0 }),
        /** The responseBytes of every cell unless swept (the same as `defaults: {responseBytes}`). */
        responseBytes: AXES.responseBytes.value.optional(),
        ...faultKeys,
      })
      .default({ latency: { dist: 'fixed', ms: 0 } }),
    request: z
      .strictObject({
        method: z.enum(['GET', 'POST', 'PUT']).default('GET'),
        /** The requestBytes of every cell unless swept (the same as `defaults: {requestBytes}`). */
        bodyBytes: AXES.requestBytes.value.optional(),
      })
      .default({ method: 'GET' }),
    /** Values used where an axis is not swept. */
    defaults: defaultsSchema.default({}),
    axes: axesSchema.refine((a) => Object.keys(a).length > 0, { message: 'at least one axis is needed' }),
    exclude: z.array(exclusionSchema).default([]),
    /** Thresholds for `npm run gate` (gates.ts). */
    gates: gatesSchema.default({}),
  })
  .superRefine((spec, ctx) => {
    // One value, one place: a value given twice would leave the reader guessing which one a cell got.
    const twice: [string[], string[], boolean][] = [
      [['backend', 'responseBytes'], ['defaults', 'responseBytes'], spec.backend.responseBytes !== undefined && spec.defaults.responseBytes !== undefined],
      [['request', 'bodyBytes'], ['defaults', 'requestBytes'], spec.request.bodyBytes !== undefined && spec.defaults.requestBytes !== undefined],
    ];
    for (const [a, b, both] of twice) {
      if (both) ctx.addIssue({ code: 'custom', path: b, message: `given twice: also ${a.join('.')}; keep one` });
    }
    for (const name of ['protocol', 'scenario'] as const) {
      if (spec.defaults[name] !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['defaults', name], message: `${name} is set at the top level of a matrix (${name}: ...), not under defaults` });
      }
    }
    for (const name of Object.keys(spec.axes) as (keyof typeof spec.axes)[]) {
      if (spec.defaults[name] !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['defaults', name], message: `${name} is swept under axes; a default for it would never be used` });
      }
    }
  });

export type MatrixSpec = z.infer<typeof matrixSchema>;
export type LatencySpec = MatrixSpec['backend']['latency'];
export type Exclusion = MatrixSpec['exclude'][number];
