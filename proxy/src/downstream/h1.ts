// HTTP/1.1 downstream: turns each request into a ProxyRequest and writes the ProxyResponse back. An upstream
// failure before the headers became a 502 in the rescue layer; one after the headers can only be signalled
// by destroying the socket (the client sees a truncated body, not a complete one).
import http from 'node:http';
import type { Socket } from 'node:net';
import { ProxyError } from '../errors.js';
import { endToEnd, forH1 } from '../headers.js';
import { ERROR_HEADER } from '../layers/rescue.js';
import type { ProxyResponse, Service } from '../service.js';
import { Cancellation } from '../cancel.js';

export class H1Downstream {
  readonly server: http.Server;
  private readonly inFlight = new Map<Socket, number>();
  private draining = false;

  constructor(private readonly service: Service) {
    // requestTimeout 0: a proxy must not cut a long upload; timeouts will be a layer of their own.
    this.server = http.createServer({ requestTimeout: 0 }, (req, res) => this.handle(req, res));
  }

  /** Stops keep-alive: idle connections close now, busy ones after their current response. */
  drain(): void {
    this.draining = true;
    for (const [socket, n] of this.inFlight) if (n === 0) socket.destroy();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const socket = req.socket;
    this.track(socket, +1);
    const controller = new Cancellation();
    let complete = false;
    res.on('close', () => {
      this.track(socket, -1);
      if (!complete) controller.abort();
      if (this.draining && this.inFlight.get(socket) === 0) socket.destroy();
    });
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    this.service({
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
      (response) => this.respond(res, response, () => (complete = true)),
      (err: unknown) => {
        complete = true;
        if (res.headersSent || res.destroyed) return void res.destroy();
        const reason = err instanceof ProxyError ? err.reason : 'internal';
        res.writeHead(502, { [ERROR_HEADER]: reason }).end();
      },
    );
  }

  private respond(res: http.ServerResponse, response: ProxyResponse, markComplete: () => void): void {
    const { body, trailers } = response;
    if (res.destroyed) return void body.destroy();
    try {
      const headers = forH1(response.headers);
      if (this.draining) headers.connection = 'close';
      res.writeHead(response.status, headers);
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

  private track(socket: Socket, delta: number): void {
    if (socket.destroyed) return void this.inFlight.delete(socket);
    if (!this.inFlight.has(socket)) socket.once('close', () => this.inFlight.delete(socket));
    this.inFlight.set(socket, (this.inFlight.get(socket) ?? 0) + delta);
  }
}
