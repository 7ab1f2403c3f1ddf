// What the coordinating thread (pool.ts) and a worker thread (entry.ts) say to each other: plain data only.
// A worker holds one share's session: it opens its connections, says ready, then runs what it is told to,
// one run at a time, until it is told to close.
import type { LoopTick } from '../sequencer/closed-loop.js';
import type { LiveDelta } from '../statistic/live.js';
import type { RunPlan, SessionSetup, ShareResult } from './share.js';
import type { Share } from './split.js';

/** The worker's workerData. */
export interface WorkerInput {
  share: Share;
}

export type ToWorker =
  /** Run once on the session's connections (every worker is told at once, so their windows line up). */
  | { type: 'run'; plan: RunPlan }
  /** End the current run now; the worker still answers with its (aborted) result. */
  | { type: 'abort' }
  /** Close the connections and exit. */
  | { type: 'close' };

export interface WorkerError {
  name: string;
  message: string;
  stack?: string;
}

export type FromWorker =
  | { type: 'ready'; setup: SessionSetup }
  | { type: 'tick'; tick: LoopTick }
  /** Outcomes since the last live message, whatever their window (live /metrics). */
  | { type: 'live'; delta: LiveDelta }
  /** The measured window opened ('measure') or closed ('done'). */
  | { type: 'phase'; phase: 'measure' | 'done' }
  | { type: 'result'; result: ShareResult }
  | { type: 'failed'; error: WorkerError };
