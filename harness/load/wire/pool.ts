// The request side of the wire clients: `connections` H2Connections, each request on the least busy one,
// one deadline list for every timeout, outcomes recorded as clients/h2.ts records them. A protocol (plain
// HTTP/2, gRPC) only brings its constant header block and body and its judgement of a finished response.
// What a run turns on (tracing, a rapid-reset attack, server streaming) picks the exchange and connection
// classes once, here, so the per-request path of a run without them is unchanged.
import { performance } from 'node:perf_hooks';
import { h2Code, rstClass, TIMEOUT } from '../errors.js';
import { RAMP_CALLS } from '../statistic/ramp.js';
import { requestTimes, type Recorder } from '../statistic/recorder.js';
import type { LoadOptions } from '../types.js';
import { failed, leastBusy, type RequestClient } from '../clients/client.js';
// The same default windows as the node:http2 client, so the two announce alike.
import { DEFAULT_CONN_WINDOW, DEFAULT_STREAM_WINDOW } from '../options.js';
import { H2Connection, type ConnectionOptions, type ConnectionOwner } from './connection.js';
import { AttackExchange, Exchange, withEndpoint, type ExchangeClass } from './exchange.js';
import { RapidResetConnection } from './rapid-reset.js';
import type { WireStream } from './stream.js';
import { DEFAULT_MAX_FRAME_SIZE } from '../../../h2/frames.js';
import type { StreamingSpec } from './stream-exchange.js';

export { Exchange, type ExchangeClass } from './exchange.js';

const CANCEL = h2Code('CANCEL');
// Reconnect back-off after a failed connect, so a dead target is not spun on (as clients/h2.ts does).
const BACKOFF_FIRST_MS = 10;
const BACKOFF_MAX_MS = 1000;
// A request handed back unsent (its connection went away) tries this many connections in all.
const MAX_ATTEMPTS = 3;

export interface WireRequestSpec {
  /** The request's HPACK header block, encoded once (hpack-encode.ts). */
  headerBlock: Buffer;
  body: Buffer | undefined;
  /** A finished response: undefined when it succeeded, else its error class (judge may record more, e.g. a RST sent). */
  judge(exchange: Exchange): string | undefined;
  /** Server streaming: responses are read as messages (stream-exchange.ts). Absent, bodies are only counted. */
  streaming?: StreamingSpec;
}

export interface Slot {
  conn: H2Connection | undefined;
  /** Requests assigned here and not settled. */
  load: number;
  failures: number;
  retryAt: number;
  /** Requests waiting out a connect back-off. */
  waiting: Exchange[];
  timer: NodeJS.Timeout | undefined;
}

type ConnectionClass = new (options: ConnectionOptions, owner: ConnectionOwner) => H2Connection;

export class WirePool implements RequestClient, ConnectionOwner {
  readonly kind = 'request' as const;
  private readonly slots: Slot[];
  private readonly conns = new Map<H2Connection, Slot>();
  private readonly connOptions: ConnectionOptions;
  // The deadline list: requests in start order, so (closed loop, or open loop's ordered schedule) in deadline order.
  private head: Exchange | undefined;
  private tail: Exchange | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private readonly onTimer = (): void => this.expireDue();
  private closing: Promise<void> | undefined;
  private cursor = 0;
  private readonly slotLoad = (slot: Slot): number => slot.load;
  private readonly exchangeClass: ExchangeClass;
  private readonly connectionClass: ConnectionClass;

  constructor(
    private readonly options: LoadOptions,
    readonly recorder: Recorder,
    private readonly spec: WireRequestSpec,
  ) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:') throw new RangeError(`the wire clients speak h2c only (http://), not ${url.protocol}`);
    if (spec.headerBlock.length > DEFAULT_MAX_FRAME_SIZE) throw new RangeError('request headers larger than one HEADERS frame');
    this.connOptions = {
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
    const base = attack ? AttackExchange : (spec.streaming?.exchange ?? Exchange);
    this.exchangeClass = options.trace !== undefined && !attack ? withEndpoint(base) : base;
    this.connectionClass = attack ? RapidResetConnection : H2Connection;
    this.slots = Array.from({ length: options.connections }, () => ({
      conn: undefined,
      load: 0,
      failures: 0,
      retryAt: 0,
      waiting: [],
      timer: undefined,
    }));
  }

  /** Opens every connection; resolves once each has the peer's SETTINGS or has failed. */
  async connect(): Promise<number> {
    const opening: Promise<boolean>[] = [];
    for (const slot of this.slots) {
      if (slot.conn === undefined) slot.conn = this.newConnection(slot);
      opening.push(slot.conn.whenReady);
    }
    return (await Promise.all(opening)).filter(Boolean).length;
  }

  /** Starts one request; its latency runs from `intendedStart` (open loop's schedule) or from now. */
  startRequest(intendedStart?: number): Promise<void> {
    const times = requestTimes(intendedStart, performance.now());
    if (this.closing) return Promise.reject(failed(this.recorder, 'other:closed', times));
    const slot = leastBusy(this.slots, this.slotLoad, this.cursor++);
    slot.load++;
    const exchange = new this.exchangeClass(this, slot, times, times.intended + this.options.timeoutMs, this.spec);
    const promise = new Promise<void>((resolve, reject) => {
      exchange.resolve = resolve;
      exchange.reject = reject;
    });
    this.track(exchange);
    this.dispatch(exchange);
    return promise;
  }

  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  onGoaway(conn: H2Connection, code: number, _lastStreamId: number, cut: number): void {
    this.recorder.goawayReceived(code);
    // Each cut stream also fails on its own as goaway:<CODE> (aborted), so errors and this tally agree.
    this.recorder.goawayStreamsCut(code, cut);
    const slot = this.conns.get(conn);
    if (slot?.conn === conn) slot.conn = undefined;
  }

