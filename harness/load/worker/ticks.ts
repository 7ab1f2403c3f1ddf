// Progress from several workers as one tick per second. Each worker ticks on its own clock (the clocks start
// together, within a millisecond or so); its n-th tick of a phase is summed with the others' n-th tick of the
// same phase, and a sum is told once every worker has reached it, finished, or moved past it.
import type { LoopTick } from '../sequencer/closed-loop.js';

type TickPhase = LoopTick['phase'];
const PHASES: readonly TickPhase[] = ['warmup', 'measure'];

interface WorkerTicks {
  /** The ticks this worker sent, by phase, in order. */
  ticks: Record<TickPhase, LoopTick[]>;
  finished: boolean;
}

export class TickMerger {
  private readonly workers: WorkerTicks[];
  /** The next tick to tell: its phase and its number within the phase. */
  private phase = 0;
  private seq = 0;

  constructor(
    workers: number,
    private readonly emit: (tick: LoopTick) => void,
  ) {
    this.workers = Array.from({ length: workers }, () => ({ ticks: { warmup: [], measure: [] }, finished: false }));
  }

  add(worker: number, tick: LoopTick): void {
    this.workers[worker]!.ticks[tick.phase].push(tick);
    this.flush();
  }

  /** The worker sends no more ticks. */
  finish(worker: number): void {
    this.workers[worker]!.finished = true;
    this.flush();
  }

  private flush(): void {
    while (this.phase < PHASES.length) {
      const phase = PHASES[this.phase]!;
      const present = this.workers.some((w) => w.ticks[phase].length > this.seq);
      const waiting = this.workers.some((w) => !w.finished && w.ticks[phase].length <= this.seq && !this.movedPast(w, this.phase));
      if (waiting) return;
      if (!present) {
        // Nobody has (or will have) this tick: the phase is over for everyone.
        this.phase++;
        this.seq = 0;
        continue;
      }
      this.emit(this.sum(phase, this.seq));
      this.seq++;
    }
  }

  private movedPast(worker: WorkerTicks, phase: number): boolean {
    return PHASES.slice(phase + 1).some((later) => worker.ticks[later].length > 0);
  }

  /** The workers' seq-th ticks of a phase; one that has fewer ticks in it counts with its last one. */
  private sum(phase: TickPhase, seq: number): LoopTick {
    const tick: LoopTick = { phase, elapsedS: 0, requests: 0, errors: 0 };
    for (const worker of this.workers) {
      const own = worker.ticks[phase];
      const mine = own[Math.min(seq, own.length - 1)];
      if (!mine) continue;
      tick.elapsedS = Math.max(tick.elapsedS, mine.elapsedS);
      tick.requests += mine.requests;
      tick.errors += mine.errors;
    }
    return tick;
  }
}
