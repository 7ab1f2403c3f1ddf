// The gRPC wire client against a @grpc/grpc-js Echo server: the hand-encoded request is what protobuf.js
// encodes and the server reads it; statuses come from the trailers; deadlines cancel; a proxy's HTTP error
// (no gRPC status) reads as its status class.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createGrpcWireClient, echoRequestMessage } from '../../load/clients/grpc-wire.js';
import type { ClientFactory } from '../../load/clients/client.js';
import type { RecordedCounts } from '../../load/statistic/recorder.js';
import type { LoadOptions } from '../../load/types.js';
import { runShare } from '../../load/worker/share.js';
import { ECHO_LOADER_OPTIONS, ECHO_SERVICE, echoProtoPath } from '../../../workloads/proto/path.js';
import { grpcEchoServer, h2Server, quickOptions, respond } from './servers.js';

/** One share of a run in this thread, as runLoad runs it in each worker: counts plus rstRate. */
async function run(factory: ClientFactory, options: LoadOptions): Promise<RecordedCounts & { rstRate: number }> {
  const { counts } = await runShare({ options, offsetMs: 0 }, factory);
  return { ...counts, rstRate: counts.requests > 0 ? counts.rstReceivedTotal / counts.requests : 0 };
}

test('wire grpc: the request message is byte for byte what protobuf.js encodes', () => {
  const definition = protoLoader.loadSync(echoProtoPath(), ECHO_LOADER_OPTIONS);
  const service = definition[ECHO_SERVICE] as unknown as grpc.ServiceDefinition;
  const method = service['Unary']!;
  for (const [payload, responseBytes] of [
    [0, 0],
    [0, 1024],
    [10, 0],
    [300, 70_000],
  ] as const) {
    const framed = echoRequestMessage(payload, responseBytes);
    const expected = method.requestSerialize({ payload: Buffer.alloc(payload, 0x78), response_bytes: responseBytes });
    assert.equal(framed[0], 0, 'not compressed');
    assert.equal(framed.readUInt32BE(1), expected.length);
    assert.deepEqual(framed.subarray(5), expected);
  }
  // Server streaming asks for its messages in field 3.
  const streaming = echoRequestMessage(10, 64, 300);
  assert.deepEqual(streaming.subarray(5), service['ServerStream']!.requestSerialize({ payload: Buffer.alloc(10, 0x78), response_bytes: 64, messages: 300 }));
});

// The calls run on both wire connections: wire/connection.ts (the default) and the h2/ library's H2Connection
// (`wireConnection: 'h2'`, issue 15 step 4's trial).
const on = (c: 'wire' | 'h2'): string => (c === 'h2' ? ' on h2/connection.ts' : '');
for (const wireConnection of ['wire', 'h2'] as const) {
  test(`wire grpc${on(wireConnection)}: Echo/Unary calls succeed, and the server reads the payload and response_bytes sent`, async () => {
    const definition = protoLoader.loadSync(echoProtoPath(), ECHO_LOADER_OPTIONS);
    const service = definition[ECHO_SERVICE] as unknown as grpc.ServiceDefinition;
    const seen = new Set<string>();
    const server = new grpc.Server();
    server.addService(service, {
      Unary: (call: grpc.ServerUnaryCall<{ payload: Buffer; response_bytes: number }, unknown>, callback: grpc.sendUnaryData<{ payload: Buffer }>) => {
        seen.add(`${call.request.payload.length}/${call.request.response_bytes}`);
        callback(null, { payload: Buffer.alloc(call.request.response_bytes, 0x61) });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    try {
      const options = quickOptions(`http://127.0.0.1:${port}/`, 'grpc', { wireConnection, durationMs: 400, responseBytes: 64, bodyBytes: 16 });
      const result = await run(createGrpcWireClient, options);
      assert.ok(result.successes > 0);
      assert.deepEqual(result.errors, {});
      assert.deepEqual([...seen], ['16/64']);
    } finally {
      server.forceShutdown();
    }
  });

  test(`wire grpc${on(wireConnection)}: a status from the server is grpc:<STATUS_NAME>`, async () => {
    const server = await grpcEchoServer((n) => (n % 2 === 0 ? { code: grpc.status.NOT_FOUND, details: 'nope' } : undefined));
    try {
      const result = await run(createGrpcWireClient, quickOptions(server.url, 'grpc', { wireConnection, durationMs: 400 }));
      assert.deepEqual(Object.keys(result.errors), ['grpc:NOT_FOUND']);
      const share = result.errors['grpc:NOT_FOUND']! / result.requests;
      assert.ok(Math.abs(share - 0.5) < 0.05, `share ${share}`);
    } finally {
      await server.close();
    }
  });

  test(`wire grpc${on(wireConnection)}: an unanswered call times out and is cancelled with RST_STREAM(CANCEL)`, async () => {
    const server = await grpcEchoServer(() => 'hang');
    try {
      const result = await run(createGrpcWireClient, quickOptions(server.url, 'grpc', { wireConnection, durationMs: 400, warmupMs: 0, timeoutMs: 100 }));
      assert.deepEqual(Object.keys(result.errors), ['timeout']);
      assert.equal(result.rst.sent['CANCEL'], result.errors['timeout']);
    } finally {
      await server.close();
    }
  });

  test(`wire grpc${on(wireConnection)}: an HTTP 503 without gRPC status (a proxy shedding) is status:5xx`, async () => {
    const server = await h2Server((stream) => respond(stream, 503, 'no upstream'));
    try {
      const result = await run(createGrpcWireClient, quickOptions(server.url, 'grpc', { wireConnection, durationMs: 300, warmupMs: 0 }));
      assert.ok(result.requests > 0);
      assert.deepEqual(result.errors, { 'status:5xx': result.requests });
    } finally {
      await server.close();
    }
  });
}
