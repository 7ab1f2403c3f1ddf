// One direction of one relayed connection, on real sockets: what `src` sends enters the model (link-model.ts)
// and is written to `dst` when the model says it is delivered. A FIN and a reset travel the same queue behind
// the data, so they arrive when a real network would bring them. Backpressure both ways: the model pauses
// `src` while the queue is over its limit, and nothing more is written while `dst` asks for a drain.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { DirectionTotals } from './link-stats.js';
import { DirectionModel, type Bottleneck, type LinkSettings, type ReadDecision } from './link-model.js';
import { Alarm, type Wakes } from './wake.js';

/** What travels: data, the sender's FIN, or its reset. */
export type Item = Buffer | 'fin' | 'reset';

/** A segment is at most a millisecond's worth at the bandwidth (delivery granularity about a timer's)... */
const SEGMENT_MS = 1;
/** ...but not smaller than this: each segment costs a wake-up and a write (~60 µs of CPU here). */
const MIN_SEGMENT_BYTES = 4096;

/** Deliveries at least this far apart are polled for (costing at most ~0.3 ms of CPU per this much time). */
const POLL_SPACING_MS = 5;

export interface DirectionDeps {
  settings: LinkSettings;
  wakes: Wakes;
  totals: DirectionTotals;
  random?: () => number;
  /** The route's bottleneck in this direction, shared by its connections. */
  bottleneck?: Bottleneck;
}

export class RelayDirection {
  private readonly model: DirectionModel<Item>;
  private readonly alarm: Alarm;
  private readonly totals: DirectionTotals;
  private readonly segmentBytes: number;
  /** `dst` asked for a drain: deliveries wait for it. */
  private blocked = false;
  /** Chunks due before this were held by the receiver's backpressure, so their lateness is not the link's. */
  private heldUntilMs = -Infinity;
  /** Aborted, or the reset is delivered: nothing more goes to `dst`. */
  private done = false;
  private readonly onDrain = (): void => {
    this.blocked = false;
    this.heldUntilMs = performance.now();
    this.deliver();
  };

  constructor(
    deps: DirectionDeps,
    private readonly src: Socket,
    private readonly dst: Socket,
  ) {
    this.model = new DirectionModel<Item>(deps.settings, deps.random, deps.bottleneck);
    this.alarm = new Alarm(deps.wakes, () => this.deliver());
    this.totals = deps.totals;
    const { bandwidthBps } = deps.settings;
    this.segmentBytes = bandwidthBps > 0 ? Math.max(MIN_SEGMENT_BYTES, Math.floor((bandwidthBps / 8 / 1000) * SEGMENT_MS)) : Infinity;
  }

  data(chunk: Buffer): void {
    if (this.done) return;
    const now = performance.now();
    // Sliced (no copy), so a slow link delivers a large read bit by bit as a wire would, not all at its end.
    for (let at = 0; at < chunk.length; at += this.segmentBytes) {
      const segment = this.segmentBytes >= chunk.length ? chunk : chunk.subarray(at, at + this.segmentBytes);
      this.arrive(segment, segment.length, now);
    }
    this.schedule();
  }

  /** The sender half-closed (its FIN). */
  fin(): void {
    if (this.done) return;
    this.arrive('fin', 0, performance.now());
    this.schedule();
  }

  /** The sender's side was reset (or never connected): `dst` is reset once the link brings it. `atMs` lets a
   *  refused connect answer a round trip after the accept, as a SYN's reset would. */
  reset(atMs = performance.now()): void {
    if (this.done) return;
    this.arrive('reset', 0, Math.max(atMs, performance.now()));
    this.schedule();
  }

  /** The receiving side is gone: drop what is queued. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    const now = performance.now();
    if (this.model.isPaused) this.totals.paused(-1, now);
    this.totals.queued(-this.model.queuedBytes, 0);
    this.model.clear(now);
    this.alarm.cancel();
    this.dst.off('drain', this.onDrain);
  }

  private arrive(item: Item, bytes: number, now: number): void {
    const { read } = this.model.arrive(item, bytes, now);
    this.totals.queued(bytes, this.model.queuedBytes);
    this.apply(read, now);
  }

  private apply(read: ReadDecision, now: number): void {
    if (read === 'pause') {
      this.src.pause();
      this.totals.paused(1, now);
    } else if (read === 'resume') {
      this.src.resume();
      this.totals.paused(-1, now);
    }
  }

  private schedule(): void {
    if (this.done || this.blocked) return;
    const next = this.model.nextDeliveryMs();
    if (next === undefined) this.alarm.cancel();
    else if (next <= performance.now()) this.deliver();
    else {
      // A sparse delivery (a request, an answer) is woken to the µs; dense ones (a transfer) at their time,
      // without polling, which would otherwise cost up to POLL_SPACING_MS's share of a core.
      const following = this.model.followingDeliveryMs();
      this.alarm.at(next, following === undefined || following - next >= POLL_SPACING_MS);
    }
  }

  /** Writes everything due (deliver everything due at each wake-up, in one writev), then waits for the next. */
  private deliver(): void {
    if (this.done || this.blocked) return;
    const now = performance.now();
    const dst = this.dst;
    dst.cork();
    for (let next = this.model.peekDue(now); next !== undefined && !this.done; next = this.model.peekDue(now)) {
      const { item, bytes, deliveryMs } = next;
      this.apply(this.model.shift(now), now);
      this.totals.queued(-bytes, this.model.queuedBytes);
      if (item === 'fin') {
        // Not done: a reset may still follow a FIN, as on a wire.
        if (!dst.destroyed) dst.end();
      } else if (item === 'reset') {
        this.done = true;
        if (!dst.destroyed) dst.resetAndDestroy();
      } else {
        this.totals.delivered(bytes, deliveryMs < this.heldUntilMs ? undefined : now - deliveryMs);
        if (!dst.destroyed) dst.write(item);
      }
    }
    dst.uncork();
    if (this.done) {
      this.alarm.cancel();
      return;
    }
    if (dst.writableNeedDrain) {
      this.blocked = true;
      dst.once('drain', this.onDrain);
      return;
    }
    this.schedule();
  }
}
