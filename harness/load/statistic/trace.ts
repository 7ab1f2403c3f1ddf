// The run as the target lived it: outcomes by the time they *arrived*, in fixed buckets from the window's
// opening to the end of the drain. The time series (time-series.ts) files a request under the second it was
// sent, which is what a latency percentile needs; an incident scenario asks instead when things broke and
// which endpoint answered meanwhile (errors from 500 ms on, a backend gone from the answers). Only the
// requests sent in the window are kept (the recorder's rule); only runs with LoadOptions.trace make one.
import type { TraceBucket } from '../types.js';

export type { TraceBucket };

/** A bucket while the run lasts: counts in Maps, as their keys come from the target (any header value). */
interface LiveBucket {
  ok: number;
  errors: Map<string, number>;
  endpoints: Map<string, number>;
  maxLatencyMs: number;
}

export class Trace {
  private startMs = Number.NaN;
  private readonly buckets: (LiveBucket | undefined)[] = [];

  constructor(readonly bucketMs: number) {}

  /** The window opens at `startMs` (performance.now()): bucket 0 starts there. */
  begin(startMs: number): void {
    this.startMs = startMs;
  }

  /** A success that arrived at `atMs`, `latencyMs` after its (intended) send, answered by `endpoint` if known. */
  success(atMs: number, latencyMs: number, endpoint: string | undefined): void {
    const bucket = this.at(atMs);
    if (bucket === undefined) return;
    bucket.ok++;
    if (endpoint !== undefined) add(bucket.endpoints, endpoint, 1);
    if (latencyMs > bucket.maxLatencyMs) bucket.maxLatencyMs = latencyMs;
  }

  /** A failure of class `errorClass` that arrived at `atMs` (a timeout: at its deadline). */
  failure(errorClass: string, atMs: number, latencyMs: number): void {
    const bucket = this.at(atMs);
    if (bucket === undefined) return;
    add(bucket.errors, errorClass, 1);
    if (latencyMs > bucket.maxLatencyMs) bucket.maxLatencyMs = latencyMs;
  }

  /** Every bucket from the window's opening to the one holding `endMs` (the end of the drain), empty ones too. */
  finish(endMs: number): TraceBucket[] {
    const last = Number.isNaN(this.startMs) ? -1 : Math.max(this.index(endMs), this.buckets.length - 1);
    return Array.from({ length: last + 1 }, (_, i) => {
      const live = this.buckets[i];
      return {
        t: i * this.bucketMs,
        ok: live?.ok ?? 0,
        errors: live ? toRecord(live.errors) : {},
        endpoints: live ? toRecord(live.endpoints) : {},
        maxLatencyMs: live?.maxLatencyMs ?? 0,
      };
    });
  }

  private index(atMs: number): number {
    // An outcome read a hair before the window's clock reading (a shared read time) belongs to bucket 0.
    return Math.max(0, Math.floor((atMs - this.startMs) / this.bucketMs));
  }

  private at(atMs: number): LiveBucket | undefined {
    if (Number.isNaN(this.startMs)) return undefined;
    const i = this.index(atMs);
    // Buckets in between stay holes until finish(): a long quiet stretch costs nothing.
    return (this.buckets[i] ??= { ok: 0, errors: new Map(), endpoints: new Map(), maxLatencyMs: 0 });
  }
}

/** Workers' traces, bucket by bucket (their windows open together): counts added, the largest latency kept. */
export function mergeTraces(bucketMs: number, traces: readonly (readonly TraceBucket[])[]): TraceBucket[] {
  const length = Math.max(0, ...traces.map((t) => t.length));
  return Array.from({ length }, (_, i) => {
    let ok = 0;
    let maxLatencyMs = 0;
    const errors = new Map<string, number>();
    const endpoints = new Map<string, number>();
    for (const trace of traces) {
      const bucket = trace[i];
      if (bucket === undefined) continue;
      ok += bucket.ok;
      for (const [key, n] of Object.entries(bucket.errors)) add(errors, key, n);
      for (const [key, n] of Object.entries(bucket.endpoints)) add(endpoints, key, n);
      maxLatencyMs = Math.max(maxLatencyMs, bucket.maxLatencyMs);
    }
    return { t: i * bucketMs, ok, errors: toRecord(errors), endpoints: toRecord(endpoints), maxLatencyMs };
  });
}

function add(counts: Map<string, number>, key: string, n: number): void {
  counts.set(key, (counts.get(key) ?? 0) + n);
}

/** Keys sorted; Object.fromEntries defines own properties, so no key (not even __proto__) reaches a prototype. */
function toRecord(counts: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)));
}
