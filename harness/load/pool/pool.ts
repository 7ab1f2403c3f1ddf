// The request side every pooled HTTP/2 client shares (issue 15 step 2), in undici's shape: the pool is given a
// connection factory and keeps `connections` slots, each holding at most one live connection. Here, once: the
// least busy slot for each request, the reconnect back-off after a failed connect, the attempts of a request
// handed back unsent, the GOAWAY bookkeeping, and every timeout in one deadline list (one timer per pool, not
// one per request: the wire client's hot path). A connection only starts, cancels and reports its requests.
import { performance } from 'node:perf_hooks';
import { h2Code, TIMEOUT } from '../errors.js';
import { requestTimes, type Recorder, type RequestTimes } from '../statistic/recorder.js';
import { failed, type RequestClient } from '../clients/client.js';
import { leastBusy } from './least-busy.js';

const CANCEL = h2Code('CANCEL');
/** Reconnect back-off after a failed connect, so a dead target is not spun on by a closed loop. */
export const BACKOFF_FIRST_MS = 10;
export const BACKOFF_MAX_MS = 1000;
/** A request handed back unsent (its connection went away first) tries this many connections in all. */
export const MAX_ATTEMPTS = 3;

/** The back-off before the next connect after `failures` failed ones in a row (10 ms, doubling, at most 1 s). */
export function backoffMs(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (failures - 1));
}

/** One of the pool's `connections` places: its live connection (if any), its load and its connect back-off. */
export interface Slot<C, R> {
  conn: C | undefined;
  /** Requests assigned here and not settled. */
  load: number;
  /** Failed connects in a row, and when the next may start. */
  failures: number;
  retryAt: number;
  /** Requests waiting out a connect back-off. */
  waiting: R[];
  timer: NodeJS.Timeout | undefined;
}

/** A connection as the pool sees it (undici's Client to its Pool). */
export interface PoolConnection<R> {
  /** Resolves true once requests may go out (the peer's SETTINGS came), false if it closed first. */
  readonly whenReady: Promise<boolean>;
  readonly whenClosed: Promise<void>;
  /** New requests may be given to it: not closing, no GOAWAY, stream ids left. */
  readonly acceptsStreams: boolean;
  /** It connected at some point; one that never did is a failed connect, which backs the slot off. */
  readonly wasEstablished: boolean;
  /** Starts the request now, or once the connection is ready and the peer's stream limit allows. */
  open(request: R): void;
  /** Ends a request from our side (its deadline passed); true when a RST_STREAM(code) went out for it. */
  cancel(request: R, code: number): boolean;
  /** Closes at the session's end: every request left is aborted with `errorClass`. */
  close(errorClass: string): void;
}

/** What a connection tells the pool that opened it. Methods, so an owner of a subtype of R is one too. */
export interface PoolOwner<C, R> {
  /** A GOAWAY arrived; `cut` requests were in flight above its last id (each fails on its own right after). */
  onGoaway(conn: C, code: number, lastStreamId: number, cut: number): void;
  /** A request that never went out (its connection went away first), for another connection. */
  onUnsent(request: R, reason: string): void;
  /** The connection closed; each of its requests has been aborted or handed back. */
  onClose(conn: C): void;
  /** A request it carried succeeded, ending at `end` (performance.now() of the read that ended it). */
  answered(request: R, end: number, endpoint: string | undefined): void;
  /** A request it carried ended without an answer (reset, cut, closed): it fails as `errorClass`. */
  aborted(request: R, errorClass: string): void;
}

/** Opens a connection that reports to `owner` (undici's `factory(origin, opts)`; the origin is the factory's). */
export interface ConnectionFactory<C, R> {
  open(owner: PoolOwner<C, R>): C;
}

