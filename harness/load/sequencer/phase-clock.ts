// The run's timeline: warm-up, then measure, then done; a tick every second of each phase for progress.
// Shared by the closed-loop sequencer and by clients that drive their own loop (autocannon).
import { performance } from 'node:perf_hooks';

export type Phase = 'warmup' | 'measure' | 'done';

export interface ClockTick {
  /** Seconds since the current phase began. */
  elapsedS: number;
  phase: 'warmup' | 'measure';
}

export interface PhaseClockOptions {
  /** At least this long; longer while `warmupUntil` has not resolved (at most `warmupMaxMs`). */
  warmupMs: number;
  /**
   * The warm-up also lasts until this resolves (the closed loop's turnover: every request slot has completed a
   * request, so the window opens on a pipeline in its steady state), but no longer than warmupMaxMs in all.
   */
  warmupUntil?: Promise<void>;
  warmupMaxMs?: number;
  durationMs: number;
  /** Ends the run early; the timing then says `aborted`. */
  signal?: AbortSignal;
  /** Called synchronously at each change (with the performance.now() time it happened), before any outcome of the new phase is reported. */
  onPhase?: (phase: Phase, atMs: number) => void;
  /** Every second of warm-up and measure, and once more as each of them ends. */
  onTick?: (tick: ClockTick) => void;
}

export interface PhaseTiming {
  /** The measured window as it really was (timers fire late on a busy event loop). */
  measuredMs: number;
  /** performance.now() when the window (or the run, if aborted) ended. */
  endMs: number;
  aborted: boolean;
}

export class PhaseClock {
  private current: Phase = 'warmup';
  private started = false;
  private phaseStart = 0;
  private phaseTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private capTimer: NodeJS.Timeout | undefined;
  private resolveDone!: (timing: PhaseTiming) => void;
  private readonly onAbort = (): void => this.finish(true);
  /** Resolves when the measured phase ends (or the run is aborted). */
  readonly done: Promise<PhaseTiming>;

  constructor(private readonly options: PhaseClockOptions) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  get phase(): Phase {
    return this.current;
  }

  start(): void {
    if (this.started) throw new Error('PhaseClock already started');
    this.started = true;
    const { signal, warmupMs } = this.options;
    if (signal?.aborted) {
      this.finish(true);
      return;
    }
    signal?.addEventListener('abort', this.onAbort, { once: true });
    const { warmupUntil, warmupMaxMs = Infinity } = this.options;
    if (warmupMs > 0 || warmupUntil) {
      this.enter('warmup');
      let timerDone = warmupMs <= 0;
      let ready = warmupUntil === undefined;
      const maybeStart = (): void => {
        if (timerDone && ready && this.current === 'warmup') this.startMeasuring();
      };
      if (!timerDone) {
        this.phaseTimer = setTimeout(() => {
          timerDone = true;
          maybeStart();
        }, warmupMs);
      }
      void warmupUntil?.then(() => {
        ready = true;
        maybeStart();
      });
      if (Number.isFinite(warmupMaxMs)) {
        this.capTimer = setTimeout(() => {
          timerDone = ready = true;
          maybeStart();
        }, Math.max(warmupMs, warmupMaxMs));
      }
    } else {
      this.startMeasuring();
    }
  }

  /** Ends the run now (as if aborted). */
  stop(): void {
    this.finish(true);
  }

  private startMeasuring(): void {
    clearTimeout(this.phaseTimer);
    clearTimeout(this.capTimer);
    if (this.current === 'warmup' && this.phaseStart > 0) this.tick();
    this.enter('measure');
    this.phaseTimer = setTimeout(() => this.finish(false), this.options.durationMs);
  }

  private enter(phase: 'warmup' | 'measure'): void {
    this.current = phase;
    this.phaseStart = performance.now();
    clearInterval(this.tickTimer);
    this.tickTimer = setInterval(() => this.tick(), 1000);
    this.options.onPhase?.(phase, this.phaseStart);
  }

  private tick(): void {
    if (this.current === 'done') return;
    this.options.onTick?.({ elapsedS: (performance.now() - this.phaseStart) / 1000, phase: this.current });
  }

  private finish(aborted: boolean): void {
    if (this.current === 'done') return;
    clearTimeout(this.phaseTimer);
    clearTimeout(this.capTimer);
    clearInterval(this.tickTimer);
    this.options.signal?.removeEventListener('abort', this.onAbort);
    const measuring = this.current === 'measure' && this.started && this.phaseStart > 0;
    if (measuring) this.tick();
    const now = performance.now();
    const measuredMs = measuring ? now - this.phaseStart : 0;
    this.current = 'done';
    this.options.onPhase?.('done', now);
    this.resolveDone({ measuredMs, endMs: now, aborted });
  }
}
