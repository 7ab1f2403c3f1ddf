// What the coordinating thread (pool.ts) and a worker thread (entry.ts) say to each other: plain data only.
import type { LoopTick } from '../sequencer/closed-loop.js';
import type { ShareResult } from './share.js';
import type { Share } from './split.js';

/** The worker's workerData. */
export interface WorkerInput {
  share: Share;
}

export type ToWorker =
  /** Every worker is set up: start the clock (so the workers' phases line up). */
  | { type: 'start' }
  /** End the run now; the worker still answers with its (aborted) result. */
  | { type: 'abort' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'tick'; tick: LoopTick }
  | { type: 'result'; result: ShareResult }
  | { type: 'failed'; error: { name: string; message: string; stack?: string } };