/** A request as the pool tracks it: its slot, its deadline-list links and its promise's settlers. */
export interface PoolRequest<C, R> {
  readonly slot: Slot<C, R>;
  readonly times: RequestTimes;
  readonly deadline: number;
  /** The connection it was given to (undefined while waiting out a back-off). */
  conn: C | undefined;
  settled: boolean;
  attempts: number;
  /** A stalled stream (wire only): exempt from the timeout, let go at its deadline without an outcome. */
  readonly stalled: boolean;
  prev: R | undefined;
  next: R | undefined;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** The pool's bookkeeping of a request, for a request class with no other parent (node:http2's, grpc-js's; the
 *  wire Exchange is a WireStream and declares the same fields itself). */
export abstract class PooledRequest<C, R> implements PoolRequest<C, R> {
  conn: C | undefined = undefined;
  settled = false;
  attempts = 1;
  readonly stalled: boolean = false;
  prev: R | undefined = undefined;
  next: R | undefined = undefined;
  resolve: () => void = noop;
  reject: (err: Error) => void = noop;

  constructor(
    readonly slot: Slot<C, R>,
    readonly times: RequestTimes,
    readonly deadline: number,
  ) {}
}

function noop(): void {}

export abstract class ConnectionPool<C extends PoolConnection<R>, R extends PoolRequest<C, R>> implements RequestClient, PoolOwner<C, R> {
  readonly kind = 'request' as const;
  protected readonly slots: Slot<C, R>[];
  private readonly conns = new Map<C, Slot<C, R>>();
  // The deadline list: requests in start order, so (closed loop, or open loop's ordered schedule) in deadline order.
  private head: R | undefined;
  private tail: R | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private readonly onTimer = (): void => this.expireDue();
  protected closing: Promise<void> | undefined;
  private cursor = 0;
  private readonly slotLoad = (slot: Slot<C, R>): number => slot.load;

  constructor(
    readonly recorder: Recorder,
    connections: number,
    private readonly timeoutMs: number,
    private readonly factory: ConnectionFactory<C, R>,
  ) {
    this.slots = Array.from({ length: connections }, () => ({ conn: undefined, load: 0, failures: 0, retryAt: 0, waiting: [], timer: undefined }));
  }

  /** A new request on `slot`, timed by `times`, to settle by `deadline` (the subclass's request class). */
  protected abstract newRequest(slot: Slot<C, R>, times: RequestTimes, deadline: number): R;

  /** A connection of the pool became ready (the wire clients count reconnections). */
  protected connectionReady(_conn: C): void {}

