// How a flag's raw string becomes a typed value (flags.ts's table uses these), and the error that names the
// flag or variable a bad value came from.
import { parseDuration } from '../../common/duration.js';
import { parseAddress, type Address } from './address.js';

export const MAX_WINDOW = 2 ** 31 - 1; // RFC 9113 6.9.1: a flow-control window never exceeds 2^31-1
export const RFC_INITIAL_WINDOW = 65_535; // RFC 9113 6.9.2: the initial window of every stream and connection

/** A bad value; `where` is the flag or environment variable it came from. */
export class ConfigError extends Error {
  constructor(
    readonly where: string,
    detail: string,
  ) {
    super(`${where}: ${detail}`);
    this.name = 'ConfigError';
  }
}

export function address(allowZero: boolean) {
  return (raw: string, where: string): Address => {
    const parsed = parseAddress(raw, allowZero);
    if (!parsed) {
      const ports = allowZero ? '0-65535 (0: any free port)' : '1-65535';
      throw new ConfigError(where, `"${raw}" is not HOST:PORT; expected e.g. 127.0.0.1:4140 with a port in ${ports}`);
    }
    return parsed;
  };
}

export function integer(min: number, max: number, what: string) {
  return (raw: string, where: string): number => {
    const value = /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new ConfigError(where, `"${raw}" is not allowed; expected an integer from ${min} to ${max} (${what})`);
    }
    return value;
  };
}

export function oneOf<T extends string>(allowed: readonly T[], note = '') {
  return (raw: string, where: string): T => {
    const found = allowed.find((a) => a === raw.trim());
    if (found === undefined) {
      throw new ConfigError(where, `"${raw}" is not allowed; expected one of: ${allowed.join(', ')}${note}`);
    }
    return found;
  };
}

/** A decimal number from `min` to `max`. */
export function decimal(min: number, max: number, what: string) {
  return (raw: string, where: string): number => {
    const value = /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!(value >= min && value <= max)) {
      throw new ConfigError(where, `"${raw}" is not allowed; expected a number from ${min} to ${max} (${what})`);
    }
    return value;
  };
}

/** A switch with a value: on|off (also true|false, 1|0, yes|no, for variables). */
export function onOff(raw: string, where: string): boolean {
  const value = raw.trim();
  if (/^(on|true|1|yes)$/i.test(value)) return true;
  if (/^(off|false|0|no)$/i.test(value)) return false;
  throw new ConfigError(where, `"${raw}" is not allowed; expected on or off`);
}

/** A comma list of service names (none: empty). */
export function serviceList(raw: string, where: string): string[] {
  if (/^(none)?$/i.test(raw.trim())) return [];
  const items = raw.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new ConfigError(where, `"${raw}" is not a list of service names; expected e.g. blue,red`);
  const repeated = items.find((s, i) => items.indexOf(s) !== i);
  if (repeated !== undefined) throw new ConfigError(where, `"${repeated}" is listed twice`);
  return items;
}

// Node's timers take at most 2^31-1 ms (about 24.8 days) and fire at once beyond it.
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A duration ("500ms", "10s") in ms, at least `minMs` (and at most `maxMs`). */
export function duration(minMs: number, maxMs = Infinity) {
  return (raw: string, where: string): number => {
    let ms: number;
    try {
      ms = parseDuration(raw, where);
    } catch {
      throw new ConfigError(where, `"${raw}" is not a duration; expected a number with a unit, e.g. 30ms, 10s`);
    }
    if (ms < minMs) throw new ConfigError(where, `"${raw}" is too short; expected at least ${minMs}ms`);
    if (ms > maxMs) throw new ConfigError(where, `"${raw}" is too long; expected at most ${maxMs}ms`);
    return ms;
  };
}
