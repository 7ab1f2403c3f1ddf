// HTTP/1.1 requests on an endpoint with faults: the verdict of faults.ts acted out on a node:http request,
// and --idle-close (a keep-alive connection idle for D is closed with a plain FIN, the client not warned).
import type http from 'node:http';
import type { Socket } from 'node:net';
import type { Delays } from './delays.js';
import type { Endpoint } from './endpoint.js';
import { countAnswer } from './fault-stats.js';
import { decide, declaredLength } from './faults.js';
import type { Random } from './latency.js';
import { ENDPOINT_HEADER } from './payload.js';

export interface H1Kit {
  endpoint: Endpoint;
  delays: Delays;
  random: Random;
  /** The healthy answer. */
  answer: (req: http.IncomingMessage, res: http.ServerResponse) => void;
}

/** Declared body size: 0 (none), content-length, or undefined (chunked: unknown). */
export function h1BodyBytes(headers: http.IncomingHttpHeaders): number | undefined {
  if (headers['transfer-encoding'] !== undefined) return undefined;
  if (headers['content-length'] === undefined) return 0;
  return declaredLength(headers['content-length']);
}

export function serveFaulty(req: http.IncomingMessage, res: http.ServerResponse, kit: H1Kit, expectsContinue: boolean): void {
  const { endpoint } = kit;
  if (endpoint.idleCloseMs !== null) holdIdleClock(req.socket, res, endpoint.idleCloseMs);
  const verdict = decide(endpoint, h1BodyBytes(req.headers), kit.random);
  if (expectsContinue && verdict !== 'early' && verdict !== 'stall') res.writeContinue();
  switch (verdict) {
    case 'answer':
      return kit.answer(req, res);
    case 'stall':
      // Nothing reads the body: the socket stops reading, the kernel buffers fill and the client's writes back up.
      endpoint.stats.requests.stalled++;
      req.socket.pause();
      return;
    case 'early':
      return answerEarly(req, res, endpoint);
    case 'reset':
      return afterBody(req, kit, () => {
        endpoint.stats.requests.reset++;
        endpoint.stats.connections.reset++;
        req.socket.resetAndDestroy();
      });
    case 'fail':
      return afterBody(req, kit, () => {
        if (res.destroyed || res.writableEnded) return;
        endpoint.stats.requests.failed++;
        countAnswer(endpoint.stats, endpoint.failStatus);
        const body = Buffer.from(`sluice backend: injected failure (--fail-share)\n`);
        res.writeHead(endpoint.failStatus, {
          'content-type': 'text/plain',
          'content-length': body.length,
          [ENDPOINT_HEADER]: endpoint.portText,
        });
        res.end(body);
      });
  }
}

/** Reads (and drops) the body, waits one latency sample, then acts, unless the connection went away meanwhile. */
function afterBody(req: http.IncomingMessage, kit: H1Kit, act: () => void): void {
  req.resume();
  req.on('end', () =>
    kit.delays.run(kit.endpoint.sample(), () => {
      if (!req.socket.destroyed) act();
    }),
  );
}

/**
 * --early-status: answered as soon as the headers are in, the body unread, with `Connection: close`; Node
 * then ends the connection once the response is written (socket.destroySoon()): close(2) with the body
 * still unread makes the kernel send RST, which can destroy the answer at the client (seed 001). With
 * --early-linger the close waits, reading and dropping the body, until the client closes or the time passes
 * (nginx's lingering close): the answer arrives whole.
 */
function answerEarly(req: http.IncomingMessage, res: http.ServerResponse, endpoint: Endpoint): void {
  if (endpoint.earlyLingerMs > 0) lingerOnClose(req, endpoint.earlyLingerMs);
  const status = endpoint.earlyStatus!;
  endpoint.stats.requests.early++;
  countAnswer(endpoint.stats, status);
  const body = Buffer.from(`sluice backend: answered ${status} before reading the body (--early-status)\n`);
  res.writeHead(status, {
    'content-type': 'text/plain',
    'content-length': body.length,
    connection: 'close',
    [ENDPOINT_HEADER]: endpoint.portText,
  });
  res.end(body);
}

/** Replaces Node's close after the response, on this socket only: half-close, drop what still comes, then close. */
function lingerOnClose(req: http.IncomingMessage, ms: number): void {
  const socket = req.socket;
  const closeNow = socket.destroySoon.bind(socket);
  socket.destroySoon = () => {
    if (req.complete || socket.destroyed) return closeNow();
    req.resume();
    socket.end();
    const timer = setTimeout(() => socket.destroy(), ms);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
}

/**
 * --idle-close: a connection idle for `ms` since it was accepted or since its last response is destroyed:
 * a plain FIN, nothing announced before (no `Connection: close`, no `Keep-Alive: timeout=`). A client that
 * writes a request into it as the FIN arrives gets a reset: the race of seeds 001/003.
 */
export function closeWhenIdle(server: http.Server, endpoint: Endpoint, ms: number): void {
  server.on('connection', (socket: Socket) => socket.setTimeout(ms));
  // node:http passes a socket's timeout to the server's 'timeout' listeners (and destroys it when there are none).
  server.on('timeout', (socket: Socket) => {
    endpoint.stats.connections.idleClosed++;
    socket.destroy();
  });
}

/** A connection with a request in progress is not idle: its clock stops, and restarts once the response is written. */
function holdIdleClock(socket: Socket, res: http.ServerResponse, ms: number): void {
  socket.setTimeout(0);
  res.once('finish', () => {
    if (!socket.destroyed) socket.setTimeout(ms);
  });
}
