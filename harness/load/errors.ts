// Error classes, never lumped: every failed request gets exactly one class (see RepResult.errors).
// Protocol clients decide what happened; this file only names it, so every client names alike.
import { GRPC_STATUS_NAMES } from '../../common/grpc-status.js';
import { H2_CODE, h2CodeName, type H2CodeName } from '../../common/h2-codes.js';


/** The value of an RFC 9113 error code name (the inverse of h2CodeName for the standard codes). */
export function h2Code(name: H2CodeName): number {
  return H2_CODE[name];
}

export { h2CodeName, type H2CodeName };

export function grpcStatusName(code: number): string {
  return GRPC_STATUS_NAMES[code] ?? `CODE_${code}`;
}

export const TIMEOUT = 'timeout';
export const TRUNCATED = 'truncated';

export const rstClass = (code: number): string => `rst:${h2CodeName(code)}`;
export const goawayClass = (code: number): string => `goaway:${h2CodeName(code)}`;
export const grpcClass = (code: number): string => `grpc:${grpcStatusName(code)}`;

/** `status:4xx` / `status:5xx` for an error status; undefined for 1xx-3xx, which are not errors. */
export function statusClass(status: number): string | undefined {
  return status >= 400 && status < 600 ? `status:${Math.floor(status / 100)}xx` : undefined;
}

/** Socket error codes that have a class of their own; anything else is `other:<code>`. */
const SOCKET_CLASSES: Record<string, string> = {
  ECONNRESET: 'ECONNRESET',
  ECONNREFUSED: 'ECONNREFUSED',
  EPIPE: 'EPIPE',
  // The kernel gave up connecting: the target did not answer in time, which is what `timeout` means.
  ETIMEDOUT: TIMEOUT,
};

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
}

/**
 * Classifies a thrown error or an 'error' event's payload that is not an HTTP/2 frame (those are classified
 * by the client from rstCode and GOAWAY, which it knows better): socket errors by code, timeouts, a cause
 * when the error only wraps one (node:http2 cancels pending streams "caused by" the connect error).
 */
export function classifyError(err: unknown): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike;
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code && SOCKET_CLASSES[code]) return SOCKET_CLASSES[code];
  if (e.cause !== undefined && e.cause !== err) {
    const inner = classifyError(e.cause);
    if (!inner.startsWith('other:')) return inner;
  }
  const message = typeof e.message === 'string' ? e.message : String(err);
  // autocannon reports its timeouts as a bare Error('request timed out').
  if (/timed? ?out/i.test(message)) return TIMEOUT;
  const named = /\b(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT)\b/.exec(message);
  if (named) return SOCKET_CLASSES[named[1]!]!;
  return `other:${code ?? (err instanceof Error ? err.name : 'unknown')}`;
}

/** A count per class, the shape of RepResult.errors and rst.received/sent. */
export class Tally {
  private readonly counts = new Map<string, number>();
  private sum = 0;

  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
    this.sum += n;
  }

  get total(): number {
    return this.sum;
  }

  toRecord(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }
}
