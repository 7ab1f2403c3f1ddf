// One direction of one emulated connection, as pure arithmetic on an injected clock: a FIFO in which a chunk
// departs once the ones before it have been serialised at the bandwidth, and is delivered one-way delay
// (± jitter, never reordering) later. It also decides when the sending side must pause (the queue is over its
// limit) and resume. No sockets, no timers: relay-direction.ts drives it with performance.now().

/** What a link applies to each direction. */
export interface LinkSettings {
  /** Round trip; each direction adds half of it. */
  rttMs: number;
  /** Each delivery moves by a uniform draw in [-jitter, +jitter] (never before the previous delivery). */
  jitterMs: number;
  /** Bits per second; 0 = unlimited (no serialisation time). */
  bandwidthBps: number;
  /** Above this many bytes arrived and not yet delivered, the sender is paused. */
  queueLimitBytes: number;
}

/** Extra queue room beyond the bandwidth-delay product: one full socket read (Node reads up to 64 KiB). */
export const QUEUE_HEADROOM_BYTES = 64 * 1024;
/**
 * With unlimited bandwidth the queue holds only what is in flight during the one-way delay. A real TCP flow
 * cannot have more in flight than the receiver's largest window: Linux's default tcp_rmem maximum is 6 MiB.
 */
export const UNLIMITED_QUEUE_BYTES = 6 * 1024 * 1024;

/** Default queue limit: bandwidth x rtt + 64 KiB; with unlimited bandwidth, 6 MiB + 64 KiB. */
export function defaultQueueLimit(rttMs: number, bandwidthBps: number): number {
  if (bandwidthBps <= 0) return UNLIMITED_QUEUE_BYTES + QUEUE_HEADROOM_BYTES;
  return Math.ceil((bandwidthBps / 8) * (rttMs / 1000)) + QUEUE_HEADROOM_BYTES;
}

/**
 * The link's bottleneck in one direction of one route: its serialisation clock. Every connection of the route
 * shares it, so N connections share the route's bandwidth as they would share a wire (chunks depart in the
 * order they arrived, whichever connection they belong to); each connection keeps its own delay and order.
 */
export class Bottleneck {
  lastDepartureMs = -Infinity;
}

/** One chunk's life in the model; `item` is whatever the caller delivers (a Buffer, a FIN, a reset). */
export interface Scheduled<T> {
  item: T;
  bytes: number;
  arrivalMs: number;
  /** When its last bit has left the bottleneck. */
  departureMs: number;
  /** When the far side receives it. */
  deliveryMs: number;
}

/** A flow-control decision for the reading side, or nothing to change. */
export type ReadDecision = 'pause' | 'resume' | undefined;

export class DirectionModel<T> {
  private readonly queue: Scheduled<T>[] = [];
  /** Index of the queue's head: shifting an array per chunk is O(n); the array is compacted now and then. */
  private head = 0;
  private lastDeliveryMs = -Infinity;
  private queued = 0;
  private paused = false;
  private pausedSinceMs = 0;
  private pausedTotalMs = 0;
  /** Totals since creation. */
  bytes = 0;
  chunks = 0;
  maxQueuedBytes = 0;
  pauses = 0;

  constructor(
    readonly settings: LinkSettings,
    /** Uniform in [0, 1); injected so tests can fix the jitter. */
    private readonly random: () => number = Math.random,
    /** Shared with the route's other connections; a connection alone by default. */
    private readonly bottleneck: Bottleneck = new Bottleneck(),
  ) {}

  /** Bytes arrived and not yet delivered (waiting to depart, or in flight). */
  get queuedBytes(): number {
    return this.queued;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Chunks not yet taken by takeDue (delivered). */
  get length(): number {
    return this.queue.length - this.head;
  }

  /** Time the reading side has spent paused, up to `nowMs` if it still is. */
  pausedMs(nowMs: number): number {
    return this.pausedTotalMs + (this.paused ? nowMs - this.pausedSinceMs : 0);
  }

  /**
   * A chunk of `bytes` (0 for a FIN or a reset, which queue behind the data like any segment) arrived at
   * `nowMs`. Returns its schedule and 'pause' when this arrival put the queue over its limit.
   */
  arrive(item: T, bytes: number, nowMs: number): { scheduled: Scheduled<T>; read: ReadDecision } {
    const { rttMs, jitterMs, bandwidthBps } = this.settings;
    const serialiseMs = bandwidthBps > 0 ? (bytes * 8 * 1000) / bandwidthBps : 0;
    const departureMs = Math.max(nowMs, this.bottleneck.lastDepartureMs) + serialiseMs;
    const jitter = jitterMs > 0 ? (this.random() * 2 - 1) * jitterMs : 0;
    // Jitter never makes a chunk overtake the previous one, nor arrive before it left.
    const deliveryMs = Math.max(departureMs + Math.max(0, rttMs / 2 + jitter), this.lastDeliveryMs);
    this.bottleneck.lastDepartureMs = departureMs;
    this.lastDeliveryMs = deliveryMs;
    const scheduled: Scheduled<T> = { item, bytes, arrivalMs: nowMs, departureMs, deliveryMs };
    this.queue.push(scheduled);
    this.queued += bytes;
    this.bytes += bytes;
    if (bytes > 0) this.chunks++;
    if (this.queued > this.maxQueuedBytes) this.maxQueuedBytes = this.queued;
    if (!this.paused && this.queued > this.settings.queueLimitBytes) {
      this.paused = true;
      this.pausedSinceMs = nowMs;
      this.pauses++;
      return { scheduled, read: 'pause' };
    }
    return { scheduled, read: undefined };
  }

  /** When the head chunk is due; undefined when the queue is empty. */
  nextDeliveryMs(): number | undefined {
    return this.queue[this.head]?.deliveryMs;
  }

  /** When the chunk after the head is due; undefined when there is none. */
  followingDeliveryMs(): number | undefined {
    return this.queue[this.head + 1]?.deliveryMs;
  }

  /** The head chunk if it is due at `nowMs`, without removing it. */
  peekDue(nowMs: number): Scheduled<T> | undefined {
    const next = this.queue[this.head];
    return next !== undefined && next.deliveryMs <= nowMs ? next : undefined;
  }

  /** Removes the head chunk (delivered at `nowMs`); 'resume' when the queue is back within its limit. */
  shift(nowMs: number): ReadDecision {
    const next = this.queue[this.head];
    if (next === undefined) return undefined;
    this.head++;
    this.queued -= next.bytes;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (this.paused && this.queued <= this.settings.queueLimitBytes) {
      this.paused = false;
      this.pausedTotalMs += nowMs - this.pausedSinceMs;
      return 'resume';
    }
    return undefined;
  }

  /** Every chunk due at `nowMs`, removed; `read` is 'resume' if delivering them let the sender go on. */
  takeDue(nowMs: number): { due: Scheduled<T>[]; read: ReadDecision } {
    const due: Scheduled<T>[] = [];
    let read: ReadDecision;
    for (let next = this.peekDue(nowMs); next !== undefined; next = this.peekDue(nowMs)) {
      due.push(next);
      read = this.shift(nowMs) ?? read;
    }
    return { due, read };
  }

  /** Drops everything queued (the far side is gone); ends a pause. */
  clear(nowMs: number): void {
    this.queue.length = 0;
    this.head = 0;
    this.queued = 0;
    if (this.paused) {
      this.paused = false;
      this.pausedTotalMs += nowMs - this.pausedSinceMs;
    }
  }
}
