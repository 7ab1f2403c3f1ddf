// HTTP/1.1 endpoints: one node:http server per port, keep-alive on.
import http from 'node:http';
import type { Socket } from 'node:net';
import type { BackendConfig } from './config.js';
import { Delays } from './delays.js';
import { createLatencySampler } from './latency.js';
import { listenAll } from './listen.js';
import { ENDPOINT_HEADER, Payloads, RESPONSE_BYTES_HEADER, requestedBytes } from './payload.js';
import { CLOSE_GRACE_MS, type RunningBackends } from './types.js';

/** Longer than any proxy idle timeout we sweep, so the backend is never the side that closes an idle connection. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export async function start(config: BackendConfig): Promise<RunningBackends> {
  const sample = createLatencySampler(config.latency);
  const payloads = new Payloads(config.responseBytes);
  const delays = new Delays();

  const endpoints = Array.from({ length: config.endpoints }, () => {
    const endpoint = { port: '0', server: http.createServer({ keepAlive: true }) };
    endpoint.server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    endpoint.server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
    endpoint.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      req.on('error', ignore);
      res.on('error', ignore);
      const bytes = requestedBytes(req.headers[RESPONSE_BYTES_HEADER], config.responseBytes);
      req.resume();
      req.on('end', () => {
        if (typeof bytes === 'string') {
          res.writeHead(400, { 'content-type': 'text/plain', [ENDPOINT_HEADER]: endpoint.port }).end(bytes);
          return;
        }
        delays.run(sample(), () => {
          if (res.destroyed || res.writableEnded) return;
          res.writeHead(200, {
            'content-type': 'application/octet-stream',
            'content-length': bytes,
            [ENDPOINT_HEADER]: endpoint.port,
          });
          res.end(payloads.get(bytes));
        });
      });
    });
    endpoint.server.on('clientError', (_err: Error, socket: Socket) => socket.destroy());
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
          for (const server of servers) server.closeAllConnections();
        }, CLOSE_GRACE_MS);
        for (const server of servers) {
          server.close(() => {
            if (--open === 0) {
              clearTimeout(force);
              delays.cancelAll();
              resolve();
            }
          });
          server.closeIdleConnections();
        }
      })),
  };
}

function ignore(): void {}
