// What both HTTP/2 engines' downstreams share (node:http2's downstream/h2.ts and the wire engine's
// wire/downstream.ts): their flags, the request built from a stream's headers, which responses end with their
// headers, and the RST_STREAM code a failure after the headers becomes. No node:http2 here, so the wire engine
// can import it.
import type { Readable } from 'node:stream';
import type { CancelSignal } from '../cancel.js';
import type { Config } from '../config.js';
import { CancelledError, StreamResetError } from '../errors.js';
import { H2_CODE } from '../h2-codes.js';
import { endToEnd } from '../headers.js';
import type { ProxyRequest, ProxyResponse } from '../service.js';
import type { ConnLifeConfig } from './conn-life.js';

/** The flags of an HTTP/2 downstream, either engine: connection life, session protection (protect/, session/)
 *  and the flow-control settings, as flags.ts documents them. */
export type H2DownstreamFlags = ConnLifeConfig &
  Pick<
    Config,
    | 'streamWindow'
    | 'connWindow'
    | 'maxConcurrentStreams'
    | 'adaptive'
    | 'maxResetsPerS'
    | 'maxFrameSize'
    | 'maxHeaderListSize'
    | 'keepaliveInterval'
    | 'keepaliveTimeout'
    | 'maxSessionBufferedBytes'
  >;

/** A stream's request headers as node:http2 hands them over (pseudo-headers included). */
export type H2HeaderObject = NodeJS.Dict<string | string[]>;

export function h2ProxyRequest(headers: H2HeaderObject, body: Readable, endStream: boolean, signal: CancelSignal): ProxyRequest {
  return {
    method: String(headers[':method'] ?? 'GET'),
    path: String(headers[':path'] ?? '/'),
    authority: String(headers[':authority'] ?? headers.host ?? ''),
    scheme: String(headers[':scheme'] ?? 'http'),
    headers: endToEnd(headers),
    body,
    endStream,
    downstreamProtocol: 'h2',
    signal,
  };
}

// Statuses that never carry a body; Node forces END_STREAM on them and on responses to HEAD.
const NO_BODY_STATUS = new Set([204, 205, 304]);

/** Whether the response's HEADERS carry END_STREAM: no body and no trailers follow. */
export function endsWithHeaders(req: ProxyRequest, res: ProxyResponse): boolean {
  return res.endStream || req.method === 'HEAD' || NO_BODY_STATUS.has(res.status);
}

/** The RST_STREAM code for a response that failed after its headers: the upstream's reset code, CANCEL for a
 *  cancel (a timeout, the body limit), INTERNAL_ERROR for anything else. */
export function resetCodeFor(err: unknown): number {
  if (err instanceof StreamResetError) return err.code;
  if (err instanceof CancelledError) return H2_CODE.CANCEL;
  return H2_CODE.INTERNAL_ERROR;
}
