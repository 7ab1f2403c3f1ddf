// gRPC endpoints: one @grpc/grpc-js Server bound to every port, serving sluice.echo.Echo/Unary and
// /ServerStream (stamped replies written as flow control allows, stream.ts).
import type http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ECHO_LOADER_OPTIONS, ECHO_SERVICE, echoProtoPath } from '../proto/path.js';
import { MAX_RESPONSE_BYTES, MAX_STREAM_MESSAGES, type BackendConfig } from './config.js';
import { Delays } from './delays.js';
import { h2ServerOptions, widenConnectionWindow } from './h2.js';
import { createLatencySampler } from './latency.js';
import { ENDPOINT_HEADER, Payloads } from './payload.js';
import { DEFAULT_STREAM_MESSAGES, STAMP_BYTES, stampedMessage, writeMessages } from './stream.js';
import { CLOSE_GRACE_MS, type RunningBackends } from './types.js';

interface EchoRequest {
  payload: Buffer;
  response_bytes: number;
  messages: number;
}

interface EchoReply {
  payload: Buffer;
}

export async function start(config: BackendConfig): Promise<RunningBackends> {
  const sample = createLatencySampler(config.latency);
  const payloads = new Payloads(config.responseBytes);
  const delays = new Delays();

  const definition = protoLoader.loadSync(echoProtoPath(), ECHO_LOADER_OPTIONS);
  const service = definition[ECHO_SERVICE] as unknown as grpc.ServiceDefinition;

  const server = new grpc.Server({
    interceptors: [endpointInterceptor],
    // Benchmarks send and ask for bodies up to --response-bytes' limit; the 4 MB default would refuse them.
    'grpc.max_receive_message_length': -1,
    'grpc.max_send_message_length': -1,
  });
  applyFlowControl(server, config);
  server.addService(service, {
    Unary: (call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) => {
      const bytes = call.request.response_bytes || config.responseBytes;
      if (bytes > MAX_RESPONSE_BYTES) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: `response_bytes ${bytes} exceeds ${MAX_RESPONSE_BYTES}` });
        return;
      }
      delays.run(sample(), () => callback(null, { payload: payloads.get(bytes) }));
    },
    ServerStream: (call: grpc.ServerWritableStream<EchoRequest, EchoReply>) => {
      const bytes = call.request.response_bytes || config.responseBytes;
      const count = call.request.messages || DEFAULT_STREAM_MESSAGES;
      const refusal =
        bytes > MAX_RESPONSE_BYTES || bytes < STAMP_BYTES
          ? `response_bytes ${bytes} is not in ${STAMP_BYTES}..${MAX_RESPONSE_BYTES} (each streamed message starts with its 8-byte stamp)`
          : count > MAX_STREAM_MESSAGES
            ? `messages ${count} exceeds ${MAX_STREAM_MESSAGES}`
            : undefined;
      if (refusal !== undefined) {
        // grpc-js turns an 'error' on a server stream into its status.
        call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: refusal });
        return;
      }
      delays.run(sample(), () =>
        writeMessages(
          count,
          call,
          () => call.write({ payload: stampedMessage(bytes) }),
          () => call.end(),
          () => call.cancelled || call.destroyed,
        ),
      );
    },
  });

  const address = (port: number): string => `${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const credentials = grpc.ServerCredentials.createInsecure();
  const bind = (port: number): Promise<number> =>
    new Promise((resolve, reject) =>
      server.bindAsync(address(port), credentials, (err, bound) =>
        err ? reject(new Error(`cannot listen on ${address(port)}: ${err.message}`, { cause: err })) : resolve(bound),
      ),
    );
  // Settle every bind before giving up, so no late bind lands on a server that was already shut down.
  const binds = await Promise.allSettled(
    Array.from({ length: config.endpoints }, (_, i) => bind(config.basePort === 0 ? 0 : config.basePort + i)),
  );
  const failed = binds.find((b): b is PromiseRejectedResult => b.status === 'rejected');
  if (failed) {
    server.forceShutdown();
    throw failed.reason;
  }
  const ports = binds.map((b) => (b as PromiseFulfilledResult<number>).value);

  let closing: Promise<void> | undefined;
  return {
    ports,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          delays.cancelAll();
          server.forceShutdown();
          resolve();
        }, CLOSE_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(force);
          delays.cancelAll();
          resolve();
        });
      })),
  };
}

/** Names the endpoint (its local port) in the response metadata, as the HTTP backends do in a header. */
const endpointInterceptor: grpc.ServerInterceptor = (_method, call) => {
  const port = String(call.getConnectionInfo().localPort ?? 0);
  return new grpc.ServerInterceptingCall(call, {
    sendMetadata: (metadata, next) => {
      metadata.set(ENDPOINT_HEADER, port);
      next(metadata);
    },
  });
};

interface GrpcServerInternals {
  commonServerOptions: http2.ServerOptions;
  createHttp2Server: (credentials: grpc.ServerCredentials) => http2.Http2Server;
}

/**
 * grpc-js has no server option for HTTP/2 windows, so --stream-window and --conn-window reach its HTTP/2
 * servers through two internals: the options each is created with (the SETTINGS we advertise) and the
 * factory that creates them (to widen each session's connection window). The tests check both on the
 * wire, so a grpc-js upgrade that moves them fails loudly rather than silently benchmarking 64 KiB windows.
 */
function applyFlowControl(server: grpc.Server, config: BackendConfig): void {
  const internals = server as unknown as Partial<GrpcServerInternals>;
  const create = internals.createHttp2Server;
  if (typeof internals.commonServerOptions !== 'object' || typeof create !== 'function') {
    throw new Error('this @grpc/grpc-js version does not expose its HTTP/2 server options; cannot apply --stream-window/--conn-window');
  }
  const ours = h2ServerOptions(config);
  internals.commonServerOptions = {
    ...internals.commonServerOptions,
    ...ours,
    settings: { ...internals.commonServerOptions.settings, ...ours.settings },
  };
  internals.createHttp2Server = (credentials) => {
    const http2Server = create.call(server, credentials);
    http2Server.on('session', (session: http2.ServerHttp2Session) => widenConnectionWindow(session, config.connWindow));
    return http2Server;
  };
}
