// Rescue layer: turns an upstream failure before the response headers into an answer the client can read.
// HTTP/1.1 clients (and h2 clients whose upstream connection failed) get a 502 with `x-sluice-error:
// <reason>`; an upstream RST_STREAM is passed on to an h2 client as a reset with the same code, so the
// harness counts resets by code end to end.
import { Readable } from 'node:stream';
import { ProxyError, StreamResetError } from '../errors.js';
import { callService, type Layer, type ProxyResponse } from '../service.js';

export const ERROR_HEADER = 'x-sluice-error';

export function layer(): Layer {
  return (inner) => (req) =>
    callService(inner, req).catch((err: unknown) => {
      // Nobody is left to answer, or the h2 adapter resets the stream with the upstream's code.
      if (req.signal.aborted) throw err;
      if (req.downstreamProtocol === 'h2' && err instanceof StreamResetError) throw err;
      return errorResponse(502, err instanceof ProxyError ? err.reason : 'internal');
    });
}

export function errorResponse(status: number, reason: string): ProxyResponse {
  const body = Buffer.from(`${reason}\n`);
  return {
    status,
    headers: {
      [ERROR_HEADER]: reason,
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(body.length),
    },
    body: Readable.from([body]),
    trailers: Promise.resolve(undefined),
    endStream: false,
  };
}
