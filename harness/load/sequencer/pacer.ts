// Wakes the open loop at a send's due time, to tens of µs. Node's timers have a millisecond's grain (a
// setTimeout shorter than 1 ms waits 1 ms, and libuv's clock is in whole ms), which alone made every
// open-loop send ~0.8 ms late at 1000/s, and that lateness lands in every latency measured from the intended
// time. So, by how far away the due time is:
// - more than COARSE_MS: a timer, to within COARSE_MS of it (then again);
// - more than 2 x SPIN_MS: a helper thread (pacer-thread.ts) asleep in Atomics.wait wakes this loop SPIN_MS
//   early by a message, while this loop idles in epoll as usual, and the last SPIN_MS is polled with
//   setImmediate (one check per event-loop turn, I/O handled between): sends leave within µs of their time;
// - less (rates of thousands a second per thread): the thread wakes the loop at the due time itself, without
//   polling: sends leave a wake-up's lateness (tens of µs) late, and the pacer does not eat a core;
// - under MIN_WAKE_MS: the next event-loop turn.
// The polling costs CPU and keeps the loop from idling, which would make a busy-looking generator out of an
// idle one: the pacer counts the time it polled with nothing else to do (turns that came back within
// IDLE_TURN_MS), so the saturation reading leaves it out and the record reports it as the pacer's CPU.
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

/** Beyond this, a plain timer gets within it (a timer may fire up to ~1 ms off). */
export const COARSE_MS = 2;
/** The helper thread wakes the loop this early; the rest is polled (covers a futex's and a message's lateness). */
export const SPIN_MS = 0.15;
/** Closer than this, a wake-up costs more than it saves: the next turn will do. */
const MIN_WAKE_MS = 0.02;
/** A polling turn that came back this fast did nothing else: it was the pacer's own cost. */
const IDLE_TURN_MS = 0.05;
const THREAD = new URL('./pacer-thread.js', import.meta.url);

export class Pacer {
  /** Milliseconds spent polling with nothing else to do, while counting. */
  idleSpinMs = 0;
  /** Only the measured window's polling is counted. */
  counting = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private lastTurn = 0;
  private dueMs = 0;
  /** Polling towards the current due time (after an early wake): keep polling rather than wake again. */
  private spinning = false;
  private readonly poll = (): void => this.turn();
  private readonly shared = new SharedArrayBuffer(16);
  private readonly control = new Int32Array(this.shared, 0, 2);
  private readonly target = new Float64Array(this.shared, 8, 1);
  private thread: Worker | undefined;
  private request = 0;

  constructor(private readonly onDue: () => void) {}

  /** Calls onDue once, at `dueMs` (performance.now() ms) or as soon after it as the event loop allows. */
  at(dueMs: number): void {
    this.cancel();
    this.dueMs = dueMs;
    this.spinning = false;
    this.schedule(performance.now());
  }

  cancel(): void {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    // A wake already asked for is void: its request number is no longer the current one.
    this.request++;
  }

  /** Ends the helper thread; the pacer can still be used (it starts a new one). */
  async close(): Promise<void> {
    this.cancel();
    const thread = this.thread;
    this.thread = undefined;
    if (!thread) return;
    // Held until it has exited: an unreferenced thread would let the loop end before 'exit' is heard.
    thread.ref();
    Atomics.store(this.control, 0, -1);
    Atomics.notify(this.control, 0);
    await new Promise<void>((resolve) => thread.once('exit', () => resolve()));
  }

  private schedule(now: number): void {
    const wait = this.dueMs - now;
    if (wait > COARSE_MS + 1) {
      this.timer = setTimeout(this.poll, wait - COARSE_MS);
    } else if (wait > 2 * SPIN_MS) {
      this.wakeAt(this.dueMs - SPIN_MS);
    } else if (wait > MIN_WAKE_MS && !this.spinning) {
      this.wakeAt(this.dueMs);
    } else {
      this.lastTurn = now;
      this.immediate = setImmediate(this.poll);
    }
  }

  private wakeAt(atMs: number): void {
    const thread = (this.thread ??= this.startThread());
    thread.ref();
    this.target[0] = performance.timeOrigin + atMs;
    Atomics.store(this.control, 0, ++this.request);
    Atomics.notify(this.control, 0);
  }

  private startThread(): Worker {
    Atomics.store(this.control, 0, this.request);
    const thread = new Worker(THREAD, { workerData: this.shared });
    thread.on('message', (request: number) => {
      // A wake that crossed close() in flight: the closing thread stays referenced until it has exited.
      if (thread !== this.thread) return;
      // Idle between wakes: the thread must not keep the process alive by itself.
      thread.unref();
      if (request === this.request) this.turn();
    });
    return thread;
  }

  private turn(): void {
    this.timer = undefined;
    this.immediate = undefined;
    const now = performance.now();
    if (now >= this.dueMs) {
      this.onDue();
      return;
    }
    // Woken early (a timer may fire up to a millisecond off): wait on, by the means its distance calls for.
    if (this.dueMs - now > 2 * SPIN_MS) return this.schedule(now);
    if (this.counting && this.lastTurn > 0 && now - this.lastTurn < IDLE_TURN_MS) this.idleSpinMs += now - this.lastTurn;
    this.lastTurn = now;
    this.spinning = true;
    this.immediate = setImmediate(this.poll);
  }
}
