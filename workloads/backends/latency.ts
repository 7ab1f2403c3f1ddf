// Latency distributions for the synthetic backends: the matrix's object form, the --latency flag form,
// and a sampler. Pure: randomness is injected, so tests can use a seeded generator.
import { parseDuration } from '../../common/duration.js';
import { mulberry32, type Random } from '../../common/seeded-random.js';

/** The same shape as a matrix file's `backend.latency` (all times in milliseconds). */
export type LatencySpec =
  | { dist: 'fixed'; ms: number }
  | { dist: 'uniform'; minMs: number; maxMs: number }
  | { dist: 'normal'; ms: number; stddevMs: number }
  | { dist: 'lognormal'; ms: number; sigma: number }
  | { dist: 'bimodal'; ms: number; slowMs: number; slowShare: number };

export type { Random };

/** No sample (and no parameter) exceeds this: setTimeout turns anything above 2^31-1 ms into 1 ms. */
export const MAX_LATENCY_MS = 3_600_000;

export class LatencyError extends Error {
  constructor(readonly where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = 'LatencyError';
  }
}

const FORMS = 'expected 1ms, fixed:1ms, uniform:1ms:5ms, normal:5ms:1ms, lognormal:5ms:0.5 or bimodal:1ms:50ms:0.05';

/** Reads the --latency flag form: `1ms` | `fixed:1ms` | `uniform:MIN:MAX` | `normal:MEAN:STDDEV` | `lognormal:MEDIAN:SIGMA` | `bimodal:FAST:SLOW:SHARE`. */
export function parseLatency(input: string, where = '--latency'): LatencySpec {
  const parts = input.trim().split(':');
  const kind = parts.length === 1 ? 'fixed' : parts[0]!;
  const args = parts.length === 1 ? parts : parts.slice(1);
  const arity: Record<string, number> = { fixed: 1, uniform: 2, normal: 2, lognormal: 2, bimodal: 3 };
  const expected = arity[kind];
  if (expected === undefined) throw new LatencyError(where, `"${input}": unknown distribution "${kind}"; ${FORMS}`);
  if (args.length !== expected) {
    throw new LatencyError(where, `"${input}": ${kind} takes ${expected} value(s), got ${args.length}; ${FORMS}`);
  }
  const ms = (i: number): number => {
    try {
      return parseDuration(args[i]!, where);
    } catch {
      throw new LatencyError(where, `"${input}": "${args[i]}" is not a duration; ${FORMS}`);
    }
  };
  const num = (i: number): number => {
    const text = args[i]!;
    const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
    if (Number.isNaN(value)) throw new LatencyError(where, `"${input}": "${text}" is not a number; ${FORMS}`);
    return value;
  };
  let spec: LatencySpec;
  switch (kind) {
    case 'uniform':
      spec = { dist: 'uniform', minMs: ms(0), maxMs: ms(1) };
      break;
    case 'normal':
      spec = { dist: 'normal', ms: ms(0), stddevMs: ms(1) };
      break;
    case 'lognormal':
      spec = { dist: 'lognormal', ms: ms(0), sigma: num(1) };
      break;
    case 'bimodal':
      spec = { dist: 'bimodal', ms: ms(0), slowMs: ms(1), slowShare: num(2) };
      break;
    default:
      spec = { dist: 'fixed', ms: ms(0) };
  }
  validateLatency(spec, where);
  return spec;
}

/** Checks ranges (non-negative, min <= max, share in [0, 1], at most MAX_LATENCY_MS); throws a LatencyError naming `where`. */
export function validateLatency(spec: LatencySpec, where = 'latency'): void {
  const times: Array<[string, number]> = [];
  switch (spec.dist) {
    case 'fixed':
      times.push(['ms', spec.ms]);
      break;
    case 'uniform':
      times.push(['minMs', spec.minMs], ['maxMs', spec.maxMs]);
      if (spec.minMs > spec.maxMs) throw new LatencyError(where, `uniform minimum ${spec.minMs}ms exceeds maximum ${spec.maxMs}ms`);
      break;
    case 'normal':
      times.push(['ms', spec.ms], ['stddevMs', spec.stddevMs]);
      break;
    case 'lognormal':
      times.push(['ms', spec.ms]);
      if (!Number.isFinite(spec.sigma) || spec.sigma < 0) throw new LatencyError(where, `sigma ${spec.sigma} must be a number >= 0`);
      break;
    case 'bimodal':
      times.push(['ms', spec.ms], ['slowMs', spec.slowMs]);
      if (!(spec.slowShare >= 0 && spec.slowShare <= 1)) {
        throw new LatencyError(where, `slowShare ${spec.slowShare} must be between 0 and 1`);
      }
      break;
    default:
      throw new LatencyError(where, `unknown distribution "${(spec as { dist: unknown }).dist}"`);
  }
  for (const [key, value] of times) {
    if (!Number.isFinite(value) || value < 0 || value > MAX_LATENCY_MS) {
      throw new LatencyError(where, `${key} ${value} must be between 0 and ${MAX_LATENCY_MS} ms`);
    }
  }
}

/** Turns a matrix file's latency object into the --latency flag string that parseLatency reads back. */
export function latencyFlag(spec: LatencySpec): string {
  validateLatency(spec, 'latency');
  switch (spec.dist) {
    case 'fixed':
      return msText(spec.ms);
    case 'uniform':
      return `uniform:${msText(spec.minMs)}:${msText(spec.maxMs)}`;
    case 'normal':
      return `normal:${msText(spec.ms)}:${msText(spec.stddevMs)}`;
    case 'lognormal':
      return `lognormal:${msText(spec.ms)}:${plain(spec.sigma)}`;
    case 'bimodal':
      return `bimodal:${msText(spec.ms)}:${msText(spec.slowMs)}:${plain(spec.slowShare)}`;
  }
}

// parseDuration reads no exponent form, so 1e-7 must be written out.
function plain(n: number): string {
  const text = String(n);
  return text.includes('e') ? n.toFixed(9).replace(/\.?0+$/, '') : text;
}

function msText(ms: number): string {
  return `${plain(ms)}ms`;
}

/** A function that returns one latency sample in milliseconds per call (>= 0, at most MAX_LATENCY_MS). */
export function createLatencySampler(spec: LatencySpec, random: Random = Math.random): () => number {
  validateLatency(spec, 'latency');
  const clamp = (ms: number): number => Math.min(MAX_LATENCY_MS, Math.max(0, ms));
  switch (spec.dist) {
    case 'fixed': {
      const ms = spec.ms;
      return () => ms;
    }
    case 'uniform': {
      const { minMs, maxMs } = spec;
      return () => minMs + (maxMs - minMs) * random();
    }
    case 'normal': {
      const { ms, stddevMs } = spec;
      return () => clamp(ms + stddevMs * standardNormal(random));
    }
    case 'lognormal': {
      // `ms` is the median: exp(mu) with mu = ln(median).
      const { ms, sigma } = spec;
      return () => clamp(ms * Math.exp(sigma * standardNormal(random)));
    }
    case 'bimodal': {
      const { ms, slowMs, slowShare } = spec;
      return () => (random() < slowShare ? slowMs : ms);
    }
  }
}

/** Box-Muller; 1 - random() keeps the logarithm's argument in (0, 1]. */
function standardNormal(random: Random): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A small seeded generator (mulberry32) for reproducible samples in tests. */
export const seededRandom = mulberry32;
