// gRPC on our own framing: sluice.echo.Echo/Unary with a request message encoded once (its protobuf fields
// by hand) and the answer judged from :status and the trailers' grpc-status, classified as clients/grpc.ts
// classifies grpc-js' errors. A unary reply is counted, not parsed; server streaming calls Echo/ServerStream
// and reads each reply's stamp. h2c only.
import { ECHO_SERVICE } from '../../../workloads/proto/path.js';
import { grpcClass, statusClass } from '../errors.js';
import { isServerStreaming, streamMessages } from '../payload.js';
import type { Recorder } from '../statistic/recorder.js';
import type { LoadOptions } from '../types.js';
import { encodeHeaderBlock } from '../../../h2/hpack/encoder.js';
import { GrpcFramer } from '../wire/messages.js';
import { WirePool, type Exchange, type WireRequestSpec } from '../wire/pool.js';
import { streamingSpec, type StreamExchange } from '../wire/stream-exchange.js';
import type { RequestClient } from './client.js';

const UNKNOWN = 2;

function varint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
  return out;
}

/**
 * EchoRequest {bytes payload = 1; uint32 response_bytes = 2; uint32 messages = 3} as one length-prefixed gRPC
 * message (uncompressed). The first two are written even when empty or 0, as protobuf.js writes fields that are
 * set: the bytes on the wire are those of clients/grpc.ts. `messages` only when given (server streaming).
 */
export function echoRequestMessage(payloadBytes: number, responseBytes: number, messages?: number): Buffer {
  const message = Buffer.concat([
    Buffer.from([0x0a, ...varint(payloadBytes)]),
    Buffer.alloc(payloadBytes, 0x78),
    Buffer.from([0x10, ...varint(responseBytes)]),
    ...(messages !== undefined ? [Buffer.from([0x18, ...varint(messages)])] : []),
  ]);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

export function createGrpcWireClient(options: LoadOptions, recorder: Recorder): RequestClient {
  const url = new URL(options.url);
  const streaming = isServerStreaming(options);
  const spec: WireRequestSpec = {
    headerBlock: encodeHeaderBlock([
      [':method', 'POST'],
      [':scheme', 'http'],
      [':authority', url.host],
      [':path', `/${ECHO_SERVICE}/${streaming ? 'ServerStream' : 'Unary'}`],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
      ['user-agent', 'sluice-wire'],
    ]),
    body: echoRequestMessage(options.bodyBytes, options.responseBytes ?? 0, streaming ? streamMessages(options) : undefined),
    judge(exchange: Exchange): string | undefined {
      // A proxy's own answer (a 503 with no gRPC status) reads as its HTTP class, as grpc.ts reports it.
      if (exchange.status !== 200) return statusClass(exchange.status) ?? grpcClass(UNKNOWN);
      if (exchange.grpcStatus === 0) return undefined;
      return grpcClass(exchange.grpcStatus < 0 ? UNKNOWN : exchange.grpcStatus);
    },
  };
  if (!streaming) return new WirePool(options, recorder, spec);
  const { judge } = spec;
  return new WirePool(options, recorder, {
    ...spec,
    judge: (exchange) => judge(exchange) ?? (exchange as StreamExchange).messagesClass(),
    streaming: streamingSpec(streamMessages(options), (exchange) => new GrpcFramer(exchange)),
  });
}
