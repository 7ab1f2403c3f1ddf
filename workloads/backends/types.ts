// What every protocol server hands back to main.ts (and to tests).
import type { BackendConfig } from './config.js';
import type { FaultControl } from './fault-control.js';
import type { Random } from './latency.js';

export interface RunningBackends {
  /** The listening port of each endpoint, in endpoint order. */
  ports: number[];
  /** The endpoints' faults and counters: what the admin listener and the down/up schedule act on. */
  faults: FaultControl;
  /** Stops accepting, lets in-flight requests finish for a short grace period, then closes everything. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** The draws that pick which requests a --reset-share / --fail-share hits (default Math.random; tests seed it). */
  random?: Random;
  /** How long close() lets in-flight requests finish (default CLOSE_GRACE_MS). */
  closeGraceMs?: number;
}

export type StartBackends = (config: BackendConfig, options?: StartOptions) => Promise<RunningBackends>;

/** How long close() lets in-flight requests finish before it destroys connections. */
export const CLOSE_GRACE_MS = 300;
