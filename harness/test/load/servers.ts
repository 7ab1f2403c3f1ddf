// Small targets for the generator's tests, on 127.0.0.1 ephemeral ports. Each close() ends every
// connection it accepted, so a test leaves nothing running.
import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ECHO_LOADER_OPTIONS, ECHO_SERVICE, echoProtoPath } from '../../../workloads/proto/path.js';
import { OutcomeHistograms } from '../../load/statistic/outcome-histograms.js';
import { Recorder } from '../../load/statistic/recorder.js';
import type { LoadOptions, Protocol } from '../../load/types.js';

export interface TestServer {
  url: string;
  close(): Promise<void>;
}

/** An h2c server; `onStream` gets each stream with its 1-based number across all sessions, and its request headers. */
export async function h2Server(
  onStream: (stream: http2.ServerHttp2Stream, n: number, session: http2.ServerHttp2Session, headers: http2.IncomingHttpHeaders) => void,
): Promise<TestServer> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  // node:http2 may keep a gracefully closed session's socket open: close() destroys the sockets themselves.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  let n = 0;
  server.on('session', (session) => {
    sessions.add(session);
    session.on('error', () => undefined);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    onStream(stream, ++n, stream.session as http2.ServerHttp2Session, headers);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/echo`,
    close: async () => {
      for (const s of sessions) s.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Answers every stream with `status` and `body`, after `delayMs` when given. The delay is precise to a few
 * tens of µs on an idle loop: a timer wakes up 2 ms early and the last stretch is polled with setImmediate
 * (a timer alone fires up to ~1.5 ms late, as libuv's clock has a millisecond's grain).
 */
export function respond(stream: http2.ServerHttp2Stream, status = 200, body = 'ok', delayMs = 0): void {
  const send = (): void => {
    if (stream.destroyed || stream.closed) return;
    stream.respond({ ':status': status, 'content-length': String(Buffer.byteLength(body)) });
    stream.end(body);
  };
  // Drain the request body before answering, as a real backend would.
  stream.resume();
  if (delayMs > 0) {
    const cancel = after(delayMs, send);
    stream.once('close', cancel);
  } else {
    send();
  }
}

/** Calls `fn` `delayMs` from now, precisely (see respond); returns a cancel function. */
export function after(delayMs: number, fn: () => void): () => void {
  const due = performance.now() + delayMs;
  let immediate: NodeJS.Immediate | undefined;
  const poll = (): void => {
    if (performance.now() >= due) fn();
    else immediate = setImmediate(poll);
  };
  const timer = setTimeout(poll, Math.max(0, delayMs - 2));
  return () => {
    clearTimeout(timer);
    clearImmediate(immediate);
  };
}

/** An HTTP/1.1 server answering `status` with a short body, or never answering when `status` is 'hang'. */
export async function h1Server(status: number | 'hang' = 200): Promise<TestServer> {
  const server = http.createServer((req, res) => {
    req.resume();
    if (status === 'hang') return;
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/echo`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface EchoRequest {
  payload: Buffer;
  response_bytes: number;
}

/** A @grpc/grpc-js Echo server; `answer(n)` may return an error status for the n-th call, or 'hang' to never answer it. */
export async function grpcEchoServer(answer?: (n: number) => Partial<grpc.ServiceError> | 'hang' | undefined): Promise<TestServer> {
  const definition = protoLoader.loadSync(echoProtoPath(), ECHO_LOADER_OPTIONS);
  const service = definition[ECHO_SERVICE] as unknown as grpc.ServiceDefinition;
  const server = new grpc.Server();
  let n = 0;
  server.addService(service, {
    Unary: (call: grpc.ServerUnaryCall<EchoRequest, unknown>, callback: grpc.sendUnaryData<{ payload: Buffer }>) => {
      const how = answer?.(++n);
      if (how === 'hang') return;
      if (how) return callback(how);
      callback(null, { payload: Buffer.alloc(call.request.response_bytes || 16, 0x61) });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return {
    url: `http://127.0.0.1:${port}/`,
    close: async () => {
      server.forceShutdown();
    },
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Short-run options: ~1 s per run, as the tests are bounded. */
export function quickOptions(url: string, protocol: Protocol, overrides: Partial<LoadOptions> = {}): LoadOptions {
  return {
    url,
    protocol,
    connections: 2,
    streamsPerConnection: protocol === 'h1' ? 1 : 4,
    durationMs: 800,
    warmupMs: 200,
    timeoutMs: 2000,
    method: 'GET',
    bodyBytes: 0,
    ...overrides,
  };
}

/** Timers pending right now (the test servers here set none unless asked to delay). */
export function pendingTimers(): number {
  return process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;
}

/**
 * Runs `work` and returns its result with every client socket opened meanwhile (node's net.client.socket
 * diagnostics channel sees the generator's sockets, not the test servers' accepted ones).
 */
export async function withClientSockets<T>(work: () => Promise<T>): Promise<{ result: T; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const onSocket = (message: unknown): void => {
    sockets.push((message as { socket: Socket }).socket);
  };
  diagnostics.subscribe('net.client.socket', onSocket);
  try {
    return { result: await work(), sockets };
  } finally {
    diagnostics.unsubscribe('net.client.socket', onSocket);
  }
}

/**
 * A recorder measuring from time 0 (every request counts) with its run's histograms, for tests that drive a
 * client directly; initHistograms() must have resolved. destroy() frees the histograms.
 */
export function measuringRecorder(timeoutMs = 5000): { recorder: Recorder; histograms: OutcomeHistograms; destroy(): void } {
  const histograms = new OutcomeHistograms(false);
  const recorder = new Recorder(timeoutMs);
  recorder.startRun({ histograms });
  recorder.openWindow(0);
  return { recorder, histograms, destroy: () => histograms.destroy() };
}
