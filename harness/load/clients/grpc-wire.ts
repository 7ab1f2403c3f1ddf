// gRPC on our own framing: sluice.echo.Echo/Unary with a request message encoded once (two protobuf fields
// by hand) and the answer judged from :status and the trailers' grpc-status, classified as clients/grpc.ts
// classifies grpc-js' errors. The reply message itself is counted, not parsed. h2c only.
import { ECHO_SERVICE } from '../../../workloads/proto/path.js';
import { grpcClass, statusClass } from '../errors.js';
import type { Recorder } from '../statistic/recorder.js';
import type { LoadOptions } from '../types.js';
import { encodeHeaderBlock } from '../wire/hpack-encode.js';
import { WirePool, type Exchange } from '../wire/pool.js';
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
 * EchoRequest {bytes payload = 1; uint32 response_bytes = 2} as one length-prefixed gRPC message
 * (uncompressed). Both fields are written even when empty or 0, as protobuf.js writes fields that are set:
 * the bytes on the wire are those of clients/grpc.ts.
 */
export function echoRequestMessage(payloadBytes: number, responseBytes: number): Buffer {
  const message = Buffer.concat([
    Buffer.from([0x0a, ...varint(payloadBytes)]),
    Buffer.alloc(payloadBytes, 0x78),
    Buffer.from([0x10, ...varint(responseBytes)]),
  ]);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

export function createGrpcWireClient(options: LoadOptions, recorder: Recorder): RequestClient {
  const url = new URL(options.url);
  return new WirePool(options, recorder, {
    headerBlock: encodeHeaderBlock([
      [':method', 'POST'],
      [':scheme', 'http'],
      [':authority', url.host],
      [':path', `/${ECHO_SERVICE}/Unary`],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
      ['user-agent', 'sluice-wire'],
    ]),
    body: echoRequestMessage(options.bodyBytes, options.responseBytes ?? 0),
    judge(exchange: Exchange): string | undefined {
      // A proxy's own answer (a 503 with no gRPC status) reads as its HTTP class, as grpc.ts reports it.
      if (exchange.status !== 200) return statusClass(exchange.status) ?? grpcClass(UNKNOWN);
      if (exchange.grpcStatus === 0) return undefined;
      return grpcClass(exchange.grpcStatus < 0 ? UNKNOWN : exchange.grpcStatus);
    },
  });
}
