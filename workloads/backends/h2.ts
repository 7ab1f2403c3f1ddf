// HTTP/2 endpoints (h2c, prior knowledge): one node:http2 server per port, stream API, behind the endpoint's
// gate (gate.ts). A request with x-sluice-stream-messages is answered with a stream of stamped messages
// (stream.ts); a request on an endpoint with faults goes through h2-faults.ts.
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { BackendConfig } from './config.js';
import { Delays } from './delays.js';
import { createEndpoints, type Endpoint } from './endpoint.js';
import { countAnswer } from './fault-stats.js';
import { socketOptionsOf } from './gate.js';
import { serveFaultyStream, type StreamKit } from './h2-faults.js';
import { ENDPOINT_HEADER, MESSAGE_BYTES_HEADER, Payloads, RESPONSE_BYTES_HEADER, STREAM_MESSAGES_HEADER, requestedBytes, requestedMessages } from './payload.js';
import { STAMP_BYTES, stampedMessage, writeMessages } from './stream.js';
import { serveEndpoints } from './serve-endpoints.js';
import type { RunningBackends, StartOptions } from './types.js';

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_STATUS } = http2.constants;

/** Server options shared with the gRPC backend: the windows we advertise and no session memory cap. */
export function h2ServerOptions(config: BackendConfig): http2.ServerOptions {
  return {
    settings: { initialWindowSize: config.streamWindow },
    // Node answers ENHANCE_YOUR_CALM when a session buffers more than this (MB); a backend must not be
    // the one to refuse, so the cap is effectively off (as @grpc/grpc-js does).
    maxSessionMemory: Number.MAX_SAFE_INTEGER,
  };
}

/** Raises the connection receive window from the protocol's 65 535 to --conn-window as the session opens. */
export function widenConnectionWindow(session: http2.Http2Session, connWindow: number): void {
  try {
    session.setLocalWindowSize(connWindow);
  } catch {
    // The session was destroyed before we got to it; nothing to widen.
  }
}

export async function start(config: BackendConfig, options: StartOptions = {}): Promise<RunningBackends> {
  const random = options.random ?? Math.random;
  const payloads = new Payloads(config.responseBytes);
  const delays = new Delays();
  const sessions = new Set<http2.ServerHttp2Session>();
  const endpoints = createEndpoints(config);

  /** The healthy answer: read the whole body, wait one latency sample, 200 with the asked size (or a stream of messages). */
  const answer = (endpoint: Endpoint, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void => {
    stream.on('error', ignore);
    const bytes = requestedBytes(headers[RESPONSE_BYTES_HEADER], config.responseBytes);
    const head = headers[HTTP2_HEADER_METHOD] === 'HEAD';
    // A HEAD request gets the headers of a single response, never a stream.
    const messages = head ? undefined : requestedMessages(headers[STREAM_MESSAGES_HEADER]);
    const port = endpoint.portText;
    stream.resume();
    stream.on('end', () => {
      if (typeof bytes === 'string') return refuse(stream, endpoint, bytes, head);
      if (typeof messages === 'string') return refuse(stream, endpoint, messages, head);
      if (messages !== undefined) {
        if (bytes < STAMP_BYTES) {
          return refuse(stream, endpoint, `${RESPONSE_BYTES_HEADER}: ${bytes} is under ${STAMP_BYTES}, the stamp each streamed message starts with\n`, head);
        }
        delays.run(endpoint.sample(), () => respondStream(stream, messages, bytes, endpoint));
        return;
      }
      delays.run(endpoint.sample(), () => {
        const fields = {
          'content-type': 'application/octet-stream',
          'content-length': bytes,
          [ENDPOINT_HEADER]: port,
        };
        if (respond(stream, 200, fields, payloads.get(bytes), head)) countAnswer(endpoint.stats, 200);
      });
    });
  };

  const servers = endpoints.map((endpoint) => {
    const server = http2.createServer(h2ServerOptions(config));
    server.on('session', (session: http2.ServerHttp2Session) => {
      sessions.add(session);
      session.on('close', () => sessions.delete(session));
      session.on('error', ignore);
      widenConnectionWindow(session, config.connWindow);
    });
    const kit: StreamKit = {
      endpoint,
      delays,
      random,
      answer: (stream, headers) => answer(endpoint, stream, headers),
      fail: (stream) => {
        const body = Buffer.from('sluice backend: injected failure (--fail-share)\n');
        const fields = { 'content-type': 'text/plain', 'content-length': body.length, [ENDPOINT_HEADER]: endpoint.portText };
        if (respond(stream, endpoint.failStatus, fields, body, false)) countAnswer(endpoint.stats, endpoint.failStatus);
      },
    };
    server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number) => {
      endpoint.stats.requests.total++;
      if (endpoint.requestFaults) serveFaultyStream(stream, headers, flags, kit);
      else answer(endpoint, stream, headers);
    });
    return server;
  });

  const served = await serveEndpoints(
    config,
    endpoints,
    servers.map((server) => ({ handover: (socket: Socket) => server.emit('connection', socket), options: socketOptionsOf(server) })),
    options.closeGraceMs,
  );
  return {
    ports: served.ports,
    faults: served.faults,
    close: () =>
      served.close(
        () => {
          for (const server of servers) server.close();
          // GOAWAY: no new streams, in-flight ones may finish within the grace period.
          for (const session of sessions) session.close();
        },
        () => {
          delays.cancelAll();
          for (const session of sessions) session.destroy();
        },
      ),
  };
}

/** Answers unless the stream is gone; false when it was. */
function respond(
  stream: http2.ServerHttp2Stream,
  status: number,
  fields: http2.OutgoingHttpHeaders,
  body: Buffer,
  head: boolean,
): boolean {
  if (stream.destroyed || stream.closed || stream.headersSent) return false;
  const endStream = head || body.length === 0;
  stream.respond({ [HTTP2_HEADER_STATUS]: status, ...fields }, { endStream });
  if (!endStream) stream.end(body);
  return true;
}

/** 400 with the reason as text. */
function refuse(stream: http2.ServerHttp2Stream, endpoint: Endpoint, reason: string, head: boolean): void {
  const fields = { 'content-type': 'text/plain', [ENDPOINT_HEADER]: endpoint.portText };
  if (respond(stream, 400, fields, Buffer.from(reason), head)) countAnswer(endpoint.stats, 400);
}

/** 200, then `count` messages of `bytes` bytes, each stamped as it is written, as flow control allows; then END_STREAM. */
function respondStream(stream: http2.ServerHttp2Stream, count: number, bytes: number, endpoint: Endpoint): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  countAnswer(endpoint.stats, 200);
  const port = endpoint.portText;
  stream.respond({
    [HTTP2_HEADER_STATUS]: 200,
    'content-type': 'application/octet-stream',
    [ENDPOINT_HEADER]: port,
    [MESSAGE_BYTES_HEADER]: bytes,
  });
  writeMessages(
    count,
    stream,
    () => stream.write(stampedMessage(bytes)),
    () => stream.end(),
    () => stream.destroyed || stream.closed,
  );
}

function ignore(): void {}
