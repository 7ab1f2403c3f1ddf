// HTTP/1.1 client for one endpoint: requests over the endpoint's keep-alive pool (h1-pool.ts), bodies streamed
// both ways. A bodiless request of an idempotent method that finds its reused connection already closed is
// reissued once on a new connection (--h1-reissue; off, it fails as any connection reset does).
import http from 'node:http';
import type { Socket } from 'node:net';
import { formatAddress, type Address } from '../address.js';
import { CancelledError, upstreamError, type ProxyError } from '../errors.js';
import { endToEnd, forH1 } from '../headers.js';
import type { ProxyMetrics } from '../metrics.js';
import type { Headers, ProxyRequest, ProxyResponse } from '../service.js';
import { watchConnect } from './connect-timeout.js';
import { H1Pool } from './h1-pool.js';

export interface H1ClientConfig {
  /** --h1-pool-idle-timeout, ms (0: never). */
  poolIdleTimeoutMs: number;
  metrics: ProxyMetrics;
  /** --connect-timeout, ms; 0: the OS's own limit. */
  connectTimeoutMs?: number;
  /** --h1-reuse-guard (default true). */
  reuseGuard?: boolean;
  /** --h1-reissue (default true). */
  reissue?: boolean;
}

// RFC 9110 9.2.2: repeating these has the effect of sending them once.
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE']);

/** A reused connection failed before any response byte, and the request may be sent again. */
class ReuseRace extends Error {
  constructor(readonly original: unknown) {
    super('reused connection closed before the response');
  }
}

export class H1Client {
  private readonly pool: H1Pool;
  private readonly onConnectTimeout = (): void => this.config.metrics.timeout('connect');

  constructor(
    private readonly address: Address,
    private readonly config: H1ClientConfig,
  ) {
    // Keep-alive so a benchmark measures requests, not TCP handshakes; no connection cap, like the h2 side's
    // streams, so the proxy never queues in front of an endpoint behind the client's back.
    this.pool = new H1Pool(address, {
      idleTimeoutMs: config.poolIdleTimeoutMs,
      metrics: config.metrics,
      reuseGuard: config.reuseGuard ?? true,
    });
  }

  async request(req: ProxyRequest): Promise<ProxyResponse> {
    try {
      return await this.attempt(req, this.pool.agent);
    } catch (err) {
      if (!(err instanceof ReuseRace)) throw err;
      if (this.config.reissue === false) throw upstreamError(err.original); // as if there were no guard
      // The upstream closed an idle keep-alive connection as this request went out (it cannot have seen it):
      // once more on a new connection, as Envoy's and hyper's pools do. Only bodiless idempotent requests, so
      // nothing is consumed and nothing can happen twice.
      if (req.signal.aborted) throw new CancelledError();
      this.config.metrics.upstream.h1Reissued.inc();
      return this.attempt(req, this.pool.freshAgent);
    }
  }

  private attempt(req: ProxyRequest, agent: http.Agent): Promise<ProxyResponse> {
    return new Promise((resolve, reject) => {
      const headers: Headers = { ...forH1(req.headers), host: req.authority || formatAddress(this.address) };
      // Closing this endpoint: say so, so the upstream does not keep the connection for a next request.
      if (this.pool.isClosed) headers.connection = 'close';
      const outgoing = http.request({
        host: this.address.host,
        port: this.address.port,
        method: req.method,
        path: req.path,
        headers,
        agent,
        setHost: false,
      });
      const onAbort = (): void => {
        outgoing.destroy(new CancelledError());
      };
      req.signal.addEventListener('abort', onAbort, { once: true });
      const failure = (err: unknown): ProxyError =>
        req.signal.aborted || err instanceof CancelledError ? new CancelledError() : upstreamError(err);

      const mayReissue = req.endStream && IDEMPOTENT.has(req.method.toUpperCase());
      let socket: Socket | undefined;
      let bytesBefore = 0;
      let responded = false;
      outgoing.once('socket', (s) => {
        socket = s;
        bytesBefore = s.bytesRead;
        watchConnect(s, this.config.connectTimeoutMs ?? 0, this.onConnectTimeout); // no-op on a reused socket
      });
      outgoing.on('error', (err) => {
        req.signal.removeEventListener('abort', onAbort);
        const code = (err as NodeJS.ErrnoException).code ?? '';
        const raced =
          mayReissue && outgoing.reusedSocket && !responded && !req.signal.aborted &&
          RESET_CODES.has(code) && socket !== undefined && socket.bytesRead === bytesBefore;
        reject(raced ? new ReuseRace(err) : failure(err));
      });
      outgoing.on('response', (incoming) => {
        responded = true;
        const sock = incoming.socket;
        // Node honours `Connection: close` (it closes after this response); count that close as the peer's.
        if (sock && !outgoing.shouldKeepAlive) this.pool.closing(sock, 'peer');
        const hint = /\btimeout=(\d+)/.exec(String(incoming.headers['keep-alive'] ?? ''));
        if (sock && hint) this.pool.upstreamIdleTimeout(sock, Number(hint[1]) * 1000);
        let settle!: { resolve: (t: Headers | undefined) => void; reject: (e: unknown) => void };
        const trailers = new Promise<Headers | undefined>((res, rej) => (settle = { resolve: res, reject: rej }));
        trailers.catch(() => {}); // observed by whoever reads the response; never an unhandled rejection
        incoming.on('error', () => {}); // the outcome is read at 'close' below
        incoming.on('end', () => {
          // The response is complete but the request body is not (the upstream answered early, e.g. 413): the
          // connection cannot carry another request before that body ends, so close it, as Envoy does.
          if (!outgoing.writableFinished && sock) {
            this.pool.closing(sock, 'early-response');
            req.body.unpipe(outgoing);
            outgoing.destroy();
          }
        });
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

  /** Open connections, busy or idle. */
  openSockets(): number {
    const { idle, active } = this.pool.counts();
    return idle + active;
  }

  close(force = false): void {
    this.pool.close(force);
  }
}

function nonEmpty(headers: Headers): Headers | undefined {
  return Object.keys(headers).length > 0 ? headers : undefined;
}
