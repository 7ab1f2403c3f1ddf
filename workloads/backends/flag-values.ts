// Reading one flag's value: whole numbers, shares, durations, latencies, names. Every error is a ConfigError
// naming the flag, which main.ts prints before exiting 2.
import { parseDuration } from '../../common/duration.js';
import { LatencyError, parseLatency, type LatencySpec } from './latency.js';

export class ConfigError extends Error {
  constructor(readonly flag: string, message: string) {
    super(`${flag}: ${message}`);
    this.name = 'ConfigError';
  }
}

export function integer(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text.trim())) throw new ConfigError(flag, `"${text}" is not a whole number`);
  const value = Number(text.trim());
  if (value < min || value > max) throw new ConfigError(flag, `${value} is outside ${min}..${max}`);
  return value;
}

/** A share of requests: 0..1, e.g. 0.05. */
export function share(flag: string, text: string | undefined): number {
  if (text === undefined) return 0;
  const value = /^(\d+(\.\d+)?|\.\d+)$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!(value >= 0 && value <= 1)) throw new ConfigError(flag, `"${text}" is not a share between 0 and 1 (e.g. 0.05)`);
  return value;
}

/** A duration in ms (500ms, 2s), at least `min`, at most a day. */
export function duration(flag: string, text: string, min: number): number {
  let ms: number;
  try {
    ms = parseDuration(text, flag);
  } catch {
    throw new ConfigError(flag, `"${text}" is not a duration; expected e.g. 500ms, 2s, 1m`);
  }
  const day = 86_400_000;
  if (ms < min || ms > day) throw new ConfigError(flag, `${text} is outside ${min}ms..24h`);
  return ms;
}

export function latency(flag: string, text: string): LatencySpec {
  try {
    return parseLatency(text, flag);
  } catch (err) {
    if (err instanceof LatencyError) throw new ConfigError(flag, err.message.replace(`${flag}: `, ''));
    throw err;
  }
}

/** One of `names`, matched without regard to case; returns the name as listed. */
export function oneOf<T extends string>(flag: string, text: string, names: readonly T[]): T {
  const found = names.find((name) => name.toLowerCase() === text.trim().toLowerCase());
  if (found === undefined) throw new ConfigError(flag, `"${text}" is not one of ${names.join(', ')}`);
  return found;
}
