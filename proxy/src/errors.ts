// Typed upstream failures. Each carries a short `reason` token: HTTP/1.1 clients see it in the
// x-sluice-error header of a 502, and the harness classifies errors by it.
import { h2CodeName } from './h2-codes.js';

export abstract class ProxyError extends Error {
  abstract readonly reason: string;
}

/** The upstream reset the stream (RST_STREAM). An h2 downstream is reset with the same code. */
export class StreamResetError extends ProxyError {
  readonly reason: string;
  constructor(readonly code: number) {
    super(`upstream reset the stream with ${h2CodeName(code)} (${code})`);
    this.name = 'StreamResetError';
    this.reason = `upstream-reset:${h2CodeName(code)}`;
  }
}

export type UpstreamFailure =
  | 'connect-refused'
  | 'connect-timeout'
  | 'connection-reset'
  | 'connection-closed'
  | 'goaway'
  | 'dns'
  | 'protocol-error'
  | 'no-endpoints'
  | 'upstream-error';

/** The upstream connection failed (refused, reset, closed, GOAWAY), as opposed to one stream being reset. */
export class UpstreamError extends ProxyError {
  constructor(
    readonly reason: UpstreamFailure,
    cause?: unknown,
  ) {
    super(`upstream failed: ${reason}${cause instanceof Error ? ` (${cause.message})` : ''}`, { cause });
    this.name = 'UpstreamError';
  }
}

/** The downstream client went away and the proxy cancelled the upstream request. */
export class CancelledError extends ProxyError {
  readonly reason: string = 'cancelled';
  constructor() {
    super('the downstream client cancelled the request');
    this.name = 'CancelledError';
  }
}

/** --request-timeout ran out after the response headers: the upstream was cancelled, and an h2 client's stream
 *  is reset with CANCEL as for any cancel. */
export class TimeoutError extends CancelledError {
  override readonly reason = 'timeout';
  constructor() {
    super();
    this.message = 'the request timeout ran out';
    this.name = 'TimeoutError';
  }
}

const REASON_BY_ERRNO: Record<string, UpstreamFailure> = {
  ECONNREFUSED: 'connect-refused',
  ETIMEDOUT: 'connect-timeout',
  ECONNRESET: 'connection-reset',
  EPIPE: 'connection-reset',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  ERR_HTTP2_GOAWAY_SESSION: 'goaway',
  ERR_HTTP2_ERROR: 'protocol-error', // e.g. h2 spoken to an HTTP/1.1-only endpoint
  ERR_HTTP2_SESSION_ERROR: 'connection-closed',
  ERR_HTTP2_INVALID_SESSION: 'connection-closed',
  ERR_HTTP2_STREAM_CANCEL: 'connection-closed',
};

/** Maps a Node socket/http/http2 error to an UpstreamError with a stable reason. */
export function upstreamError(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  return new UpstreamError(reasonOf(err) ?? 'upstream-error', err);
}

// The cause first: Node cancels streams of a session that failed to connect with ERR_HTTP2_STREAM_CANCEL
// whose cause is the socket's error (ECONNREFUSED), and that cause is the useful reason.
function reasonOf(err: unknown): UpstreamFailure | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const { code, cause } = err as { code?: unknown; cause?: unknown };
  return reasonOf(cause) ?? (typeof code === 'string' ? REASON_BY_ERRNO[code] : undefined);
}
