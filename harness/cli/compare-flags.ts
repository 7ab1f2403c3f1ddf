// What compare and gate share on the command line: the resampling's flags, and how --json writes numbers.
import { CliError } from './cli-error.js';

export function resamplesFlag(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 100 || Number(raw) > 1_000_000) throw new CliError(`--resamples ${raw}: expected a whole number from 100 to 1000000`);
  return Number(raw);
}

export function seedFlag(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) > 0xffffffff) throw new CliError(`--seed ${raw}: expected a whole number from 0 to 4294967295`);
  return Number(raw);
}

export function confidenceFlag(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!/^0?\.\d+$/.test(raw) || v < 0.5 || v > 0.999) throw new CliError(`--confidence ${raw}: expected a level from 0.5 to 0.999, such as 0.95`);
  return v;
}

/** JSON has no Infinity: an unbounded ratio (B/A over a zero mean) is written as null. */
export function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}
