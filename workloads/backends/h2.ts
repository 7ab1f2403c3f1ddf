// HTTP/2 endpoints (h2c, prior knowledge): one node:http2 server per port, stream API.
import http2 from 'node:http2';
import type { BackendConfig } from './config.js';
import { Delays } from './delays.js';
import { createLatencySampler } from './latency.js';
import { listenAll } from './listen.js';
import { ENDPOINT_HEADER, Payloads, RESPONSE_BYTES_HEADER, requestedBytes } from './payload.js';
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
      stream.resume();
      stream.on('end', () => {
        if (typeof bytes === 'string') {
          respond(stream, 400, { 'content-type': 'text/plain', [ENDPOINT_HEADER]: endpoint.port }, Buffer.from(bytes), head);
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

function ignore(): void {}
