// HTTP/1.1 over undici (Node's own HTTP client library): `connections` keep-alive connections, one request in
// flight on each (pipelining 1), for the closed and the open loop alike. Each request goes to the least busy
// connection (ties round robin); a request finding every connection busy waits in one's queue, on the target's
// account. Connections are opened by connect() (a connector hands undici the sockets opened in advance), so the
// measured window carries none of their set-up. undici's low-level dispatch API is used: one handler object
// and one timer per request, no streams, no AbortController.
// autocannon (clients/h1-autocannon.ts) is the cross-check (`client: 'lib'`): faster per request, but it
// cannot send on a schedule, drain a window, or keep its connections across repetitions.
import net, { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { Client, type buildConnector, type Dispatcher } from 'undici';
import { classifyError, statusClass, TIMEOUT, TRUNCATED } from '../errors.js';
import { ENDPOINT_HEADER, payloadHeaders } from '../payload.js';
import { requestTimes, type Recorder, type RequestTimes } from '../statistic/recorder.js';
import type { LoadOptions } from '../types.js';
import { failed, type RequestClient } from './client.js';
import { leastBusy } from '../pool/least-busy.js';

interface Connection {
  client: Client;
  /** Requests assigned and not settled. */
  active: number;
  /** A socket opened by connect(), handed to undici at its first connect. */
  ready: Socket | undefined;
}

type Connector = buildConnector.connector;

const connectionActive = (c: Connection): number => c.active;

export function createH1Client(options: LoadOptions, recorder: Recorder): RequestClient {
  return new H1Client(options, recorder);
}

/** One request: undici's dispatch handler, settled once by whichever comes first. */
class Exchange implements Dispatcher.DispatchHandler {
  private status = 0;
  private abortRequest: ((err: Error) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private done = false;
  /** The answer's x-sluice-endpoint: set by TracedExchange only (declared, so no other exchange carries it). */
  protected declare endpoint?: string;

  constructor(
    private readonly owner: H1Client,
    private readonly connection: Connection,
    readonly times: RequestTimes,
    private readonly resolve: () => void,
    private readonly reject: (err: Error) => void,
  ) {}

  arm(timeoutMs: number): void {
    this.timer = setTimeout(() => this.timeout(), Math.max(0, this.times.intended + timeoutMs - performance.now()));
  }

  onConnect(abort: (err: Error) => void): void {
    this.abortRequest = abort;
  }

  onHeaders(statusCode: number, _headers: Buffer[]): boolean {
    this.status = statusCode;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.owner.recorder.bodyBytes(chunk.length, performance.now());
    return true;
  }

  onComplete(): void {
    const errorStatus = statusClass(this.status);
    this.settle(errorStatus);
  }

  onError(err: Error): void {
    const code = (err as { code?: string }).code;
    // A response cut short: by a content-length the body did not reach, or the connection closing mid-body.
    if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || (this.status > 0 && code === 'UND_ERR_SOCKET')) return this.settle(TRUNCATED);
    // undici reports "other side closed" for a connection the target closed before answering.
    if (code === 'UND_ERR_SOCKET') return this.settle('ECONNRESET');
    if (code === 'UND_ERR_DESTROYED' || code === 'UND_ERR_CLOSED' || code === 'UND_ERR_ABORTED') return this.settle('other:closed');
    this.settle(classifyError(err));
  }

  /** Ends it from our side (the client closes): a no-op once settled. */
  cancel(errorClass: string): void {
    if (this.done) return;
    this.settle(errorClass);
    this.abortRequest?.(new Error(errorClass));
  }

  private timeout(): void {
    if (this.done) return;
    this.settle(TIMEOUT);
    // Destroys the connection, as a timed-out HTTP/1.1 request cannot be cancelled otherwise; undici reconnects.
    this.abortRequest?.(new Error(TIMEOUT));
  }

  private settle(errorClass: string | undefined): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.connection.active--;
    this.owner.settled(this);
    if (errorClass === undefined) {
      this.owner.recorder.success(this.times, performance.now(), this.endpoint);
      this.resolve();
    } else {
      this.reject(failed(this.owner.recorder, errorClass, this.times));
    }
  }
}

/** Tracing (LoadOptions.trace): an Exchange that also reads x-sluice-endpoint from undici's raw headers. */
class TracedExchange extends Exchange {
  override onHeaders(statusCode: number, headers: Buffer[]): boolean {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i]!;
      if (name.length === ENDPOINT_HEADER.length && name.toString('latin1').toLowerCase() === ENDPOINT_HEADER) {
        this.endpoint = headers[i + 1]!.toString('latin1');
        break;
      }
    }
    return super.onHeaders(statusCode, headers);
  }
}

