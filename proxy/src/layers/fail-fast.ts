// Fail-fast: the state machine that says whether requests may go to the balancer, should wait for it, or
// should be failed at once. Like linkerd's outbound fail-fast (3 s): once the balancer has had no ready
// endpoint for `timeoutMs`, waiting is pointless, so everything queued and new fails until an endpoint is
// ready again. It only keeps time; the queue layer (queue.ts) holds and answers the requests.
import { realSchedule, type Schedule } from '../balancer/endpoint-state.js';

/** open: an endpoint is ready. waiting: none is, for less than the timeout. failing: none, for longer. */
export type GateState = 'open' | 'waiting' | 'failing';

/** What the balancer (balancer/index.ts) tells about its endpoints. */
export interface Readiness {
  hasReady(): boolean;
  onReadyChange(listener: (ready: boolean) => void): () => void;
}

export interface FailFastOptions {
  readiness: Readiness;
  /** How long without a ready endpoint before failing fast, ms (--failfast). 0: at once. */
  timeoutMs: number;
  /** Injected by tests to fire the timeout without waiting. */
  schedule?: Schedule;
}

export class FailFast {
  private current: GateState;
  private cancelTimer: (() => void) | undefined;
  private readonly listeners = new Set<(state: GateState) => void>();
  private readonly unsubscribe: () => void;
  private readonly schedule: Schedule;

  constructor(private readonly options: FailFastOptions) {
    this.schedule = options.schedule ?? realSchedule;
    this.unsubscribe = options.readiness.onReadyChange((ready) => (ready ? this.ready() : this.unready()));
    // Not ready at start counts as unready from now: the timer runs while the first probes are out.
    this.current = 'open';
    if (!options.readiness.hasReady()) this.unready();
  }

  get state(): GateState {
    return this.current;
  }

  /** Called after every change of state; returns the unsubscribe function. */
  onChange(listener: (state: GateState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the timer and the subscription (the proxy is stopping). */
  close(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.unsubscribe();
    this.listeners.clear();
  }

  private ready(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.set('open');
  }

  private unready(): void {
    if (this.current !== 'open') return; // already waiting (its timer runs) or failing
    if (this.options.timeoutMs <= 0) return this.set('failing');
    this.set('waiting');
    this.cancelTimer = this.schedule(() => {
      this.cancelTimer = undefined;
      this.set('failing');
    }, this.options.timeoutMs);
  }

  private set(state: GateState): void {
    if (state === this.current) return;
    this.current = state;
    for (const listener of this.listeners) listener(state);
  }
}
