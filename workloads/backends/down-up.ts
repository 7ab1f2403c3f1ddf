// --down-at / --up-at: the faulty set goes down D after the ready line (listeners closed, connections reset)
// and comes back U after it, on the same ports, through the same control the admin API uses.
import type { FaultControl } from './fault-control.js';

export interface DownUpSchedule {
  cancel(): void;
}

/** Starts the clock now (call it right after the ready line); `log` gets one line per change or failure. */
export function scheduleDownUp(downAtMs: number | null, upAtMs: number | null, control: FaultControl, log: (line: string) => void): DownUpSchedule {
  const timers: NodeJS.Timeout[] = [];
  const at = (ms: number, down: boolean): void => {
    timers.push(
      setTimeout(() => {
        control.apply({ down }).then(
          (state) => log(`faulty set (endpoints ${state.faultySet.join(', ')}) ${down ? 'down' : 'up'} at ${ms} ms`),
          (err: unknown) => log(`cannot bring the faulty set ${down ? 'down' : 'up'} at ${ms} ms: ${err instanceof Error ? err.message : String(err)}`),
        );
      }, ms),
    );
  };
  if (downAtMs !== null) at(downAtMs, true);
  if (upAtMs !== null) at(upAtMs, false);
  return {
    cancel: () => {
      for (const timer of timers) clearTimeout(timer);
    },
  };
}
