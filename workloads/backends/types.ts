// What every protocol server hands back to main.ts (and to tests).
import type { BackendConfig } from './config.js';

export interface RunningBackends {
  /** The listening port of each endpoint, in endpoint order. */
  ports: number[];
  /** Stops accepting, lets in-flight requests finish for a short grace period, then closes everything. */
  close(): Promise<void>;
}

export type StartBackends = (config: BackendConfig) => Promise<RunningBackends>;

/** How long close() lets in-flight requests finish before it destroys connections. */
export const CLOSE_GRACE_MS = 300;
