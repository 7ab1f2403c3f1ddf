// gRPC over @grpc/grpc-js: sluice.echo.Echo/Unary through the shared ConnectionPool (../pool/), whose connections
// are grpc-js channels, a fresh one per slot connection and each its own TCP connection (a local subchannel pool
// per channel: grpc-js would otherwise share one connection among equal channels). The pool picks the least busy
// channel, replaces one that failed to connect (after its back-off) or lost its transport, hands a call back that
// never went out to another, times calls out (call.cancel(), one deadline list) and closes them all; this file
// opens channels, makes calls and classes their outcomes. What grpc-js keeps to itself: see ../pool/README.md.
import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ECHO_LOADER_OPTIONS, ECHO_SERVICE, echoProtoPath } from '../../../workloads/proto/path.js';
import { classifyError, grpcClass, h2Code, rstClass, statusClass, TIMEOUT } from '../errors.js';
import { ENDPOINT_HEADER } from '../payload.js';
import { BACKOFF_MAX_MS, ConnectionPool, type PoolConnection, type PoolOwner, PooledRequest, type Slot } from '../pool/pool.js';
import type { Recorder, RequestTimes } from '../statistic/recorder.js';
import type { LoadOptions } from '../types.js';
import type { RequestClient } from './client.js';

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

/** grpc-js's reconnect back-off, beyond the pool's longest (BACKOFF_MAX_MS): see CHANNEL_OPTIONS. */
const GRPC_OWN_BACKOFF_MS = 60 * BACKOFF_MAX_MS;

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // One connection per channel, never shared with another channel to the same target.
  'grpc.use_local_subchannel_pool': 1,
  // A load generator must see every failure: no transparent retry of refused streams, no retry policy.
  'grpc.enable_retries': 0,
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
  // The pool owns reconnection: a channel that fails to connect or loses its connection is closed and the pool
  // opens a fresh one after its own back-off. grpc-js's back-off inside a channel is the least time between two
  // connect starts, timed from the first: shorter than a failed connect, it would let the channel connect again
  // before it reports TRANSIENT_FAILURE (at 10 ms, two sockets per channel against a dead port). So it is made
  // longer than any channel of ours lives without connecting: it never runs.
  'grpc.initial_reconnect_backoff_ms': GRPC_OWN_BACKOFF_MS,
  'grpc.max_reconnect_backoff_ms': GRPC_OWN_BACKOFF_MS,
  // No channelz bookkeeping per call (nothing here reads it).
  'grpc.enable_channelz': 0,
};

// grpc-js closes its connections asynchronously and says nothing when done; close() waits for the sockets
// (seen on node's net.client.socket diagnostics channel) at most this long.
const SOCKET_CLOSE_WAIT_MS = 2000;

/**
 * grpc-js's details of a call that never went out on a channel that had connected: the channel was closed (by
 * us, when it lost its connection) while the call waited for a pick, or the picked connection took no new stream
 * (a GOAWAY just arrived). The pool hands such a call to another connection.
 */
const UNSENT_DETAILS = ['Channel closed before call started', 'Failed to start HTTP/2 stream'];

/** What every channel of one client is made with and sends, built once. */
interface ChannelSpec {
  host: string;
  credentials: grpc.ChannelCredentials;
  method: UnaryMethod;
  request: EchoRequest;
  recorder: Recorder;
  /** Tracing: each call's x-sluice-endpoint is read from its response metadata (one listener per call). */
  readEndpoint: boolean;
}

class GrpcRequest extends PooledRequest<GrpcConnection, GrpcRequest> {
  /** Its call, once made on a channel. */
  call: grpc.ClientUnaryCall | undefined = undefined;
  endpoint: string | undefined = undefined;
}

export function createGrpcClient(options: LoadOptions, recorder: Recorder): RequestClient {
  return new GrpcClient(options, recorder);
}

