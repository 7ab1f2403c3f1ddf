// The life of one client connection, whatever its protocol: the idle timer (no request in flight for
// --downstream-idle-timeout), the age limit (--max-connection-duration), and the drain that either starts:
// the protocol adapter drains its way (GOAWAY on h2, `Connection: close` on the next HTTP/1.1 response) and the
// connection is closed regardless once --drain-timeout has passed. It also records why the connection closed.
import type { CloseReason, ProxyMetrics } from '../metrics.js';

export interface ConnLifeConfig {
  /** ms; 0: never. */
  downstreamIdleTimeout: number;
  /** ms; 0: never. */
  maxConnectionDuration: number;
  /** ms a draining connection may keep in-flight requests. */
  drainTimeout: number;
  metrics: ProxyMetrics;
}

export interface ConnHooks {
  /** Stop taking requests and close once the in-flight ones are done. */
  drain(): void;
  /** Close now. */
  close(): void;
}

export class ConnLife {
  /** Why the connection is closing, once we (or the peer, as far as we can tell) decided it. */
  reason: CloseReason | undefined;
  draining = false;
  private inFlight = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly ageTimer: NodeJS.Timeout | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    private readonly config: ConnLifeConfig,
    private readonly hooks: ConnHooks,
  ) {
    if (config.maxConnectionDuration > 0) {
      this.ageTimer = setTimeout(() => this.drain('max-duration'), config.maxConnectionDuration);
      this.ageTimer.unref();
    }
    this.armIdle();
  }

  get active(): number {
    return this.inFlight;
  }

  /** Per request: no timer work here; an idle timer firing while requests are in flight does nothing. */
  started(): void {
    this.inFlight++;
  }

  finished(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (this.inFlight === 0 && !this.draining) this.armIdle();
  }

  /** Records `reason` unless one is set already (the first decision is the cause). */
  closing(reason: CloseReason): void {
    this.reason ??= reason;
  }

  /** Graceful: the adapter's drain now, a hard close after --drain-timeout. */
  drain(reason: CloseReason): void {
    if (this.draining || this.done) return;
    this.closing(reason);
    this.draining = true;
    clearTimeout(this.idleTimer);
    this.drainTimer = setTimeout(() => this.hooks.close(), this.config.drainTimeout);
    this.drainTimer.unref();
    this.hooks.drain();
  }

  /** The connection closed: count it once with its reason (`fallback` when nobody decided). */
  closed(fallback: CloseReason): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.ageTimer);
    clearTimeout(this.drainTimer);
    this.config.metrics.connectionClosed('downstream', this.reason ?? fallback);
  }

  /** Restarts the one idle timer (refresh(): no new timer per request once the connection goes idle). */
  private armIdle(): void {
    if (this.config.downstreamIdleTimeout <= 0 || this.done) return;
    if (this.idleTimer) return void this.idleTimer.refresh();
    this.idleTimer = setTimeout(() => {
      if (this.inFlight > 0 || this.draining) return;
      this.drain('idle');
    }, this.config.downstreamIdleTimeout);
    this.idleTimer.unref();
  }
}
