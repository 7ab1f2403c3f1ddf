// gRPC over @grpc/grpc-js: sluice.echo.Echo/Unary on `connections` channels, each its own TCP connection
// (a local subchannel pool per channel: grpc-js would otherwise share one connection among equal channels),
// calls spread so each channel carries at most streamsPerConnection of them.
import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ECHO_LOADER_OPTIONS, ECHO_SERVICE, echoProtoPath } from '../../../workloads/proto/path.js';
import { classifyError, grpcClass, h2Code, rstClass, statusClass, TIMEOUT } from '../errors.js';
import { ENDPOINT_HEADER } from '../payload.js';
import { requestTimes, type Recorder, type RequestTimes } from '../statistic/recorder.js';
import type { LoadOptions } from '../types.js';
import { failed, type RequestClient } from './client.js';
import { leastBusy } from '../pool/least-busy.js';

interface EchoRequest {
  payload: Buffer;
  response_bytes: number;
}

interface EchoReply {
  payload: Buffer;
}

type UnaryMethod = grpc.MethodDefinition<EchoRequest, EchoReply>;

let unaryMethod: UnaryMethod | undefined;

/** Echo.Unary's path and codecs, loaded from workloads/proto/echo.proto once per process. */
function echoUnary(): UnaryMethod {
  if (!unaryMethod) {
    const definition = protoLoader.loadSync(echoProtoPath(), ECHO_LOADER_OPTIONS);
    const service = definition[ECHO_SERVICE] as unknown as grpc.ServiceDefinition;
    unaryMethod = service['Unary'] as UnaryMethod;
  }
  return unaryMethod;
}

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // One connection per channel, never shared with another channel to the same target.
  'grpc.use_local_subchannel_pool': 1,
  // A load generator must see every failure: no transparent retry of refused streams, no retry policy.
  'grpc.enable_retries': 0,
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
};

// grpc-js closes its connections asynchronously and says nothing when done; close() waits for the sockets
// (seen on node's net.client.socket diagnostics channel) at most this long.
const SOCKET_CLOSE_WAIT_MS = 2000;

interface Channel {
  client: grpc.Client;
  active: number;
}

const channelActive = (channel: Channel): number => channel.active;

export function createGrpcClient(options: LoadOptions, recorder: Recorder): RequestClient {
  return new GrpcClient(options, recorder);
}

