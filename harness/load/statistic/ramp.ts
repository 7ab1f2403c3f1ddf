// The ramp: how a connection's first calls fare against its later ones. With a 64 KiB window the first calls
// of a connection take several round trips and later ones near one, once an adaptive window has grown. Kept
// per call index (0 = the connection's first call ever) as sums and counts, which add up across workers.
import type { RepResult } from '../types.js';

/** The first this-many calls of each connection are kept. */
export const RAMP_CALLS = 20;

/** Plain data (it crosses from a worker): per call index, the sums of the calls' times and how many there were. */
export interface RampSums {
  ttfbMs: number[];
  totalMs: number[];
  count: number[];
}

export class Ramp {
  private readonly sums: RampSums = {
    ttfbMs: new Array<number>(RAMP_CALLS).fill(0),
    totalMs: new Array<number>(RAMP_CALLS).fill(0),
    count: new Array<number>(RAMP_CALLS).fill(0),
  };
  private calls = 0;

  /** The `call`-th call of a connection: to its first response byte (HEADERS) and to its end, from its send. */
  add(call: number, ttfbMs: number, totalMs: number): void {
    if (!(call >= 0 && call < RAMP_CALLS)) return;
    this.sums.ttfbMs[call]! += ttfbMs;
    this.sums.totalMs[call]! += totalMs;
    this.sums.count[call]!++;
    this.calls++;
  }

  /** The sums, or undefined when no call was kept. */
  result(): RampSums | undefined {
    return this.calls > 0 ? this.sums : undefined;
  }
}

/** Adds the sums of every share and averages them per call index; undefined when no call was measured. */
export function mergeRamps(all: readonly RampSums[]): RepResult['ramp'] {
  const ramp: NonNullable<RepResult['ramp']> = [];
  for (let call = 0; call < RAMP_CALLS; call++) {
    let count = 0;
    let ttfb = 0;
    let total = 0;
    for (const sums of all) {
      count += sums.count[call] ?? 0;
      ttfb += sums.ttfbMs[call] ?? 0;
      total += sums.totalMs[call] ?? 0;
    }
    if (count > 0) ramp.push({ call, connections: count, ttfbMs: ttfb / count, totalMs: total / count });
  }
  return ramp.length > 0 ? ramp : undefined;
}
