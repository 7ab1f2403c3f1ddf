// One bucket of a load run's trace (outcomes by arrival time): written by the generator (harness/load/),
// read by the scenarios' outcomes (workloads/scenarios/), so it lives where both may import it.
export interface TraceBucket {
  /** ms from the window's opening. */
  t: number;
  /** Successes that arrived in the bucket. */
  ok: number;
  /** Failures that arrived in the bucket, by class (a timeout at its deadline). */
  errors: Record<string, number>;
  /** Successes by the answering endpoint's x-sluice-endpoint (response header, or gRPC response metadata); a success without it counts in `ok` only. */
  endpoints: Record<string, number>;
  /** The largest latency of an outcome that arrived in the bucket (a timeout's is the timeout); 0 when none did. */
  maxLatencyMs: number;
}
