// HTTP/2 endpoints (h2c, prior knowledge): one node:http2 server per port, stream API. A request with
// x-sluice-stream-messages is answered with a stream of stamped messages (stream.ts).
import http2 from 'node:http2';
import type { BackendConfig } from './config.js';
import { Delays } from './delays.js';
import { createLatencySampler } from './latency.js';
import { listenAll } from './listen.js';
import { ENDPOINT_HEADER, MESSAGE_BYTES_HEADER, Payloads, RESPONSE_BYTES_HEADER, STREAM_MESSAGES_HEADER, requestedBytes, requestedMessages } from './payload.js';
import { STAMP_BYTES, stampedMessage, writeMessages } from './stream.js';
import { CLOSE_GRACE_MS, type RunningBackends } from './types.js';

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

export async function start(config: BackendConfig): Promise<RunningBackends> {
  const sample = createLatencySampler(config.latency);
  const payloads = new Payloads(config.responseBytes);
  const delays = new Delays();
  const sessions = new Set<http2.ServerHttp2Session>();

  const endpoints = Array.from({ length: config.endpoints }, () => {
    const endpoint = { port: '0', server: http2.createServer(h2ServerOptions(config)) };
    endpoint.server.on('session', (session: http2.ServerHttp2Session) => {
      sessions.add(session);
      session.on('close', () => sessions.delete(session));
      session.on('error', ignore);
      widenConnectionWindow(session, config.connWindow);
    });
    endpoint.server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
      stream.on('error', ignore);
      const bytes = requestedBytes(headers[RESPONSE_BYTES_HEADER], config.responseBytes);
      const head = headers[HTTP2_HEADER_METHOD] === 'HEAD';
      // A HEAD request gets the headers of a single response, never a stream.
      const messages = head ? undefined : requestedMessages(headers[STREAM_MESSAGES_HEADER]);
      stream.resume();
      stream.on('end', () => {
        if (typeof bytes === 'string') return refuse(stream, endpoint.port, bytes, head);
        if (typeof messages === 'string') return refuse(stream, endpoint.port, messages, head);
        if (messages !== undefined) {
          if (bytes < STAMP_BYTES) {
            return refuse(stream, endpoint.port, `${RESPONSE_BYTES_HEADER}: ${bytes} is under ${STAMP_BYTES}, the stamp each streamed message starts with\n`, head);
          }
          delays.run(sample(), () => respondStream(stream, messages, bytes, endpoint.port));
          return;
        }
        delays.run(sample(), () => {
          const fields = {
            'content-type': 'application/octet-stream',
            'content-length': bytes,
            [ENDPOINT_HEADER]: endpoint.port,
          };
          respond(stream, 200, fields, payloads.get(bytes), head);
        });
      });
    });
    return endpoint;
  });

  const servers = endpoints.map((e) => e.server);
  const ports = await listenAll(servers, config.host, config.basePort);
  endpoints.forEach((e, i) => (e.port = String(ports[i])));

  let closing: Promise<void> | undefined;
  return {
    ports,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        let open = servers.length;
        const force = setTimeout(() => {
          delays.cancelAll();
          for (const session of sessions) session.destroy();
        }, CLOSE_GRACE_MS);
        for (const server of servers) {
          server.close(() => {
            if (--open === 0) {
              clearTimeout(force);
              delays.cancelAll();
              resolve();
            }
          });
        }
        // GOAWAY: no new streams, in-flight ones may finish within the grace period.
        for (const session of sessions) session.close();
      })),
  };
}

function respond(
  stream: http2.ServerHttp2Stream,
  status: number,
  fields: http2.OutgoingHttpHeaders,
  body: Buffer,
  head: boolean,
): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  const endStream = head || body.length === 0;
  stream.respond({ [HTTP2_HEADER_STATUS]: status, ...fields }, { endStream });
  if (!endStream) stream.end(body);
}

/** 400 with the reason as text. */
function refuse(stream: http2.ServerHttp2Stream, port: string, reason: string, head: boolean): void {
  respond(stream, 400, { 'content-type': 'text/plain', [ENDPOINT_HEADER]: port }, Buffer.from(reason), head);
}

/** 200, then `count` messages of `bytes` bytes, each stamped as it is written, as flow control allows; then END_STREAM. */
function respondStream(stream: http2.ServerHttp2Stream, count: number, bytes: number, port: string): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
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
