// In-memory requests and responses for tests of layers and the balancer (no sockets).
import { Readable } from 'node:stream';
import { Cancellation } from '../src/cancel.js';
import type { ProxyRequest, ProxyResponse } from '../src/service.js';

/** A bodiless HTTP/1.1 GET of `/`, with its own cancel signal; `over` replaces any field. */
export function fakeRequest(over: Partial<ProxyRequest> = {}): ProxyRequest {
  return {
    method: 'GET',
    path: '/',
    authority: 'svc',
    scheme: 'http',
    headers: {},
    body: Readable.from([]),
    endStream: true,
    downstreamProtocol: 'h1',
    signal: new Cancellation().signal,
    ...over,
  };
}

/** A complete response with an empty body; `trailers` settles when the test says the response ended. */
export function fakeResponse(status = 200, trailers: Promise<undefined> = Promise.resolve(undefined)): ProxyResponse {
  return { status, headers: {}, body: Readable.from([]), trailers, endStream: false };
}
