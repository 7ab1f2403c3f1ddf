// Pending latency timers, kept so close() can cancel them instead of waiting them out.
export class Delays {
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Runs `fn` after `ms` milliseconds, or at once for 0 (a 0 ms timer would still cost a timer turn, ~1 ms). */
  run(ms: number, fn: () => void): void {
    if (ms <= 0) {
      fn();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  cancelAll(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
