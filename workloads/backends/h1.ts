// HTTP/1.1 endpoints: one node:http server per port, keep-alive on, behind the endpoint's gate (gate.ts).
// A request on an endpoint with faults goes through h1-faults.ts; every other one straight to answer().
import http from 'node:http';
import type { Socket } from 'node:net';
import type { BackendConfig } from './config.js';
import { Delays } from './delays.js';
import { createEndpoints, type Endpoint } from './endpoint.js';
import { countAnswer } from './fault-stats.js';
import { socketOptionsOf } from './gate.js';
import { closeWhenIdle, serveFaulty } from './h1-faults.js';
import { ENDPOINT_HEADER, Payloads, RESPONSE_BYTES_HEADER, requestedBytes } from './payload.js';
import { serveEndpoints } from './serve-endpoints.js';
import type { RunningBackends, StartOptions } from './types.js';

/** Longer than any proxy idle timeout we sweep, so the backend is never the side that closes an idle connection. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export async function start(config: BackendConfig, options: StartOptions = {}): Promise<RunningBackends> {
  const random = options.random ?? Math.random;
  const payloads = new Payloads(config.responseBytes);
  const delays = new Delays();
  const endpoints = createEndpoints(config);

  /** The healthy answer: read the whole body, wait one latency sample, 200 with the asked size. */
  const answer = (endpoint: Endpoint, req: http.IncomingMessage, res: http.ServerResponse): void => {
    const bytes = requestedBytes(req.headers[RESPONSE_BYTES_HEADER], config.responseBytes);
    req.resume();
    req.on('end', () => {
      if (typeof bytes === 'string') {
        countAnswer(endpoint.stats, 400);
        res.writeHead(400, { 'content-type': 'text/plain', [ENDPOINT_HEADER]: endpoint.portText }).end(bytes);
        return;
      }
      delays.run(endpoint.sample(), () => {
        if (res.destroyed || res.writableEnded) return;
        countAnswer(endpoint.stats, 200);
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': bytes,
          [ENDPOINT_HEADER]: endpoint.portText,
        });
        res.end(payloads.get(bytes));
      });
    });
  };

  const servers = endpoints.map((endpoint) => {
    const server = http.createServer({ keepAlive: true });
    // --idle-close: Node's keep-alive timer is off (0 also drops its `Keep-Alive: timeout=` hint); ours closes.
    server.keepAliveTimeout = endpoint.idleCloseMs === null ? KEEP_ALIVE_TIMEOUT_MS : 0;
    server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
    const kit = { endpoint, delays, random, answer: (req: http.IncomingMessage, res: http.ServerResponse) => answer(endpoint, req, res) };
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse, expectsContinue: boolean): void => {
      req.on('error', ignore);
      res.on('error', ignore);
      endpoint.stats.requests.total++;
      if (endpoint.requestFaults) serveFaulty(req, res, kit, expectsContinue);
      else answer(endpoint, req, res);
    };
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => onRequest(req, res, false));
    // An early answer must not have invited the body with `100 Continue` first (Node sends it unless told).
    if (endpoint.earlyStatus !== null) server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => onRequest(req, res, true));
    if (endpoint.idleCloseMs !== null) closeWhenIdle(server, endpoint, endpoint.idleCloseMs);
    server.on('clientError', (_err: Error, socket: Socket) => socket.destroy());
    // node:http tracks its connections (closeIdleConnections, headersTimeout checks) from its 'listening'
    // event; the gate does the listening, so the server is told it is on.
    server.emit('listening');
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
          for (const server of servers) server.close(); // also ends idle keep-alive connections
        },
        () => {
          delays.cancelAll();
          for (const server of servers) server.closeAllConnections();
        },
      ),
  };
}

function ignore(): void {}