  onUnsent(stream: WireStream, reason: string): void {
    const exchange = stream as Exchange;
    if (exchange.settled) return;
    exchange.conn = undefined;
    if (this.closing || ++exchange.attempts > MAX_ATTEMPTS) this.fail(exchange, reason);
    else this.dispatch(exchange);
  }

  onClose(conn: H2Connection): void {
    if (conn.closedByPeer) this.recorder.connectionClosedByPeer();
    const slot = this.conns.get(conn);
    this.conns.delete(conn);
    if (!slot) return;
    if (slot.conn === conn) slot.conn = undefined;
    if (conn.wasEstablished) {
      slot.failures = 0;
    } else {
      slot.failures++;
      slot.retryAt = performance.now() + Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (slot.failures - 1));
    }
  }

  finished(exchange: Exchange): void {
    if (exchange.settled) return;
    const errorClass = this.spec.judge(exchange);
    if (errorClass !== undefined) return this.fail(exchange, errorClass);
    this.settle(exchange);
    const end = exchange.conn!.now;
    this.recorder.success(exchange.times, end, exchange.endpoint);
    if (exchange.call < RAMP_CALLS) this.recorder.rampCall(exchange.call, exchange.times, exchange.headersAt || end, end);
    exchange.resolve();
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

  aborted(exchange: Exchange, errorClass: string): void {
    if (!exchange.settled) this.fail(exchange, errorClass);
  }

  private dispatch(exchange: Exchange): void {
    const slot = exchange.slot;
    let conn = slot.conn;
    if (conn === undefined || !conn.acceptsStreams) {
      if (slot.retryAt > performance.now()) {
        slot.waiting.push(exchange);
        slot.timer ??= setTimeout(() => this.retrySlot(slot), slot.retryAt - performance.now());
        return;
      }
      conn = slot.conn = this.newConnection(slot);
    }
    conn.open(exchange);
  }

  private newConnection(slot: Slot): H2Connection {
    const conn = new this.connectionClass(this.connOptions, this);
    this.conns.set(conn, slot);
    // Counted only from the window's opening (the session's first connections come before any window).
    void conn.whenReady.then((ready) => ready && this.recorder.connectionOpened());
    return conn;
  }

  private retrySlot(slot: Slot): void {
    slot.timer = undefined;
    const waiting = slot.waiting;
    slot.waiting = [];
    for (const exchange of waiting) if (!exchange.settled) this.dispatch(exchange);
  }

  private fail(exchange: Exchange, errorClass: string): void {
    this.settle(exchange);
    exchange.reject(failed(this.recorder, errorClass, exchange.times));
  }

  private settle(exchange: Exchange): void {
    exchange.settled = true;
    exchange.slot.load--;
    this.untrack(exchange);
  }

  private track(exchange: Exchange): void {
    exchange.prev = this.tail;
    if (this.tail) this.tail.next = exchange;
    else this.head = exchange;
    this.tail = exchange;
    if (exchange.deadline < this.timerAt) this.armTimer();
  }

  private untrack(exchange: Exchange): void {
    const { prev, next } = exchange;
    if (prev) prev.next = next;
    else if (this.head === exchange) this.head = next;
    else return; // not in the list
    if (next) next.prev = prev;
    else this.tail = prev;
    exchange.prev = exchange.next = undefined;
  }

  private armTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    if (!this.head || this.closing) return;
    this.timerAt = this.head.deadline;
    this.timer = setTimeout(this.onTimer, Math.max(0, this.timerAt - performance.now()));
  }

  /** Times out every request past its deadline: RST_STREAM(CANCEL) if it was sent, `timeout` either way. */
  private expireDue(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = performance.now();
    while (this.head && this.head.deadline <= now) {
      const exchange = this.head;
      if (exchange.stalled) {
        // A stalled stream is the seed 000 watch nobody reads: it stays on its connection, holding its window
        // until the client closes, but it is no request outcome: its caller is let go, nothing is recorded.
        this.settle(exchange);
        exchange.resolve();
        continue;
      }
      const sentRst = exchange.conn?.cancel(exchange, CANCEL) ?? false;
      if (sentRst) this.recorder.rstSent(CANCEL, exchange.times);
      this.fail(exchange, TIMEOUT);
    }
    this.armTimer();
  }

  private async shutdown(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const slot of this.slots) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = undefined;
      for (const exchange of slot.waiting.splice(0)) if (!exchange.settled) this.fail(exchange, 'other:closed');
    }
    const conns = [...this.conns.keys()];
    for (const conn of conns) conn.close('other:closed');
    await Promise.all(conns.map((conn) => conn.whenClosed));
    // Anything left (nothing should be) is settled so no caller waits forever.
    while (this.head) this.fail(this.head, 'other:closed');
  }
}
