// What a backend endpoint can be made to do wrong, and the one decision taken per request. Pure: the
// randomness is injected (latency.ts' seededRandom in tests), so a share gives the same answers every run.
import type { H2CodeName } from '../../common/h2-codes.js';
import type { GrpcStatusName } from '../../common/grpc-status.js';
import type { LatencySpec, Random } from './latency.js';

export const REFUSALS = ['closed', 'reset'] as const;
/** closed: nothing listens on the port (ECONNREFUSED); reset: each connection is accepted, then reset (ECONNRESET). */
export type Refusal = (typeof REFUSALS)[number];

/** The faults as the flags set them; they apply to the faulty set, the first `slowEndpoints` endpoints. */
export interface FaultConfig {
  slowEndpoints: number;
  slowLatency: LatencySpec;
  refuse: Refusal | null;
  resetShare: number;
  resetCode: H2CodeName;
  failShare: number;
  failStatus: number;
  failGrpc: GrpcStatusName;
  idleCloseMs: number | null;
  earlyStatus: number | null;
  earlyAfterBytes: number;
  /** After an early answer: keep reading (and dropping) the body this long before closing, as nginx's lingering close; 0 closes at once. */
  earlyLingerMs: number;
  stallRead: boolean;
  downAtMs: number | null;
  upAtMs: number | null;
}

/** The part of an endpoint's faults the admin API may change while it runs. */
export interface LiveFaults {
  down: boolean;
  refuse: Refusal | null;
  resetShare: number;
  failShare: number;
  latency: LatencySpec;
  stallRead: boolean;
}

/** The part decide() reads. */
export interface RequestFaults {
  resetShare: number;
  failShare: number;
  stallRead: boolean;
  earlyStatus: number | null;
  earlyAfterBytes: number;
}

/**
 * What to do with one request: answer it, reset it or answer it with a failure (both once the body is read
 * and the latency waited), answer early without reading the body, or never read it (stall).
 */
export type Verdict = 'answer' | 'reset' | 'fail' | 'early' | 'stall';

/**
 * `bodyBytes`: 0 when the request has no body, its declared length, or undefined for a body of unknown
 * length (chunked, or h2 without content-length), which counts as larger than any --early-after-bytes.
 * One random draw splits reset and fail, so each share is exactly its own (their sum is at most 1).
 */
export function decide(faults: RequestFaults, bodyBytes: number | undefined, random: Random): Verdict {
  if (bodyBytes !== 0) {
    if (faults.stallRead) return 'stall';
    if (faults.earlyStatus !== null && (bodyBytes === undefined || bodyBytes > faults.earlyAfterBytes)) return 'early';
  }
  if (faults.resetShare === 0 && faults.failShare === 0) return 'answer';
  const draw = random();
  if (draw < faults.resetShare) return 'reset';
  if (draw < faults.resetShare + faults.failShare) return 'fail';
  return 'answer';
}

/** A declared content-length as a size: undefined when absent or unreadable. */
export function declaredLength(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header[0] ?? '' : header;
  return /^\d+$/.test(text.trim()) ? Number(text.trim()) : undefined;
}
