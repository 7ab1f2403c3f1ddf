// A matrix's `gates:`: how far a candidate run may move from its baseline before `npm run gate` fails it.
// Relative thresholds (a drop or a rise of the mean, as a fraction) for the metrics compare computes, absolute
// ones for rates that should stay near zero whatever the baseline did, and the confidence the gate asks.
import { z } from 'zod';

export const DEFAULT_CONFIDENCE = 0.95;

/**
 * A relative threshold: `5%` or the fraction `0.05`. A bare number must be a fraction of at most 1, so `10` is
 * refused rather than read as 10% or 1000%; a rise above 100% is written as a percentage (`150%`).
 */
function fraction(limit: { below1: boolean }) {
  const expected = `expected a percentage such as 5% or a fraction such as 0.05${limit.below1 ? ' (below 100%)' : ''}`;
  return z.union([z.number(), z.string()]).transform((raw, ctx) => {
    const value = typeof raw === 'number' ? raw : /^\d+(\.\d+)?%$/.test(raw) ? Number(raw.slice(0, -1)) / 100 : NaN;
    const tooBig = limit.below1 ? value >= 1 : typeof raw === 'number' && value > 1;
    if (Number.isNaN(value) || value <= 0 || tooBig) {
      ctx.addIssue({ code: 'custom', message: `${expected}, got ${JSON.stringify(raw)}` });
      return z.NEVER;
    }
    return value;
  }).meta({ storedAs: 'fraction' });
}

/** Marks what results.json stores for a threshold written as `5%` or `0.05`: the fraction (results' JSON Schema). */
export const STORED_AS_FRACTION = 'fraction';

const rise = z.strictObject({ maxRise: fraction({ below1: false }) });
const rate = z.strictObject({ max: z.number().min(0).max(1) });

export const gatesSchema = z.strictObject({
  /** The interval's level and 1 - the test's significance level; 0.95 unless given. */
  confidence: z.number().min(0.5).max(0.999).optional(),
  /** Goodput may drop by at most this much. */
  rps: z.strictObject({ maxDrop: fraction({ below1: true }) }).optional(),
  p50: rise.optional(),
  p99: rise.optional(),
  p999: rise.optional(),
  /** The proxy's CPU time per request (absent for `target: direct` cells, which are then not gated on it). */
  cpuPerRequest: rise.optional(),
  /** Absolute: the candidate's failed requests / requests over all its repetitions. */
  errorRate: rate.optional(),
  /** Absolute: the candidate's RST_STREAM received / requests over all its repetitions. */
  rstRate: rate.optional(),
});

export type Gates = z.infer<typeof gatesSchema>;
