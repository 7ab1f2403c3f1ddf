// Dividing one run among worker threads: each worker gets its own connections and, in open loop, its part
// of the rate, so that every connection carries the same load whichever worker owns it.
import type { LoadOptions } from '../types.js';

export interface Share {
  /** This worker's options: its connections and rate, and workers: 1. */
  options: LoadOptions;
  /** Its schedule starts this long after the run's, so the shares' sends interleave instead of coinciding. */
  offsetMs: number;
}

/** `workers` shares of `options`: connections as even as possible (the first ones get one more), rate in proportion. */
export function splitLoad(options: LoadOptions, workers: number): Share[] {
  const { connections, rate } = options;
  if (!Number.isInteger(workers) || workers < 1 || workers > connections) {
    throw new RangeError(`workers must be an integer in 1..connections (${connections}), got ${workers}`);
  }
  const base = Math.floor(connections / workers);
  const extra = connections % workers;
  return Array.from({ length: workers }, (_, index) => {
    const own = base + (index < extra ? 1 : 0);
    return {
      options: { ...options, connections: own, workers: 1, ...(rate !== undefined ? { rate: (rate * own) / connections } : {}) },
      // Worker i's first send is the i-th of the whole schedule.
      offsetMs: rate !== undefined ? (index * 1000) / rate : 0,
    };
  });
}
