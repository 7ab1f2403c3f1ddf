// The retry budget (tower's `retry::budget`, linkerd's ServiceProfile retryBudget): retries may add at most
// `ratio` of the original requests seen in the last `ttl`, plus `minPerSecond` retries per second of ttl for
// when traffic is too thin for the ratio to allow any. Pure: the clock is injected, nothing runs by itself.

export interface RetryBudgetOptions {
  /** Retries per original request, e.g. 0.2: one retry for every five requests. */
  ratio: number;
  /** Retries always allowed per second, averaged over the window (so up to minPerSecond x ttl at once). */
  minPerSecond: number;
  /** The window over which requests and retries count, ms. */
  ttlMs: number;
  /** ms; performance.now by default. */
  clock?: () => number;
}

/** The window is kept as this many slots, so an entry expires within ttl/SLOTS of its age reaching ttl. */
const SLOTS = 10;

interface Slot {
  /** Which slot of time this is (floor(now / slotMs)); a slot from an older round is empty. */
  epoch: number;
  deposits: number;
  withdrawals: number;
}

export class RetryBudget {
  private readonly slots: Slot[] = Array.from({ length: SLOTS }, () => ({ epoch: -1, deposits: 0, withdrawals: 0 }));
  private readonly slotMs: number;
  private readonly reserve: number;
  private readonly clock: () => number;

  constructor(private readonly options: RetryBudgetOptions) {
    this.slotMs = options.ttlMs / SLOTS;
    this.reserve = options.minPerSecond * (options.ttlMs / 1000);
    this.clock = options.clock ?? (() => performance.now());
  }

  /** An original request: it earns `ratio` of a retry for the next ttl. */
  deposit(): void {
    this.current().deposits++;
  }

  /** Takes one retry from the budget; false (and nothing taken) when it is exhausted. */
  withdraw(): boolean {
    if (this.balance() < 1) return false;
    this.current().withdrawals++;
    return true;
  }

  /** Retries still allowed now. Counts are multiplied, never summed as fractions, so 5 x 0.2 is exactly 1. */
  balance(): number {
    const now = this.epochOf(this.clock());
    let deposits = 0;
    let withdrawals = 0;
    for (const slot of this.slots) {
      if (slot.epoch <= now - SLOTS) continue; // older than ttl
      deposits += slot.deposits;
      withdrawals += slot.withdrawals;
    }
    return deposits * this.options.ratio + this.reserve - withdrawals;
  }

  private current(): Slot {
    const epoch = this.epochOf(this.clock());
    const slot = this.slots[epoch % SLOTS]!;
    if (slot.epoch !== epoch) Object.assign(slot, { epoch, deposits: 0, withdrawals: 0 });
    return slot;
  }

  private epochOf(ms: number): number {
    return Math.floor(ms / this.slotMs);
  }
}
