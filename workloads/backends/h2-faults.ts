// HTTP/2 streams (h2c and gRPC) on an endpoint with faults: the verdict of faults.ts acted out on a
// node:http2 stream. The protocol says how to answer well and how to fail; the rest is the same for both.
import http2 from 'node:http2';
import { H2_CODE } from '../../common/h2-codes.js';
import type { Delays } from './delays.js';
import type { Endpoint } from './endpoint.js';
import { countAnswer } from './fault-stats.js';
import { decide, declaredLength } from './faults.js';
import type { Random } from './latency.js';
import { ENDPOINT_HEADER } from './payload.js';

const { HTTP2_HEADER_STATUS, NGHTTP2_NO_ERROR } = http2.constants;

export interface StreamKit {
  endpoint: Endpoint;
  delays: Delays;
  random: Random;
  /** The healthy answer (h2: ours; gRPC: grpc-js' handler). */
  answer: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number) => void;
  /** Answers --fail-share's failure (h2: --fail-status; gRPC: --fail-grpc) and counts it. */
  fail: (stream: http2.ServerHttp2Stream) => void;
}

/** Declared body size: 0 (the HEADERS ended the stream), content-length, or undefined (unknown). */
export function h2BodyBytes(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): number | undefined {
  if (stream.endAfterHeaders) return 0;
  return declaredLength(headers['content-length']);
}

export function serveFaultyStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, kit: StreamKit): void {
  const { endpoint } = kit;
  switch (decide(endpoint, h2BodyBytes(stream, headers), kit.random)) {
    case 'answer':
      return kit.answer(stream, headers, flags);
    case 'stall':
      // Never read: node:http2 returns a stream's window to the client only as the body is read, so the
      // client's stream window stays at 0 after the first window's worth.
      endpoint.stats.requests.stalled++;
      stream.on('error', ignore);
      stream.pause();
      return;
    case 'early':
      stream.on('error', ignore);
      return answerEarly(stream, endpoint);
    case 'reset':
      stream.on('error', ignore);
      return afterBody(stream, kit, () => {
        endpoint.stats.requests.reset++;
        stream.close(H2_CODE[endpoint.resetCode]);
      });
    case 'fail':
      stream.on('error', ignore);
      return afterBody(stream, kit, () => {
        endpoint.stats.requests.failed++;
        kit.fail(stream);
      });
  }
}

/** Reads (and drops) the body, waits one latency sample, then acts, unless the stream is gone meanwhile. */
function afterBody(stream: http2.ServerHttp2Stream, kit: StreamKit, act: () => void): void {
  stream.resume();
  stream.on('end', () =>
    kit.delays.run(kit.endpoint.sample(), () => {
      if (!stream.destroyed && !stream.closed) act();
    }),
  );
}

/**
 * --early-status on h2: the response ends at once (HEADERS with END_STREAM, no body), then the request side
 * is reset with RST_STREAM(NO_ERROR), as RFC 9113 8.1 allows a server that needs no more of the body.
 * node:http2 submits the RST only once the stream's writable side has finished, and nghttp2 keeps the two
 * frames in order; a response body would be DATA, which an RST_STREAM may overtake, so there is none.
 */
function answerEarly(stream: http2.ServerHttp2Stream, endpoint: Endpoint): void {
  const status = endpoint.earlyStatus!;
  endpoint.stats.requests.early++;
  countAnswer(endpoint.stats, status);
  stream.respond({ [HTTP2_HEADER_STATUS]: status, [ENDPOINT_HEADER]: endpoint.portText }, { endStream: true });
  stream.close(NGHTTP2_NO_ERROR);
}

function ignore(): void {}
