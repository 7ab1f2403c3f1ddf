// The request side of the wire clients: a ConnectionPool (../pool/) of wire H2Connections. The pool keeps the
// least-busy choice, the back-off, the attempts and the deadline list; this file brings the wire's exchange and
// connection classes and records outcomes as clients/h2.ts records them. A protocol (plain HTTP/2, gRPC) only
// brings its constant header block and body and its judgement of a finished response.
// What a run turns on (tracing, a rapid-reset attack, server streaming) picks the exchange and connection
// classes once, here, so the per-request path of a run without them is unchanged.
import { rstClass } from '../errors.js';
import { ConnectionPool } from '../pool/pool.js';
import { RAMP_CALLS } from '../statistic/ramp.js';
import type { Recorder, RequestTimes } from '../statistic/recorder.js';
import type { LoadOptions } from '../types.js';
// The same default windows as the node:http2 client, so the two announce alike.
import { DEFAULT_CONN_WINDOW, DEFAULT_STREAM_WINDOW } from '../options.js';
import { H2Connection, type ConnectionOptions, type ConnectionOwner, type WireConnection } from './connection.js';
import { AttackExchange, Exchange, withEndpoint, type ExchangeClass, type ExchangePool, type Slot, type WireRequestSpec } from './exchange.js';
import { H2LibraryConnection, H2LibraryRapidReset } from './h2-connection.js';
import { RapidResetConnection } from './rapid-reset.js';
import { DEFAULT_MAX_FRAME_SIZE } from '../../../h2/frames.js';

export { Exchange, type ExchangeClass, type Slot, type WireRequestSpec } from './exchange.js';

type ConnectionClass = new (options: ConnectionOptions, owner: ConnectionOwner) => WireConnection;

export class WirePool extends ConnectionPool<WireConnection, Exchange> implements ConnectionOwner, ExchangePool {
  private readonly exchangeClass: ExchangeClass;

  constructor(
    options: LoadOptions,
    recorder: Recorder,
    private readonly spec: WireRequestSpec,
  ) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:') throw new RangeError(`the wire clients speak h2c only (http://), not ${url.protocol}`);
    if (spec.headerBlock.length > DEFAULT_MAX_FRAME_SIZE) throw new RangeError('request headers larger than one HEADERS frame');
    const connOptions: ConnectionOptions = {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port) || 80,
      streamWindow: options.h2StreamWindow ?? DEFAULT_STREAM_WINDOW,
      connWindow: options.h2ConnWindow ?? DEFAULT_CONN_WINDOW,
      receiver: options.receiver ?? 'eager',
      stallStreams: options.stallStreams ?? 0,
      readBodies: spec.streaming !== undefined,
    };
    // Chosen once: a unary run's exchanges never look at their bodies, nor (untraced) at x-sluice-endpoint.
    const attack = options.attack === 'rapid-reset';
    // The h2/ library's connection (h2-connection.ts, the proxy's engine) unless connection.ts is asked for; the
    // attacker on either.
    const onH2 = (options.wireConnection ?? 'h2') === 'h2';
    const connectionClass: ConnectionClass = attack ? (onH2 ? H2LibraryRapidReset : RapidResetConnection) : onH2 ? H2LibraryConnection : H2Connection;
    super(recorder, options.connections, options.timeoutMs, { open: (owner) => new connectionClass(connOptions, owner) });
    const base = attack ? AttackExchange : (spec.streaming?.exchange ?? Exchange);
    this.exchangeClass = options.trace !== undefined && !attack ? withEndpoint(base) : base;
  }

  protected newRequest(slot: Slot, times: RequestTimes, deadline: number): Exchange {
    return new this.exchangeClass(this, slot, times, deadline, this.spec);
  }

  /** Counted only from the window's opening (the session's first connections come before any window). */
  protected override connectionReady(): void {
    this.recorder.connectionOpened();
  }

  override onClose(conn: WireConnection): void {
    if (conn.closedByPeer) this.recorder.connectionClosedByPeer();
    super.onClose(conn);
  }

  finished(exchange: Exchange): void {
    if (exchange.settled) return;
    const errorClass = this.spec.judge(exchange);
    if (errorClass !== undefined) return this.fail(exchange, errorClass);
    const end = exchange.conn!.now;
    this.answered(exchange, end, exchange.endpoint);
    if (exchange.call < RAMP_CALLS) this.recorder.rampCall(exchange.call, exchange.times, exchange.headersAt || end, end);
  }

  /** A streamed message arrived on `exchange`, `latencyMs` after the backend stamped it. */
  streamMessage(exchange: Exchange, latencyMs: number): void {
    this.recorder.streamMessage(exchange.times, latencyMs);
  }

  /** The stream of `exchange` stalled: it will never read its response. */
  stalled(exchange: Exchange): void {
    this.recorder.stalledStream(exchange.times);
  }

  /** attack 'rapid-reset': the exchange's HEADERS and RST_STREAM(CANCEL) are written; it is done, answered or not. */
  attackSent(exchange: Exchange): void {
    if (exchange.settled) return;
    this.settle(exchange);
    this.recorder.attackStream(exchange.times);
    exchange.resolve();
  }

  resetByPeer(exchange: Exchange, code: number): void {
    // A stalled stream's reset is what the target did about a reader that never reads: kept even after its deadline.
    if (exchange.stalled) this.recorder.stalledReset(code, exchange.times);
    if (exchange.settled) return;
    this.recorder.rstReceived(code, exchange.times);
    this.fail(exchange, rstClass(code));
  }
}
