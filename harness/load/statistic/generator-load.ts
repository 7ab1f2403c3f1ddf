// How hard the generator itself worked over the measured window: the signal that a result measures the
// generator rather than the target. Two readings, taken in the thread that generates:
// - event-loop utilisation of this thread (performance.eventLoopUtilization: the share of time the loop was
//   busy rather than waiting for I/O; inside a worker thread it is that worker's loop);
// - CPU time of the whole process (process.cpuUsage: every thread, the orchestrator's and the other workers'
//   too). Node 20 has no per-thread CPU clock (process.threadCpuUsage arrived in Node 23.9), so CPU per worker
//   can only be estimated as the process's CPU divided by the number of workers.
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Phase } from '../sequencer/phase-clock.js';

/** Above this the generator, not the target, is the bottleneck (for either reading). */
export const GENERATOR_SATURATION = 0.9;

export interface GeneratorLoadReading {
  /** Process CPU seconds (user + system, all threads) per second of the window. */
  cpuPerS: number;
  /** This thread's event-loop utilisation over the window, 0..1, less the open-loop pacer's idle polling. */
  elu: number;
  /** The open-loop pacer's idle polling per second of the window (0 in closed loop): CPU spent on punctuality. */
  pacerPerS: number;
}

export class GeneratorLoad {
  private cpuAtStart: NodeJS.CpuUsage | undefined;
  private eluAtStart: EventLoopUtilization | undefined;
  private cpuUsed: NodeJS.CpuUsage | undefined;
  private eluUsed: EventLoopUtilization | undefined;

  /** Follows the phases: starts reading when measuring begins, stops when the window ends. */
  onPhase(phase: Phase): void {
    if (phase === 'measure') {
      this.cpuAtStart = process.cpuUsage();
      this.eluAtStart = performance.eventLoopUtilization();
    } else if (phase === 'done' && this.cpuAtStart && this.eluAtStart) {
      this.cpuUsed = process.cpuUsage(this.cpuAtStart);
      this.eluUsed = performance.eventLoopUtilization(this.eluAtStart);
    }
  }

  /**
   * The readings over a window of `measuredMs`; zeros when nothing was measured. `pacerIdleMs`, the open-loop
   * pacer's polling with nothing else to do, kept the loop from idling without being work: it is taken out of
   * the utilisation and reported on its own.
   */
  reading(measuredMs: number, pacerIdleMs = 0): GeneratorLoadReading {
    const seconds = measuredMs / 1000;
    const cpuS = this.cpuUsed ? (this.cpuUsed.user + this.cpuUsed.system) / 1e6 : 0;
    const pacerPerS = measuredMs > 0 ? pacerIdleMs / measuredMs : 0;
    return {
      cpuPerS: seconds > 0 ? cpuS / seconds : 0,
      elu: Math.max(0, (this.eluUsed?.utilization ?? 0) - pacerPerS),
      pacerPerS,
    };
  }
}
