// HTTP/1.1 downstream: turns each request into a ProxyRequest and writes the ProxyResponse back. An upstream
// failure before the headers became a 502 in the rescue layer; one after the headers can only be signalled
// by destroying the socket (the client sees a truncated body, not a complete one).
//
// Connection life (conn-life.ts): idle connections close after --downstream-idle-timeout; a draining one
// (max duration, stop) answers its current request with `Connection: close` and closes after it. A response
// sent before the request body was read (413, an early upstream 4xx) also carries `Connection: close`, and the
// close after it is delayed: half-close, keep reading until the client closes or --delayed-close passes.
// Closing at once would reset the connection over the unread body, and a client still sending would see
// ECONNRESET instead of the response (Envoy #2929, seed 001).
import http from 'node:http';
import type { Socket } from 'node:net';
import { ProxyError } from '../errors.js';
import { endToEnd, forH1 } from '../headers.js';
import { ERROR_HEADER } from '../layers/rescue.js';
import type { Headers, ProxyResponse, Service } from '../service.js';
import { Cancellation } from '../cancel.js';
import { ConnLife, type ConnLifeConfig } from './conn-life.js';

export interface H1DownstreamConfig extends ConnLifeConfig {
  service: Service;
  /** ms; 0: close at once after an early response. */
  delayedClose: number;
}

export class H1Downstream {
  readonly server: http.Server;
  private readonly conns = new Map<Socket, ConnLife>();

  constructor(private readonly config: H1DownstreamConfig) {
    this.server = http.createServer(
      {
        // requestTimeout 0: a proxy must not cut a long upload; timeouts will be a layer of their own.
        requestTimeout: 0,
        // Only for the `Keep-Alive: timeout=N` hint that lets clients close first; Node's own timer would fire
        // 1 s after ours, so ours (conn-life.ts) decides.
        keepAliveTimeout: Math.ceil(config.downstreamIdleTimeout),
      },
      (req, res) => this.handle(req, res),
    );
    this.server.on('connection', (socket: Socket) => this.accept(socket));
  }

  /** Stops keep-alive: idle connections close now, busy ones after their current response. */
  drain(): void {
    for (const life of this.conns.values()) life.drain('drain');
  }

  private accept(socket: Socket): void {
    const life = new ConnLife(this.config, {
      drain: () => {
        if (life.active === 0) socket.destroySoon();
      },
      close: () => socket.destroy(),
    });
    this.conns.set(socket, life);
    socket.once('end', () => life.closing('peer'));
    socket.once('close', (hadError) => {
      this.conns.delete(socket);
      life.closed(hadError ? 'error' : 'peer');
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const socket = req.socket;
    const life = this.conns.get(socket);
    if (!life || socket.writableEnded) {
      // A request after our Connection: close (a pipelining client): nobody will read an answer.
      req.resume();
      return;
    }
    life.started();
    if (!res.shouldKeepAlive) life.closing('peer'); // the client sent Connection: close (or spoke HTTP/1.0)
    const controller = new Cancellation();
    let complete = false;
    res.on('close', () => {
      life.finished();
      if (!complete) {
        life.closing('error');
        controller.abort();
      }
      if (life.draining && life.active === 0) socket.destroySoon();
    });
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    this.config.service({
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      authority: req.headers.host ?? '',
      scheme: 'http',
      headers: endToEnd(req.headers),
      body: req,
      endStream: !hasBody,
      downstreamProtocol: 'h1',
      signal: controller.signal,
    }).then(
      (response) => this.respond(req, res, life, response, () => (complete = true)),
      (err: unknown) => {
        complete = true;
        if (res.headersSent || res.destroyed) return void res.destroy();
        const reason = err instanceof ProxyError ? err.reason : 'internal';
        this.writeHead(req, res, life, 502, { [ERROR_HEADER]: reason });
        res.end();
      },
    );
  }

  private respond(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    life: ConnLife,
    response: ProxyResponse,
    markComplete: () => void,
  ): void {
    const { body, trailers } = response;
    if (res.destroyed) return void body.destroy();
    try {
      this.writeHead(req, res, life, response.status, forH1(response.headers));
    } catch {
      body.destroy();
      return void res.destroy(); // a header Node will not write (invalid characters): nothing sane to send
    }
    trailers.catch(() => res.destroy());
    body.pipe(res, { end: false });
    body.once('end', () => {
      trailers.then((t) => {
        if (t) res.addTrailers(forH1(t)); // sent only with chunked encoding, as HTTP/1.1 allows
        markComplete();
        res.end();
      }, () => {});
    });
  }

  /** Writes the status line and headers, with `Connection: close` when this is the connection's last response. */
  private writeHead(req: http.IncomingMessage, res: http.ServerResponse, life: ConnLife, status: number, headers: Headers): void {
    // Before the request body was read, the next request's start is unknown: close after this response, as Envoy does.
    const early = !req.complete;
    if (life.draining || early) headers = { ...headers, connection: 'close' };
    res.writeHead(status, headers);
    if (early) this.delayCloseOf(req, life);
  }

  /** Node closes after a `Connection: close` response with socket.destroySoon(): FIN, then close(2) with the
   *  unread body still queued, which makes the kernel send RST. Replace that close, on this socket only. */
  private delayCloseOf(req: http.IncomingMessage, life: ConnLife): void {
    const socket = req.socket;
    const closeNow = socket.destroySoon.bind(socket);
    let delaying = false;
    socket.destroySoon = () => {
      // Fully read by now (Envoy skips the delay then too), or delayed close turned off.
      if (req.complete || this.config.delayedClose <= 0 || socket.destroyed) return closeNow();
      if (delaying) return;
      delaying = true;
      life.closing('early-response');
      this.config.metrics.delayedCloses.inc();
      // Keep reading (and dropping) the body, so the kernel never holds unread bytes when the socket closes.
      req.unpipe();
      req.resume();
      socket.end(); // half-close: FIN once the response is flushed
      const timer = setTimeout(() => socket.destroy(), this.config.delayedClose);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
    };
  }
}