class H1Client implements RequestClient {
  readonly kind = 'request' as const;
  private readonly url: URL;
  private readonly connections: Connection[];
  private readonly inFlight = new Set<Exchange>();
  private readonly dispatchOptions: Dispatcher.DispatchOptions;
  private cursor = 0;
  private closed = false;
  /** Chosen once: only a traced run reads the answers' headers. */
  private readonly exchangeClass: typeof Exchange;

  constructor(
    private readonly options: LoadOptions,
    readonly recorder: Recorder,
  ) {
    this.url = new URL(options.url);
    this.exchangeClass = options.trace !== undefined ? TracedExchange : Exchange;
    const body = options.bodyBytes > 0 ? Buffer.alloc(options.bodyBytes, 0x78) : null;
    this.dispatchOptions = {
      path: `${this.url.pathname}${this.url.search}`,
      method: options.method as Dispatcher.HttpMethod,
      body,
      headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...Object.fromEntries(payloadHeaders(options)) },
    };
    this.connections = Array.from({ length: options.connections }, () => {
      const connection: Connection = { client: undefined as unknown as Client, active: 0, ready: undefined };
      connection.client = new Client(this.url.origin, {
        pipelining: 1,
        // Our own timer (from the intended send) bounds a request; undici's would run from its own send.
        headersTimeout: 0,
        bodyTimeout: 0,
        connect: this.connector(connection),
      });
      // A failed connect is recorded by the requests that waited on it; nothing else listens.
      connection.client.on('connectionError', () => undefined);
      return connection;
    });
  }

  /** Opens every connection's socket now; undici takes it at its first request. */
  async connect(): Promise<number> {
    const ready = await Promise.all(
      this.connections.map(async (connection) => {
        if (connection.ready) return true;
        try {
          connection.ready = await this.openSocket();
          return true;
        } catch {
          // Left to the requests: they will fail as the target refuses them.
          return false;
        }
      }),
    );
    return ready.filter(Boolean).length;
  }

  startRequest(intendedStart?: number): Promise<void> {
    const times = requestTimes(intendedStart, performance.now());
    if (this.closed) return Promise.reject(failed(this.recorder, 'other:closed', times));
    const connection = leastBusy(this.connections, connectionActive, this.cursor++);
    connection.active++;
    return new Promise<void>((resolve, reject) => {
      const exchange = new this.exchangeClass(this, connection, times, resolve, reject);
      this.inFlight.add(exchange);
      exchange.arm(this.options.timeoutMs);
      try {
        connection.client.dispatch(this.dispatchOptions, exchange);
      } catch (err) {
        exchange.onError(err as Error);
      }
    });
  }

  settled(exchange: Exchange): void {
    this.inFlight.delete(exchange);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const exchange of [...this.inFlight]) exchange.cancel('other:closed');
    await Promise.all(
      this.connections.map(async (connection) => {
        connection.ready?.destroy();
        connection.ready = undefined;
        await connection.client.destroy().catch(() => undefined);
      }),
    );
  }

  /** undici's connector for one connection: the socket opened in advance first, a fresh one after that. */
  private connector(connection: Connection): Connector {
    return (_options, callback) => {
      const ready = connection.ready;
      connection.ready = undefined;
      // Handed over on the next tick: undici does not expect its connector to answer synchronously (it would
      // miss resuming its queue, and the first request would wait forever).
      if (ready && !ready.destroyed) return process.nextTick(callback, null, ready);
      this.openSocket().then(
        (socket) => callback(null, socket),
        (err: Error) => callback(err, null),
      );
    };
  }

  private openSocket(): Promise<Socket> {
    const host = this.url.hostname.replace(/^\[|\]$/g, '');
    return new Promise((resolve, reject) => {
      const socket =
        this.url.protocol === 'https:'
          ? tls.connect({ host, port: Number(this.url.port) || 443, ALPNProtocols: ['http/1.1'], ...(net.isIP(host) ? {} : { servername: host }) })
          : net.connect({ host, port: Number(this.url.port) || 80 });
      socket.setNoDelay(true);
      const ready = this.url.protocol === 'https:' ? 'secureConnect' : 'connect';
      socket.once(ready, () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }
}
