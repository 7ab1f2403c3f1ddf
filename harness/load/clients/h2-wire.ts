// HTTP/2 on our own framing (harness/load/wire/): the same requests and the same error classes as clients/h2.ts
// (node:http2), at a fraction of its CPU per request, plus the receiver modes node:http2 cannot give:
// `receiver: 'strict'` and `stallStreams` reproduce seed 000's connection-window exhaustion. h2c only.
// Server streaming asks the backend for a stream of fixed-size stamped messages and reads them.
import { h2Code, statusClass, TRUNCATED } from '../errors.js';
import { isServerStreaming, payloadHeaders, STAMP_BYTES, streamMessages } from '../payload.js';
import type { Recorder } from '../statistic/recorder.js';
import type { LoadOptions } from '../types.js';
import { encodeHeaderBlock, type HeaderList } from '../../../h2/hpack/encoder.js';
import { FixedFramer } from '../wire/messages.js';
import { WirePool, type Exchange, type WireRequestSpec } from '../wire/pool.js';
import { streamingSpec, type StreamExchange } from '../wire/stream-exchange.js';
import type { RequestClient } from './client.js';

const PROTOCOL_ERROR = h2Code('PROTOCOL_ERROR');

/** The request's header list, as node:http2 would send it for this URL, method and body, and what it asks of the backend. */
export function h2RequestHeaders(options: LoadOptions): HeaderList {
  const url = new URL(options.url);
  return [
    [':method', options.method],
    [':scheme', 'http'],
    [':authority', url.host],
    [':path', `${url.pathname}${url.search}`],
    ...(options.bodyBytes > 0 ? ([['content-length', String(options.bodyBytes)]] as const) : []),
    ...payloadHeaders(options),
  ];
}

export function createH2WireClient(options: LoadOptions, recorder: Recorder): RequestClient {
  const bodyExpected = (status: number): boolean => options.method !== 'HEAD' && status !== 204 && status !== 304;
  const spec: WireRequestSpec = {
    headerBlock: encodeHeaderBlock(h2RequestHeaders(options)),
    body: options.bodyBytes > 0 ? Buffer.alloc(options.bodyBytes, 0x78) : undefined,
    judge(exchange: Exchange): string | undefined {
      if (exchange.status === 0) return 'other:NO_STATUS';
      if (bodyExpected(exchange.status) && exchange.contentLength >= 0 && exchange.bytes < exchange.contentLength) {
        // Malformed (RFC 9113 section 8.1.1): a stream error, but RST_STREAM(PROTOCOL_ERROR) goes out only if the
        // stream is not closed, i.e. the request body was still being sent. nghttp2 (node:http2) resets even a
        // closed stream, and a server's rapid-reset limit then answers GOAWAY(INTERNAL_ERROR) (connection.ts).
        if (exchange.conn?.streamError(exchange, PROTOCOL_ERROR)) recorder.rstSent(PROTOCOL_ERROR, exchange.times);
        return TRUNCATED;
      }
      return statusClass(exchange.status);
    },
  };
  if (!isServerStreaming(options)) return new WirePool(options, recorder, spec);
  const { judge } = spec;
  return new WirePool(options, recorder, {
    ...spec,
    judge: (exchange) => judge(exchange) ?? (exchange as StreamExchange).messagesClass(),
    // Each message's size: asked for, or (the backend's default) announced in its response header.
    streaming: streamingSpec(streamMessages(options), (exchange) => {
      const size = options.responseBytes ?? exchange.messageBytes;
      return Number.isInteger(size) && size >= STAMP_BYTES ? new FixedFramer(size, exchange) : undefined;
    }),
  });
}