class GrpcClient extends ConnectionPool<GrpcConnection, GrpcRequest> {
  private readonly sockets = new Set<Socket>();
  private readonly port: number;
  private closedAll: Promise<void> | undefined;
  private readonly onSocket = (message: unknown): void => {
    const { socket } = message as { socket: Socket };
    socket.once('connect', () => {
      if (socket.remotePort !== this.port) return;
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  };

  constructor(options: LoadOptions, recorder: Recorder) {
    const url = new URL(options.url);
    const spec: ChannelSpec = {
      host: url.host,
      credentials: url.protocol === 'https:' ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(),
      method: echoUnary(),
      request: { payload: Buffer.alloc(options.bodyBytes, 0x78), response_bytes: options.responseBytes ?? 0 },
      recorder,
      readEndpoint: options.trace !== undefined,
    };
    super(recorder, options.connections, options.timeoutMs, { open: (owner) => new GrpcConnection(spec, owner) });
    this.port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    diagnostics.subscribe('net.client.socket', this.onSocket);
  }

  protected newRequest(slot: Slot<GrpcConnection, GrpcRequest>, times: RequestTimes, deadline: number): GrpcRequest {
    return new GrpcRequest(slot, times, deadline);
  }

  override close(): Promise<void> {
    return (this.closedAll ??= super.close().then(() => this.socketsClosed()));
  }

  /** After the pool's close (every call cancelled, every channel closed): the channels' sockets, bounded. */
  private async socketsClosed(): Promise<void> {
    diagnostics.unsubscribe('net.client.socket', this.onSocket);
    const open = [...this.sockets].map((socket) => new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve()))));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(open), new Promise<void>((resolve) => (timer = setTimeout(resolve, SOCKET_CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
  }
}

const { CONNECTING, IDLE, READY } = grpc.connectivityState;

/**
 * One grpc-js channel (a grpc.Client), one TCP connection, as a pool connection. It serves from its first state
 * until its channel leaves READY (the transport dropped or was GOAWAY'd: grpc-js does not say which) or fails to
 * connect (TRANSIENT_FAILURE); then it takes no new calls, is closed, and is done once its calls are.
 */
class GrpcConnection implements PoolConnection<GrpcRequest> {
  readonly whenReady: Promise<boolean>;
  readonly whenClosed: Promise<void>;
  wasEstablished = false;
  private settleReady!: (ready: boolean) => void;
  private settleClosed!: () => void;
  private readonly client: grpc.Client;
  private readonly channel: ReturnType<grpc.Client['getChannel']>;
  /** The channel's target as grpc-js names it: a call's peer until it is given a stream. */
  private readonly target: string;
  /** No longer serving: its channel failed, dropped its connection or was closed. */
  private retired = false;
  /** It has been seen CONNECTING: IDLE again then means the connection came and went. */
  private connecting = false;
  private reportedClose = false;
  private readonly inFlight = new Set<GrpcRequest>();

  constructor(
    private readonly spec: ChannelSpec,
    private readonly owner: PoolOwner<GrpcConnection, GrpcRequest>,
  ) {
    this.whenReady = new Promise((resolve) => (this.settleReady = resolve));
    this.whenClosed = new Promise((resolve) => (this.settleClosed = resolve));
    this.client = new grpc.Client(spec.host, spec.credentials, CHANNEL_OPTIONS);
    this.channel = this.client.getChannel();
    this.target = this.channel.getTarget();
    // Connect now, not at the first call.
    this.watch(this.channel.getConnectivityState(true));
  }

  get acceptsStreams(): boolean {
    return !this.retired;
  }

  /** The call goes to grpc-js at once: it waits in the channel's pick queue until the channel is READY. */
  open(request: GrpcRequest): void {
    request.conn = this;
    this.inFlight.add(request);
    const { path, requestSerialize, responseDeserialize } = this.spec.method;
    const call = this.client.makeUnaryRequest(path, requestSerialize, responseDeserialize, this.spec.request, new grpc.Metadata(), (err) =>
      this.ended(request, err),
    );
    request.call = call;
    if (this.spec.readEndpoint) {
      call.on('metadata', (metadata: grpc.Metadata) => {
        const answered = metadata.get(ENDPOINT_HEADER)[0];
        if (answered !== undefined) request.endpoint = String(answered);
      });
    }
  }

  /** call.cancel(): grpc-js resets the call's stream with CANCEL if it had one (its peer is then the connection's). */
  cancel(request: GrpcRequest, _code: number): boolean {
    const call = request.call;
    if (call === undefined) return false;
    const hadStream = call.getPeer() !== this.target;
    call.cancel();
    return hadStream;
  }

  close(errorClass: string): void {
    const requests = [...this.inFlight];
    this.inFlight.clear();
    for (const request of requests) this.owner.aborted(request, errorClass);
    for (const request of requests) request.call?.cancel();
    this.retire();
  }

  private watch(state: grpc.connectivityState): void {
    this.channel.watchConnectivityState(state, Infinity, () => this.stateChanged());
  }

  private stateChanged(): void {
    if (this.retired) return;
    const state = this.channel.getConnectivityState(false);
    if (state === READY) {
      this.wasEstablished = true;
      this.settleReady(true);
    } else if (state === CONNECTING) {
      this.connecting = true;
    } else if (this.wasEstablished || state !== IDLE || this.connecting) {
      // Left READY (the connection dropped or was GOAWAY'd), failed to connect (TRANSIENT_FAILURE), or went back
      // to IDLE after connecting (a READY too brief to be seen): grpc-js would reconnect this channel itself, so it
      // is retired. Calls waiting for a pick have failed already (grpc-js fails them with the connect error before
      // it tells its watchers).
      this.retire();
      return;
    }
    this.watch(state);
  }

  /** Takes no new calls and closes the channel (its calls in flight run on); done once they are. */
  private retire(): void {
    if (this.retired) return;
    this.retired = true;
    this.settleReady(false);
    this.client.close();
    // A channel that never connected holds no socket: the pool learns of the failed connect (and backs the slot
    // off) now, not once its calls' failures have come back.
    if (!this.wasEstablished || this.inFlight.size === 0) this.done();
  }

  private done(): void {
    if (this.reportedClose) return;
    this.reportedClose = true;
    this.settleClosed();
    this.owner.onClose(this);
  }

  private ended(request: GrpcRequest, err: grpc.ServiceError | null): void {
    if (!this.inFlight.delete(request)) return; // closed with the pool (aborted already)
    request.call = undefined;
    // Settled already: timed out (the pool cancelled it).
    if (!request.settled) {
      if (!err) this.owner.answered(request, performance.now(), request.endpoint);
      else if (this.wasEstablished && UNSENT_DETAILS.some((unsent) => err.details.startsWith(unsent))) {
        this.owner.onUnsent(request, classify(this.spec.recorder, err, request.times));
      } else this.owner.aborted(request, classify(this.spec.recorder, err, request.times));
    }
    if (this.retired && this.inFlight.size === 0) this.done();
  }
}

/**
 * One class per failed call. grpc-js turns transport events into statuses; where its details say what
 * really happened, that is the class, so gRPC failures read like h2 ones:
 * - DEADLINE_EXCEEDED is `timeout`. Our own timeouts never come here: grpc-js is given no deadline, the pool
 *   cancels a call at its deadline (call.cancel(), RST_STREAM(CANCEL) if it had a stream) and records it.
 * - A RST_STREAM from the server (grpc-js reports it by code or as a fixed text) is `rst:<CODE>`.
 * - A non-200 HTTP status from a proxy (no gRPC status at all) is `status:4xx/5xx`.
 * - UNAVAILABLE because of a socket error is that error's class (ECONNREFUSED, ECONNRESET, ...).
 * - Anything else is `grpc:<STATUS_NAME>`, a status the server (or proxy) sent.
 */
function classify(recorder: Recorder, err: grpc.ServiceError, times: RequestTimes): string {
  const details = err.details ?? '';
  if (err.code === grpc.status.DEADLINE_EXCEEDED) {
    // remote_addr appears when the call had been given a stream on a connection.
    if (details.includes('remote_addr=')) recorder.rstSent(h2Code('CANCEL'), times);
    return TIMEOUT;
  }
  const rst = rstFromDetails(err.code, details);
  if (rst !== undefined) {
    recorder.rstReceived(rst, times);
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

/** The RST_STREAM code a grpc-js status was made from, if it was made from one the server sent. */
function rstFromDetails(code: grpc.status, details: string): number | undefined {
  if (details.includes('triggered by internal client error')) return undefined;
  const numbered = /Received RST_STREAM with code (\d+)/.exec(details);
  // Code 0 is grpc-js' "call ended without gRPC status": a stream that ended, not one that was reset.
  if (numbered) return Number(numbered[1]) === 0 ? undefined : Number(numbered[1]);
  if (code === grpc.status.UNAVAILABLE && details === 'Stream refused by server') return h2Code('REFUSED_STREAM');
  // The calls we cancel ourselves (timed out, or closed at the end of a run) are settled before their status comes.
  if (code === grpc.status.CANCELLED && details === 'Call cancelled') return h2Code('CANCEL');
  if (code === grpc.status.RESOURCE_EXHAUSTED && details === 'Bandwidth exhausted or memory limit exceeded') {
    return h2Code('ENHANCE_YOUR_CALM');
  }
  if (code === grpc.status.PERMISSION_DENIED && details === 'Protocol not secure enough') return h2Code('INADEQUATE_SECURITY');
  return undefined;
}

