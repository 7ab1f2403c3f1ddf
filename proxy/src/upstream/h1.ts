// HTTP/1.1 client for one endpoint: requests over a keep-alive agent, bodies streamed both ways.
import http from 'node:http';
import { formatAddress, type Address } from '../address.js';
import { CancelledError, upstreamError, type ProxyError } from '../errors.js';
import { endToEnd, forH1 } from '../headers.js';
import type { Headers, ProxyRequest, ProxyResponse } from '../service.js';
import { watchConnect } from './connect-timeout.js';

export interface H1ClientOptions {
  /** --idle-evict, ms. */
  idleMs: number;
  /** ms; 0: the OS's own limit. */
  connectTimeoutMs?: number;
  onConnectTimeout?: () => void;
}

export class H1Client {
  // Keep-alive so a benchmark measures requests, not TCP handshakes; no socket cap, like the h2 side's
  // streams, so the proxy never queues in front of an endpoint behind the client's back.
  private readonly agent: http.Agent;

  /** `options.idleMs` (--idle-evict): a keep-alive socket without a request for this long is closed (the
   *  agent's timeout destroys only free sockets; a slow response on a busy one is not cut). */
  constructor(
    private readonly address: Address,
    private readonly options: H1ClientOptions,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, noDelay: true, timeout: options.idleMs });
  }

  /** Open sockets, busy or idle. */
  openSockets(): number {
    let n = 0;
    for (const list of [...Object.values(this.agent.sockets), ...Object.values(this.agent.freeSockets)]) n += list?.length ?? 0;
    return n;
  }

  request(req: ProxyRequest): Promise<ProxyResponse> {
    return new Promise((resolve, reject) => {
      const outgoing = http.request({
        host: this.address.host,
        port: this.address.port,
        method: req.method,
        path: req.path,
        headers: { ...forH1(req.headers), host: req.authority || formatAddress(this.address) },
        agent: this.agent,
        setHost: false,
      });
      const { connectTimeoutMs = 0, onConnectTimeout = () => {} } = this.options;
      outgoing.once('socket', (socket) => watchConnect(socket, connectTimeoutMs, onConnectTimeout));
      const onAbort = (): void => {
        outgoing.destroy(new CancelledError());
      };
      req.signal.addEventListener('abort', onAbort, { once: true });
      const failure = (err: unknown): ProxyError =>
        req.signal.aborted || err instanceof CancelledError ? new CancelledError() : upstreamError(err);

      outgoing.on('error', (err) => {
        req.signal.removeEventListener('abort', onAbort);
        reject(failure(err));
      });
      outgoing.on('response', (incoming) => {
        let settle!: { resolve: (t: Headers | undefined) => void; reject: (e: unknown) => void };
        const trailers = new Promise<Headers | undefined>((res, rej) => (settle = { resolve: res, reject: rej }));
        trailers.catch(() => {}); // observed by whoever reads the response; never an unhandled rejection
        incoming.on('error', () => {}); // the outcome is read at 'close' below
        incoming.on('close', () => {
          req.signal.removeEventListener('abort', onAbort);
          if (incoming.complete) settle.resolve(nonEmpty(endToEnd(incoming.trailers)));
          else settle.reject(failure(incoming.errored ?? Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
        });
        resolve({
          status: incoming.statusCode ?? 502,
          headers: endToEnd(incoming.headers),
          body: incoming,
          trailers,
          endStream: false,
        });
      });
      if (req.signal.aborted) onAbort();
      else if (req.endStream) outgoing.end();
      else req.body.pipe(outgoing);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function nonEmpty(headers: Headers): Headers | undefined {
  return Object.keys(headers).length > 0 ? headers : undefined;
}
