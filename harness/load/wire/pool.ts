// The request side of the wire clients: `connections` H2Connections, each request on the least busy one,
// one deadline list for every timeout, outcomes recorded as clients/h2.ts records them. A protocol (plain
// HTTP/2, gRPC) only brings its constant header block and body and its judgement of a finished response.
import { performance } from 'node:perf_hooks';
import { h2Code, rstClass, TIMEOUT } from '../errors.js';
import { RAMP_CALLS } from '../statistic/ramp.js';
import { requestTimes, type Recorder, type RequestTimes } from '../statistic/recorder.js';
import type { LoadOptions } from '../types.js';
import { failed, leastBusy, type RequestClient } from '../clients/client.js';
// The same default windows as the node:http2 client, so the two announce alike.
import { DEFAULT_CONN_WINDOW, DEFAULT_STREAM_WINDOW } from '../options.js';
import { H2Connection, type ConnectionOptions, type ConnectionOwner } from './connection.js';
import { WireStream } from './stream.js';
import { DEFAULT_MAX_FRAME_SIZE } from './frames.js';
import type { StreamingSpec } from './stream-exchange.js';

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

/** What the pool makes of each request: Exchange, or a subclass that reads its body (StreamExchange). */
export type ExchangeClass = new (pool: WirePool, slot: Slot, times: RequestTimes, deadline: number, spec: WireRequestSpec) => Exchange;

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

/** One request: a stream, its response so far, and its place in the deadline list. */
export class Exchange extends WireStream {
  status = 0;
  contentLength = -1;
  bytes = 0;
  grpcStatus = -1;
  settled = false;
  attempts = 1;
  /** The ramp's calls (the connection's first RAMP_CALLS): when the response's HEADERS arrived (0: not yet). */
  headersAt = 0;
  prev: Exchange | undefined = undefined;
  next: Exchange | undefined = undefined;
  resolve: () => void = noop;
  reject: (err: Error) => void = noop;

  constructor(
    protected readonly pool: WirePool,
    readonly slot: Slot,
    readonly times: RequestTimes,
    readonly deadline: number,
    spec: WireRequestSpec,
  ) {
    super(spec.headerBlock, spec.body);
  }

  onHeader(name: string, value: string): void {
    if (name === ':status') this.status = Number(value);
    else if (name === 'content-length') this.contentLength = Number(value);
    else if (name === 'grpc-status') this.grpcStatus = Number(value);
  }

  onHeadersEnd(endStream: boolean): void {
    // An informational (1xx) answer is followed by the real one.
    if (!endStream && this.status >= 100 && this.status < 200) this.status = 0;
    else if (endStream) this.pool.finished(this);
    else if (this.call < RAMP_CALLS) this.headersAt = this.conn!.now;
  }

  onData(bytes: number, endStream: boolean): void {
    this.bytes += bytes;
    this.pool.recorder.bodyBytes(bytes, this.conn!.now);
    if (endStream) this.pool.finished(this);
  }

  onReset(code: number): void {
    this.pool.resetByPeer(this, code);
  }

  onAbort(errorClass: string): void {
    this.pool.aborted(this, errorClass);
  }
}

function noop(): void {}

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
    // Chosen once: a unary run's exchanges never look at their bodies.
    this.exchangeClass = spec.streaming?.exchange ?? Exchange;
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
    this.recorder.success(exchange.times, end);
    if (exchange.call < RAMP_CALLS) this.recorder.rampCall(exchange.call, exchange.times, exchange.headersAt || end, end);
    exchange.resolve();
  }

  /** A streamed message arrived on `exchange`, `latencyMs` after the backend stamped it. */
  streamMessage(exchange: Exchange, latencyMs: number): void {
    this.recorder.streamMessage(exchange.times, latencyMs);
  }

  resetByPeer(exchange: Exchange, code: number): void {
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
    const conn = new H2Connection(this.connOptions, this);
    this.conns.set(conn, slot);
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
    for (const conn of conns) conn.destroy('other:closed');
    await Promise.all(conns.map((conn) => conn.whenClosed));
    // Anything left (nothing should be) is settled so no caller waits forever.
    while (this.head) this.fail(this.head, 'other:closed');
  }
}
