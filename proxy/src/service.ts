// The proxy's request/response model: protocol-neutral and streaming, so one stack of layers serves
// HTTP/1.1, h2c and gRPC alike. Downstream adapters build ProxyRequests; upstream clients answer them.
import type { Readable } from 'node:stream';
import type { CancelSignal } from './cancel.js';
import type { RouteSettings } from './discovery/profile.js';

/** Header fields with lowercase names; no pseudo headers (:method...) and no hop-by-hop fields. */
export type Headers = Record<string, string | string[]>;

export type Protocol = 'h1' | 'h2';

export interface ProxyRequest {
  method: string;
  /** Path and query, as in :path or the HTTP/1.1 request target. */
  path: string;
  /** :authority or Host; empty when the client sent neither (HTTP/1.0). */
  authority: string;
  scheme: string;
  headers: Headers;
  body: Readable;
  /** True when the request has no body (END_STREAM on the headers, or no body framing in HTTP/1.1), so the
   *  upstream request can end with its headers too instead of sending an empty DATA frame. */
  endStream: boolean;
  /** The protocol the request came in as; `--upstream-protocol auto` forwards with the same one. */
  downstreamProtocol: Protocol;
  /** Aborted when the downstream client goes away before the response is complete: cancel the upstream. */
  signal: CancelSignal;
  /** The request's --destination profile route, set once by layers/route.ts; absent without a profile source. */
  route?: RouteSettings;
}

export interface ProxyResponse {
  status: number;
  headers: Headers;
  /** The response body; read it to the end before relying on `trailers`. */
  body: Readable;
  /** Settles when the response is complete: resolves with the trailers (undefined when none), or rejects with
   *  a typed error (errors.ts) when the upstream failed after the headers, e.g. a StreamResetError. The
   *  rejection is already handled, so not awaiting it never crashes the process. */
  trailers: Promise<Headers | undefined>;
  /** True when the upstream ended the stream with its headers (a gRPC trailers-only response, 204, HEAD):
   *  no body and no trailers follow, and an h2 downstream must end with its headers too. */
  endStream: boolean;
}

export type Service = (req: ProxyRequest) => Promise<ProxyResponse>;

/** A request body that bounds itself (the wire engine's InboundBody): the body-limit layer calls this instead of
 *  piping the body through a counting Transform. Past `maxBytes` octets it passes no more on and calls
 *  `onExceeded` once, asynchronously. */
export interface SelfLimitingBody {
  limitBytes(maxBytes: number, onExceeded: () => void): void;
}

export function isSelfLimiting(body: Readable): body is Readable & SelfLimitingBody {
  return typeof (body as Partial<SelfLimitingBody>).limitBytes === 'function';
}

/** A request body that can be sent more than once (the retry layer's): each attempt() is the whole body again. */
export interface BodyReplay {
  /** True while another attempt can still be sent the whole body. */
  readonly replayable: boolean;
  /** The body for the next attempt; the previous attempt's body gets nothing more. */
  attempt(): Readable;
  /** No more attempts will be made: the copy is let go. */
  release(): void;
}

/** A request body that keeps its own replay copy (the wire engine's InboundBody), so each attempt can be forwarded
 *  stream to stream; undefined when it cannot (already read as a stream): the retry layer copies it itself. */
export interface SelfReplayingBody {
  replay(limit: number): BodyReplay | undefined;
}

export function isSelfReplaying(body: Readable): body is Readable & SelfReplayingBody {
  return typeof (body as Partial<SelfReplayingBody>).replay === 'function';
}
export type Layer = (inner: Service) => Service;

/** `inner(req)`, with a synchronous throw turned into a rejection as an async function would: for layers that
 *  chain promises instead of awaiting (one promise less per request on the hot path). */
export function callService(inner: Service, req: ProxyRequest): Promise<ProxyResponse> {
  try {
    return inner(req);
  } catch (err) {
    return Promise.reject(err);
  }
}