  /**
   * Opens every connection; resolves, with how many are ready, once each is or has failed, or at timeoutMs at
   * the latest (a peer that accepts the connection and never answers is left to the requests to record).
   */
  async connect(): Promise<number> {
    let ready = 0;
    const opening: Promise<void>[] = [];
    for (const slot of this.slots) {
      if (slot.conn === undefined) slot.conn = this.newConnection(slot);
      opening.push(slot.conn.whenReady.then((isReady) => void (isReady && ready++)));
    }
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.timeoutMs)));
    await Promise.race([Promise.all(opening), bound]);
    clearTimeout(timer);
    return ready;
  }

  /** Starts one request; its latency and deadline run from `intendedStart` (open loop's schedule) or from now. */
  startRequest(intendedStart?: number): Promise<void> {
    return new Promise<void>((resolve, reject) => this.startRequestWith(resolve, reject, intendedStart));
  }

  /**
   * startRequest without its promise: `resolve` or `reject` is called as the promise would be settled, at most
   * once, possibly before this returns (the pool is closing). The closed loop passes the same two functions for
   * every request of a loop, so a request allocates no promise and no closure.
   */
  startRequestWith(resolve: () => void, reject: (err: Error) => void, intendedStart?: number): void {
    const times = requestTimes(intendedStart, performance.now());
    if (this.closing) return reject(failed(this.recorder, 'other:closed', times));
    const slot = leastBusy(this.slots, this.slotLoad, this.cursor++);
    slot.load++;
    const request = this.newRequest(slot, times, times.intended + this.timeoutMs);
    request.resolve = resolve;
    request.reject = reject;
    this.track(request);
    this.dispatch(request);
  }

  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  onGoaway(conn: C, code: number, _lastStreamId: number, cut: number): void {
    this.recorder.goawayReceived(code);
    // Each cut request also fails on its own as goaway:<CODE>, so errors and this tally agree.
    this.recorder.goawayStreamsCut(code, cut);
    // Draining: new requests go to a new connection; this one closes once its streams are done.
    const slot = this.conns.get(conn);
    if (slot?.conn === conn) slot.conn = undefined;
  }

  onUnsent(request: R, reason: string): void {
    if (request.settled) return;
    request.conn = undefined;
    if (this.closing || ++request.attempts > MAX_ATTEMPTS) this.fail(request, reason);
    else this.dispatch(request);
  }

  onClose(conn: C): void {
    const slot = this.conns.get(conn);
    this.conns.delete(conn);
    if (!slot) return;
    if (slot.conn === conn) slot.conn = undefined;
    if (conn.wasEstablished) {
      slot.failures = 0;
    } else {
      slot.failures++;
      slot.retryAt = performance.now() + backoffMs(slot.failures);
    }
  }

  aborted(request: R, errorClass: string): void {
    if (!request.settled) this.fail(request, errorClass);
  }

  answered(request: R, end: number, endpoint: string | undefined): void {
    if (request.settled) return;
    this.settle(request);
    this.recorder.success(request.times, end, endpoint);
    request.resolve();
  }

  protected fail(request: R, errorClass: string): void {
    this.settle(request);
    request.reject(failed(this.recorder, errorClass, request.times));
  }

  /** Settles without an outcome recorded here (the caller records one, or none: a stalled stream, an attack). */
  protected settle(request: R): void {
    request.settled = true;
    request.slot.load--;
    this.untrack(request);
  }

  private dispatch(request: R): void {
    const slot = request.slot;
    let conn = slot.conn;
    if (conn === undefined || !conn.acceptsStreams) {
      if (slot.retryAt > performance.now()) {
        slot.waiting.push(request);
        slot.timer ??= setTimeout(() => this.retrySlot(slot), slot.retryAt - performance.now());
        return;
      }
      conn = slot.conn = this.newConnection(slot);
    }
    conn.open(request);
  }

  private newConnection(slot: Slot<C, R>): C {
    const conn = this.factory.open(this);
    this.conns.set(conn, slot);
    void conn.whenReady.then((ready) => ready && this.connectionReady(conn));
    return conn;
  }

  private retrySlot(slot: Slot<C, R>): void {
    slot.timer = undefined;
    const waiting = slot.waiting;
    slot.waiting = [];
    for (const request of waiting) if (!request.settled) this.dispatch(request);
  }

  private track(request: R): void {
    request.prev = this.tail;
    if (this.tail) this.tail.next = request;
    else this.head = request;
    this.tail = request;
    if (request.deadline < this.timerAt) this.armTimer();
  }

  private untrack(request: R): void {
    const { prev, next } = request;
    if (prev) prev.next = next;
    else if (this.head === request) this.head = next;
    else return; // not in the list
    if (next) next.prev = prev;
    else this.tail = prev;
    request.prev = request.next = undefined;
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
      const request = this.head;
      if (request.stalled) {
        // A stalled stream is the seed 000 watch nobody reads: it stays on its connection, holding its window
        // until the client closes, but it is no request outcome: its caller is let go, nothing is recorded.
        this.settle(request);
        request.resolve();
        continue;
      }
      const sentRst = request.conn?.cancel(request, CANCEL) ?? false;
      if (sentRst) this.recorder.rstSent(CANCEL, request.times);
      this.fail(request, TIMEOUT);
    }
    this.armTimer();
  }

  private async shutdown(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const slot of this.slots) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = undefined;
      for (const request of slot.waiting.splice(0)) if (!request.settled) this.fail(request, 'other:closed');
    }
    const conns = [...this.conns.keys()];
    for (const conn of conns) conn.close('other:closed');
    await Promise.all(conns.map((conn) => conn.whenClosed));
    // Anything left (nothing should be) is settled so no caller waits forever.
    while (this.head) this.fail(this.head, 'other:closed');
  }
}