class GrpcClient implements RequestClient {
  readonly kind = 'request' as const;
  private readonly method = echoUnary();
  private readonly request: EchoRequest;
  private readonly channels: Channel[];
  private readonly calls = new Set<grpc.ClientUnaryCall>();
  private readonly sockets = new Set<Socket>();
  private readonly port: number;
  private cursor = 0;
  /** Tracing: each call's x-sluice-endpoint is read from its response metadata (one listener per call). */
  private readonly readEndpoint: boolean;
  private readonly onSocket = (message: unknown): void => {
    const { socket } = message as { socket: Socket };
    socket.once('connect', () => {
      if (socket.remotePort !== this.port) return;
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  };

  constructor(
    private readonly options: LoadOptions,
    private readonly recorder: Recorder,
  ) {
    const url = new URL(options.url);
    this.readEndpoint = options.trace !== undefined;
    this.port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    diagnostics.subscribe('net.client.socket', this.onSocket);
    const credentials = url.protocol === 'https:' ? grpc.credentials.createSsl() : grpc.credentials.createInsecure();
    this.channels = Array.from({ length: options.connections }, () => ({
      client: new grpc.Client(url.host, credentials, CHANNEL_OPTIONS),
      active: 0,
    }));
    this.request = { payload: Buffer.alloc(options.bodyBytes, 0x78), response_bytes: options.responseBytes ?? 0 };
  }

  /** Connects every channel (its own TCP connection); one that cannot connect is left to the requests to record. */
  async connect(): Promise<number> {
    const deadline = Date.now() + this.options.timeoutMs;
    const ready = await Promise.all(
      this.channels.map(({ client }) => new Promise<boolean>((resolve) => client.waitForReady(deadline, (err) => resolve(!err)))),
    );
    return ready.filter(Boolean).length;
  }

  startRequest(intendedStart?: number): Promise<void> {
    const channel = leastBusy(this.channels, channelActive, this.cursor++);
    channel.active++;
    const times = requestTimes(intendedStart, performance.now());
    // grpc-js deadlines are wall-clock; the time left is counted from the (intended) start.
    const deadline = Date.now() + Math.max(0, times.intended + this.options.timeoutMs - performance.now());
    const { path, requestSerialize, responseDeserialize } = this.method;
    return new Promise((resolve, reject) => {
      let endpoint: string | undefined;
      const call = channel.client.makeUnaryRequest(
        path,
        requestSerialize,
        responseDeserialize,
        this.request,
        new grpc.Metadata(),
        { deadline },
        (err) => {
          channel.active--;
          this.calls.delete(call);
          if (!err) {
            this.recorder.success(times, performance.now(), endpoint);
            resolve();
          } else {
            reject(failed(this.recorder, this.classify(err, times), times));
          }
        },
      );
      this.calls.add(call);
      if (this.readEndpoint) {
        call.on('metadata', (metadata: grpc.Metadata) => {
          const answered = metadata.get(ENDPOINT_HEADER)[0];
          if (answered !== undefined) endpoint = String(answered);
        });
      }
    });
  }

  async close(): Promise<void> {
    diagnostics.unsubscribe('net.client.socket', this.onSocket);
    for (const call of this.calls) call.cancel();
    this.calls.clear();
    for (const channel of this.channels) channel.client.close();
    const open = [...this.sockets].map((socket) => new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve()))));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(open), new Promise<void>((resolve) => (timer = setTimeout(resolve, SOCKET_CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  /**
   * One class per failed call. grpc-js turns transport events into statuses; where its details say what
   * really happened, that is the class, so gRPC failures read like h2 ones:
   * - DEADLINE_EXCEEDED (our timeoutMs) is `timeout`; grpc-js then resets a started stream with CANCEL.
   * - A RST_STREAM from the server (grpc-js reports it by code or as a fixed text) is `rst:<CODE>`.
   * - A non-200 HTTP status from a proxy (no gRPC status at all) is `status:4xx/5xx`.
   * - UNAVAILABLE because of a socket error is that error's class (ECONNREFUSED, ECONNRESET, ...).
   * - Anything else is `grpc:<STATUS_NAME>`, a status the server (or proxy) sent.
   */
  private classify(err: grpc.ServiceError, times: RequestTimes): string {
    const details = err.details ?? '';
    if (err.code === grpc.status.DEADLINE_EXCEEDED) {
      // remote_addr appears when the call had been given a stream on a connection.
      if (details.includes('remote_addr=')) this.recorder.rstSent(h2Code('CANCEL'), times);
      return TIMEOUT;
    }
    const rst = rstFromDetails(err.code, details);
    if (rst !== undefined) {
      this.recorder.rstReceived(rst, times);
      return rstClass(rst);
    }
    const http = /Received HTTP status code (\d+)/.exec(details);
    if (http) return statusClass(Number(http[1])) ?? grpcClass(err.code);
    if (err.code === grpc.status.UNAVAILABLE) {
      const socket = classifyError(new Error(details));
      if (!socket.startsWith('other:') && socket !== TIMEOUT) return socket;
    }
    return grpcClass(err.code);
  }
}

/** The RST_STREAM code a grpc-js status was made from, if it was made from one the server sent. */
function rstFromDetails(code: grpc.status, details: string): number | undefined {
  if (details.includes('triggered by internal client error')) return undefined;
  const numbered = /Received RST_STREAM with code (\d+)/.exec(details);
  // Code 0 is grpc-js' "call ended without gRPC status": a stream that ended, not one that was reset.
  if (numbered) return Number(numbered[1]) === 0 ? undefined : Number(numbered[1]);
  if (code === grpc.status.UNAVAILABLE && details === 'Stream refused by server') return h2Code('REFUSED_STREAM');
  // The only calls we cancel are the ones closed at the end of a run, which are not recorded.
  if (code === grpc.status.CANCELLED && details === 'Call cancelled') return h2Code('CANCEL');
  if (code === grpc.status.RESOURCE_EXHAUSTED && details === 'Bandwidth exhausted or memory limit exceeded') {
    return h2Code('ENHANCE_YOUR_CALM');
  }
  if (code === grpc.status.PERMISSION_DENIED && details === 'Protocol not secure enough') return h2Code('INADEQUATE_SECURITY');
  return undefined;
}
