// gRPC endpoints: one @grpc/grpc-js Server per endpoint serving sluice.echo.Echo/Unary and /ServerStream
// (stamped replies written as flow control allows, stream.ts), fed through a connection injector by the
// endpoint's gate (gate.ts); requests on an endpoint with faults go through h2-faults.ts.
import type http2 from 'node:http2';
import type { Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ECHO_LOADER_OPTIONS, ECHO_SERVICE, echoProtoPath } from '../proto/path.js';
import { MAX_RESPONSE_BYTES, MAX_STREAM_MESSAGES, type BackendConfig } from './config.js';
import { Delays } from './delays.js';
import { createEndpoints, type Endpoint } from './endpoint.js';
import { countAnswer } from './fault-stats.js';
import { socketOptionsOf } from './gate.js';
import { GRPC_STATUS } from '../../common/grpc-status.js';
import { serveFaultyStream, type StreamKit } from './h2-faults.js';
import { h2ServerOptions, widenConnectionWindow } from './h2.js';
import type { Random } from './latency.js';
import { ENDPOINT_HEADER, Payloads } from './payload.js';
import { serveEndpoints, type ServedEndpoints } from './serve-endpoints.js';
import { DEFAULT_STREAM_MESSAGES, STAMP_BYTES, stampedMessage, writeMessages } from './stream.js';
import type { RunningBackends, StartOptions } from './types.js';

interface EchoRequest {
  payload: Buffer;
  response_bytes: number;
  messages: number;
}

interface EchoReply {
  payload: Buffer;
}

export async function start(config: BackendConfig, options: StartOptions = {}): Promise<RunningBackends> {
  const random = options.random ?? Math.random;
  const payloads = new Payloads(config.responseBytes);
  const delays = new Delays();
  const endpoints = createEndpoints(config);
  const definition = protoLoader.loadSync(echoProtoPath(), ECHO_LOADER_OPTIONS);
  const service = definition[ECHO_SERVICE] as unknown as grpc.ServiceDefinition;
  const credentials = grpc.ServerCredentials.createInsecure();

  /** sluice.echo.Echo for one endpoint: the handlers know their endpoint (latency, counters) without a lookup. */
  const echo = (endpoint: Endpoint): grpc.UntypedServiceImplementation => ({
    Unary: (call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) => {
      const bytes = call.request.response_bytes || config.responseBytes;
      if (bytes > MAX_RESPONSE_BYTES) {
        countAnswer(endpoint.stats, 'INVALID_ARGUMENT');
        callback({ code: grpc.status.INVALID_ARGUMENT, details: `response_bytes ${bytes} exceeds ${MAX_RESPONSE_BYTES}` });
        return;
      }
      delays.run(endpoint.sample(), () => {
        countAnswer(endpoint.stats, 'OK');
        callback(null, { payload: payloads.get(bytes) });
      });
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
        countAnswer(endpoint.stats, 'INVALID_ARGUMENT');
        // grpc-js turns an 'error' on a server stream into its status.
        call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: refusal });
        return;
      }
      delays.run(endpoint.sample(), () =>
        writeMessages(
          count,
          call,
          () => call.write({ payload: stampedMessage(bytes) }),
          () => {
            countAnswer(endpoint.stats, 'OK');
            call.end();
          },
          () => call.cancelled || call.destroyed,
        ),
      );
    },
  });

  // One grpc-js Server per endpoint, fed by the endpoint's gate through a connection injector (its HTTP/2
  // server made through our hook, which puts the faults in front of it).
  const servers: grpc.Server[] = [];
  const doors = endpoints.map((endpoint) => {
    const server = new grpc.Server({
      interceptors: [endpointInterceptor(endpoint)],
      // Benchmarks send and ask for bodies up to --response-bytes' limit; the 4 MB default would refuse them.
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
    });
    servers.push(server);
    let http2Server: http2.Http2Server | undefined;
    applyFlowControl(server, config, (created) => (http2Server = created));
    server.addService(service, echo(endpoint));
    const injector = server.createConnectionInjector(credentials);
    if (http2Server === undefined) throw new Error('@grpc/grpc-js made its connection injector without createHttp2Server; cannot apply the windows and faults');
    routeStreams(http2Server, endpoint, delays, random);
    return { handover: (socket: Socket) => injector.injectConnection(socket), options: socketOptionsOf(http2Server) };
  });

  let served: ServedEndpoints;
  try {
    served = await serveEndpoints(config, endpoints, doors, options.closeGraceMs);
  } catch (err) {
    for (const server of servers) server.forceShutdown();
    throw err;
  }
  return {
    ports: served.ports,
    faults: served.faults,
    close: () =>
      served.close(
        () => {
          for (const server of servers) server.tryShutdown(() => undefined);
        },
        () => {
          delays.cancelAll();
          for (const server of servers) server.forceShutdown();
        },
      ),
  };
}

