// LoadOptions are checked before anything connects; a bad value is refused with the option's name.
import type { LoadOptions, Protocol } from './types.js';

export const PROTOCOLS: readonly Protocol[] = ['h1', 'h2', 'grpc'];
const MAX_WINDOW = 2 ** 31 - 1;

export class LoadOptionsError extends Error {
  constructor(
    readonly option: keyof LoadOptions,
    readonly value: unknown,
    expected: string,
  ) {
    super(`load option ${option}: ${JSON.stringify(value)} is not ${expected}`);
    this.name = 'LoadOptionsError';
  }
}

function integer(options: LoadOptions, key: keyof LoadOptions, min: number, max = Number.MAX_SAFE_INTEGER): void {
  const value = options[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new LoadOptionsError(key, value, `an integer in ${min}..${max}`);
  }
}

export function validateLoadOptions(options: LoadOptions): void {
  let url: URL | undefined;
  try {
    url = new URL(options.url);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new LoadOptionsError('url', options.url, 'an http:// or https:// URL');
  }
  if (!PROTOCOLS.includes(options.protocol)) throw new LoadOptionsError('protocol', options.protocol, PROTOCOLS.join(' | '));
  integer(options, 'connections', 1);
  integer(options, 'streamsPerConnection', 1);
  if (!(options.durationMs > 0) || !Number.isFinite(options.durationMs)) {
    throw new LoadOptionsError('durationMs', options.durationMs, 'a positive number of milliseconds');
  }
  if (!(options.warmupMs >= 0) || !Number.isFinite(options.warmupMs)) {
    throw new LoadOptionsError('warmupMs', options.warmupMs, 'zero or more milliseconds');
  }
  if (!(options.timeoutMs > 0) || !Number.isFinite(options.timeoutMs)) {
    throw new LoadOptionsError('timeoutMs', options.timeoutMs, 'a positive number of milliseconds');
  }
  if (typeof options.method !== 'string' || !/^[A-Z]+$/.test(options.method)) {
    throw new LoadOptionsError('method', options.method, 'an upper-case HTTP method');
  }
  integer(options, 'bodyBytes', 0);
  if (options.h2StreamWindow !== undefined) integer(options, 'h2StreamWindow', 0, MAX_WINDOW);
  if (options.h2ConnWindow !== undefined) integer(options, 'h2ConnWindow', 0, MAX_WINDOW);
  if (options.responseBytes !== undefined) integer(options, 'responseBytes', 0, 2 ** 32 - 1);
}
