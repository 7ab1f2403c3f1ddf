// One endpoint as the balancer sees it: pending (not connected yet), ready (connected or answering) or failed
// (its connect or a request failed at the transport level). A failed endpoint is not forgotten: it is probed
// again after an exponential backoff (linkerd's connect backoff: 100 ms doubling to 500 ms) and is ready again
// once a probe or a request succeeds. It also counts its in-flight requests and keeps its PeakEWMA RTT.
import net from 'node:net';
import type { Address } from '../address.js';
import { UpstreamError, type UpstreamFailure } from '../errors.js';
import { callService, type ProxyRequest, type ProxyResponse, type Service } from '../service.js';
import { PeakEwma, peakEwmaCost } from './peak-ewma.js';

export type EndpointStatus = 'pending' | 'ready' | 'failed';
export const ENDPOINT_STATUSES: readonly EndpointStatus[] = ['pending', 'ready', 'failed'];

/** Failures of the connection, not of one request: they make the endpoint failed. */
const TRANSPORT_FAILURES: ReadonlySet<UpstreamFailure> = new Set([
  'connect-refused',
  'connect-timeout',
  'connection-reset',
  'connection-closed',
  'dns',
]);

export function isTransportFailure(err: unknown): boolean {
  return err instanceof UpstreamError && TRANSPORT_FAILURES.has(err.reason);
}

export interface Backoff {
  minMs: number;
  maxMs: number;
}
export const DEFAULT_BACKOFF: Backoff = { minMs: 100, maxMs: 500 };

/** Runs `fn` after `ms`; returns a cancel function. Injected by tests to drive backoff without waiting. */
export type Schedule = (fn: () => void, ms: number) => () => void;

export const realSchedule: Schedule = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return () => clearTimeout(timer);
};

export interface EndpointStateOptions {
  /** HOST:PORT, the endpoint's label in metrics. */
  name: string;
  service: Service;
  /** Resolves when the endpoint accepts a connection; run at start and after each backoff. */
  probe: () => Promise<void>;
  decayMs: number;
  defaultRttMs: number;
  backoff?: Backoff;
  /** ms; performance.now by default. */
  clock?: () => number;
  schedule?: Schedule;
  /** Called after every change of status. */
  onStatus?: (endpoint: EndpointState) => void;
}

export class EndpointState {
  readonly name: string;
  status: EndpointStatus = 'pending';
  inFlight = 0;
  readonly rtt: PeakEwma;
  /** Settles once the first probe has finished, whatever its outcome. */
  readonly probed: Promise<void>;
  private failures = 0;
  private cancelRetry: (() => void) | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly options: EndpointStateOptions;
  private readonly clock: () => number;
  private readonly schedule: Schedule;
  private readonly backoff: Backoff;

  constructor(options: EndpointStateOptions) {
    this.options = options;
    this.name = options.name;
    this.clock = options.clock ?? (() => performance.now());
    this.schedule = options.schedule ?? realSchedule;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.rtt = new PeakEwma({ decayMs: options.decayMs, defaultRttMs: options.defaultRttMs, now: this.clock() });
    this.probed = this.probe();
  }

  /** PeakEWMA cost now: the decayed RTT estimate times (in-flight + 1). */
  cost(): number {
    return peakEwmaCost(this.rtt.estimate(this.clock()), this.inFlight);
  }

  /**
   * Sends one request: counts it in flight until its response completes, and samples the RTT at the headers.
   * A request that fails (or is cancelled: a client's timeout) is a sample too when it waited longer than the
   * estimate, as tower's PeakEwma records a request whenever its handle is dropped: an endpoint that stopped
   * answering (seed 002's partial partition) would otherwise keep the low estimate of its last answers and
   * draw a new request each time its stuck ones were cancelled. A fast failure never lowers the estimate: a
   * quickly failing endpoint must not look attractive.
   */
  call(req: ProxyRequest): Promise<ProxyResponse> {
    this.inFlight++;
    const started = this.clock();
    // A plain chain rather than async/await: one promise less per request on the hot path.
    return callService(this.options.service, req).then(
      (res) => {
        const now = this.clock();
        this.rtt.observe(now - started, now);
        this.succeed();
        res.trailers.then(this.onFinished, this.onFinished);
        return res;
      },
      (err: unknown) => {
        const now = this.clock();
        if (now - started > this.rtt.peek()) this.rtt.observe(now - started, now);
        this.finished();
        if (isTransportFailure(err)) this.fail();
        throw err;
      },
    );
  }

  private readonly onFinished = (): void => this.finished();

  /** Resolves once no request is in flight (at once if none is): a removed endpoint closes only then. */
  whenIdle(): Promise<void> {
    if (this.inFlight <= 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops probing (the proxy is stopping, or discovery removed the endpoint). */
  close(): void {
    this.closed = true;
    this.cancelRetry?.();
    this.cancelRetry = undefined;
  }

  private finished(): void {
    this.inFlight--;
    if (this.inFlight > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** The delay before the next probe after `failures` failures in a row: min doubling to max. */
  backoffMs(failures: number): number {
    return Math.min(this.backoff.maxMs, this.backoff.minMs * 2 ** Math.max(0, failures - 1));
  }

  private async probe(): Promise<void> {
    try {
      await this.options.probe();
      this.succeed();
    } catch {
      this.fail();
    }
  }

  private succeed(): void {
    if (this.closed) return;
    this.failures = 0;
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    this.setStatus('ready');
  }

  private fail(): void {
    if (this.closed) return;
    this.setStatus('failed');
    if (this.cancelRetry) return; // a probe is already scheduled
    this.failures++;
    this.cancelRetry = this.schedule(() => {
      this.cancelRetry = undefined;
      void this.probe();
    }, this.backoffMs(this.failures));
  }

  private setStatus(status: EndpointStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.options.onStatus?.(this);
  }
}

/** A probe that opens a TCP connection to `address` and closes it again. */
export function tcpProbe(address: Address, timeoutMs = 1000): () => Promise<void> {
  return () =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ host: address.host, port: address.port });
      socket.setTimeout(timeoutMs, () => {
        socket.destroy();
        reject(new UpstreamError('connect-timeout'));
      });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', (err) => {
        socket.destroy();
        reject(err);
      });
    });
}