/**
 * Puts the endpoint's faults in front of grpc-js: its 'stream' handler is taken off the HTTP/2 server and
 * called for every healthy request; a request on an endpoint with faults goes through h2-faults.ts instead,
 * which needs the HTTP/2 stream (RST_STREAM codes, a body never read) that grpc-js' call API does not give.
 */
function routeStreams(http2Server: http2.Http2Server, endpoint: Endpoint, delays: Delays, random: Random): void {
  type StreamListener = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number) => void;
  const handlers = http2Server.listeners('stream') as StreamListener[];
  if (handlers.length !== 1) {
    throw new Error(`this @grpc/grpc-js version puts ${handlers.length} 'stream' handlers on its HTTP/2 server (expected 1); cannot apply the faults`);
  }
  const grpcHandler = handlers[0]!;
  http2Server.removeAllListeners('stream');
  const kit: StreamKit = {
    endpoint,
    delays,
    random,
    answer: (stream, headers, flags) => grpcHandler.call(http2Server, stream, headers, flags),
    fail: (stream) => failCall(stream, endpoint),
  };
  http2Server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number) => {
    endpoint.stats.requests.total++;
    if (endpoint.requestFaults) serveFaultyStream(stream, headers, flags, kit);
    else grpcHandler.call(http2Server, stream, headers, flags);
  });
}

/** --fail-share on gRPC: a trailers-only response (HTTP 200, grpc-status --fail-grpc), as a server that fails the call at once sends. */
function failCall(stream: http2.ServerHttp2Stream, endpoint: Endpoint): void {
  if (stream.headersSent) return;
  countAnswer(endpoint.stats, endpoint.failGrpc);
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc+proto',
      'grpc-status': String(GRPC_STATUS[endpoint.failGrpc]),
      'grpc-message': 'sluice backend: injected failure (--fail-share)',
      [ENDPOINT_HEADER]: endpoint.portText,
    },
    { endStream: true },
  );
}

/** Names the endpoint (its port) in the response metadata, as the HTTP backends do in a header. */
function endpointInterceptor(endpoint: Endpoint): grpc.ServerInterceptor {
  return (_method, call) =>
    new grpc.ServerInterceptingCall(call, {
      sendMetadata: (metadata, next) => {
        metadata.set(ENDPOINT_HEADER, endpoint.portText);
        next(metadata);
      },
    });
}

interface GrpcServerInternals {
  commonServerOptions: http2.ServerOptions;
  createHttp2Server: (credentials: grpc.ServerCredentials) => http2.Http2Server;
}

/**
 * grpc-js has no server option for HTTP/2 windows, so --stream-window and --conn-window reach its HTTP/2
 * servers through two internals: the options each is created with (the SETTINGS we advertise) and the
 * factory that creates them (to widen each session's connection window, and to hand each to `onCreate`, which
 * puts the faults in front of it). The tests check both on the
 * wire, so a grpc-js upgrade that moves them fails loudly rather than silently benchmarking 64 KiB windows.
 */
function applyFlowControl(server: grpc.Server, config: BackendConfig, onCreate: (http2Server: http2.Http2Server) => void): void {
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
    onCreate(http2Server);
    return http2Server;
  };
}
