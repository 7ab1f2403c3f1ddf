// Body limit layer (--max-request-body-bytes): a request whose Content-Length is over the limit is answered 413
// at once, before its body is read; the downstream adapter then closes after the response with a delayed close
// (HTTP/1.1) or RST_STREAM NO_ERROR (h2), so the client reads the 413 instead of a reset. A body without a
// length that grows past the limit is cut: the upstream request is cancelled and the client gets a 413 if no
// response has started yet, else the response fails (reset on h2, a closed connection on HTTP/1.1).
import { Transform, type TransformCallback } from 'node:stream';
import { Cancellation } from '../cancel.js';
import { callService, isSelfLimiting, type Layer, type ProxyRequest, type ProxyResponse, type Service } from '../service.js';
import { errorResponse } from './rescue.js';

export const TOO_LARGE = 'request-body-too-large';

export interface BodyLimitConfig {
  /** Bytes; 0: no limit. */
  maxBytes: number;
}

export function layer({ maxBytes }: BodyLimitConfig): Layer {
  return (inner) => (req) => {
    // Bodiless requests (nearly all in a benchmark) pass without a promise of this layer's own.
    if (maxBytes <= 0 || req.endStream) return callService(inner, req);
    return limited(inner, req, maxBytes);
  };
}

async function limited(inner: Service, req: ProxyRequest, maxBytes: number): Promise<ProxyResponse> {
  const declared = contentLength(req);
  if (declared !== undefined && declared > maxBytes) return errorResponse(413, TOO_LARGE);

  // The inner layers see a signal aborted by the client going away (also after the response headers, so the
  // listener stays for the request's life) or by the body passing the limit.
  const cut = new Cancellation();
  const onClientAbort = (): void => cut.abort();
  if (req.signal.aborted) cut.abort();
  else req.signal.addEventListener('abort', onClientAbort, { once: true });
  if (isSelfLimiting(req.body)) {
    // The body counts itself (the wire engine's): no Transform and no pipe between it and the upstream.
    let exceeded = false;
    req.body.limitBytes(maxBytes, () => {
      exceeded = true;
      cut.abort();
    });
    try {
      return await inner({ ...req, signal: cut.signal });
    } catch (err) {
      if (exceeded && !req.signal.aborted) return errorResponse(413, TOO_LARGE);
      throw err;
    }
  }
  const counter = new LimitCounter(maxBytes, () => cut.abort());
  counter.on('error', () => {}); // a client that went away aborts req.signal; that is the outcome read below
  req.body.on('error', (err) => counter.destroy(err));
  req.body.pipe(counter);
  try {
    return await inner({ ...req, body: counter, signal: cut.signal });
  } catch (err) {
    if (counter.exceeded && !req.signal.aborted) return errorResponse(413, TOO_LARGE);
    throw err;
  }
}

function contentLength(req: ProxyRequest): number | undefined {
  const raw = req.headers['content-length'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value);
}

/** Passes the body through, counting; past the limit it stops passing bytes and calls `onExceeded` once. */
class LimitCounter extends Transform {
  exceeded = false;
  private seen = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onExceeded: () => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.exceeded) return done();
    this.seen += chunk.length;
    if (this.seen <= this.maxBytes) return done(null, chunk);
    this.exceeded = true;
    this.onExceeded();
    done();
  }
}
