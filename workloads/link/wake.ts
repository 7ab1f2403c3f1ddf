// Wakes a link direction when its next chunk is due. Node's timers have a millisecond's grain and fire up to
// ~1.7 ms early or 2-3 ms late here, which alone would add 1-2 ms to every emulated round trip. So each
// direction has one timer (not one per chunk), used only for waits longer than HANDOFF_MS; the last stretch is
// handed to one helper thread per process (wake-thread.ts), asleep on a futex, which wakes the loop by a
// message. For a sparse delivery (a request, an answer) the thread wakes the loop EARLY_MS before the due time,
// a wake-up's usual lateness here, and the last fraction of a millisecond is polled with setImmediate; dense
// deliveries (a transfer) are woken at their time without polling (~0.2 ms late), since polling before every
// chunk of a transfer cost a quarter of a core more at 1 Gbit/s (17 points at 100 Mbit/s). Nothing polls
// unless a delivery is due within EARLY_MS, so an idle link costs no CPU. `timer` mode uses the timers alone
// (the benchmark measures the difference).
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

export const WAKE_MODES = ['precise', 'timer'] as const;
export type WakeMode = (typeof WAKE_MODES)[number];

/** Waits shorter than this go to the thread: a timer aimed 0.5 ms before it lands in time unless 9.5 ms late. */
const HANDOFF_MS = 10;
/** A polled wake starts this early: a futex and a message take 0.13-0.26 ms (p10-p90) to wake the loop here. */
const EARLY_MS = 0.3;
const THREAD = new URL('./wake-thread.js', import.meta.url);

/** One direction's alarm: at most one pending wake, re-aimed by at(). */
export class Alarm {
  /** The pending due time, Infinity when none. */
  dueMs = Infinity;
  /** Poll the last EARLY_MS before the due time. */
  poll = true;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly onTimer = (): void => this.turn();

  constructor(
    private readonly wakes: Wakes,
    private readonly onDue: () => void,
  ) {}

  /** When the thread should wake the loop for this alarm. */
  get wakeMs(): number {
    return this.poll ? this.dueMs - EARLY_MS : this.dueMs;
  }

  /**
   * Calls onDue once, at `dueMs` (performance.now() ms) or as soon after as the loop allows; never before.
   * `poll`: spend the last fraction of a millisecond polling, for the most punctual delivery.
   */
  at(dueMs: number, poll = true): void {
    if (dueMs === this.dueMs && poll === this.poll) return;
    this.cancel();
    this.dueMs = dueMs;
    this.poll = poll;
    this.turn();
  }

  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.wakes.forget(this);
    this.dueMs = Infinity;
  }

  /** Called by the timer or the thread: fire if due, else wait on by the means the distance calls for. */
  turn(): void {
    this.timer = undefined;
    this.immediate = undefined;
    const wait = this.dueMs - performance.now();
    if (wait <= 0) {
      this.dueMs = Infinity;
      this.onDue();
    } else if (this.wakes.mode === 'timer') {
      this.timer = setTimeout(this.onTimer, Math.max(1, wait));
    } else if (this.poll && wait <= EARLY_MS) {
      // One check per event-loop turn, I/O handled between.
      this.immediate = setImmediate(this.onTimer);
    } else if (wait <= HANDOFF_MS) {
      this.wakes.hold(this);
    } else {
      this.timer = setTimeout(this.onTimer, wait - HANDOFF_MS + 0.5);
    }
  }
}

/** The process's wake-ups: the mode, and in precise mode the helper thread and the alarms it is holding. */
export class Wakes {
  private readonly holding = new Set<Alarm>();
  private readonly shared = new SharedArrayBuffer(16);
  private readonly control = new Int32Array(this.shared, 0, 2);
  private readonly target = new Float64Array(this.shared, 8, 1);
  private thread: Worker | undefined;
  private request = 0;
  /** The time the thread was last asked to wake at (Infinity: nothing asked). */
  private askedMs = Infinity;
  /** Thread wake-ups, for /stats. */
  wakeups = 0;

  constructor(readonly mode: WakeMode) {}

  /** Starts the helper thread now: its first start takes tens of ms, which must not land on a delivery. */
  async warm(): Promise<void> {
    if (this.mode !== 'precise' || this.thread) return;
    const thread = (this.thread = this.startThread());
    await new Promise<void>((resolve) => thread.once('online', () => resolve()));
  }

  /** The thread will turn this alarm at its wakeMs. */
  hold(alarm: Alarm): void {
    this.holding.add(alarm);
    if (alarm.wakeMs < this.askedMs) this.ask(alarm.wakeMs);
  }

  forget(alarm: Alarm): void {
    this.holding.delete(alarm);
  }

  /** Ends the helper thread (it is started again if needed). */
  async close(): Promise<void> {
    this.holding.clear();
    const thread = this.thread;
    this.thread = undefined;
    if (!thread) return;
    Atomics.store(this.control, 0, -1);
    Atomics.notify(this.control, 0);
    await new Promise<void>((resolve) => thread.once('exit', () => resolve()));
  }

  private ask(atMs: number): void {
    this.askedMs = atMs;
    this.thread ??= this.startThread();
    this.target[0] = performance.timeOrigin + atMs;
    Atomics.store(this.control, 0, ++this.request);
    Atomics.notify(this.control, 0);
  }

  private startThread(): Worker {
    Atomics.store(this.control, 0, this.request);
    const thread = new Worker(THREAD, { workerData: this.shared });
    // The listeners keep the process alive; the thread never should by itself.
    thread.unref();
    thread.on('message', (request: number) => {
      if (request === this.request) this.woken();
    });
    thread.on('error', (err) => process.stderr.write(`link: wake thread failed: ${err.message}\n`));
    return thread;
  }

  private woken(): void {
    this.wakeups++;
    this.askedMs = Infinity;
    const now = performance.now();
    for (const alarm of this.holding) {
      if (alarm.wakeMs <= now) {
        this.holding.delete(alarm);
        alarm.turn();
      }
    }
    // Turning an alarm may have held it again (and asked the thread); ask for the earliest left.
    let next = Infinity;
    for (const alarm of this.holding) next = Math.min(next, alarm.wakeMs);
    if (next < this.askedMs) this.ask(next);
  }
}
