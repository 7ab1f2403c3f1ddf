// Latency statistic: an HdrHistogram (hdr-histogram-js, WebAssembly, 32-bit buckets) of microsecond values,
// 1 µs .. 60 s at 3 significant digits. Histograms travel as compressed base64 and merge exactly by adding.
// WASM histograms live outside the JS heap: whoever creates or decodes one must destroy() it.
// The library's own files, not its index: the index also loads the log reader and writer, the formatters and every
// other histogram kind, ~30 ms of CPU in each thread that loads this (the main one and every worker).
import { build } from 'hdr-histogram-js/dist/HistogramBuilder.js';
import { decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js/dist/encoding.js';
import { initWebAssemblySync } from 'hdr-histogram-js/dist/wasm/index.js';
import type { LatencySummaryMs } from '../types.js';

type Histogram = ReturnType<typeof build>;

export const LOWEST_US = 1;
export const HIGHEST_US = 60_000_000;
export const SIGNIFICANT_DIGITS = 3;

let wasmReady: Promise<void> | undefined;

/**
 * Loads the WebAssembly module once per thread; every other function here needs it. Compiled synchronously (a
 * small module): the library's async path asks whether its bytes are a fetch `Response`, and that first look at
 * the global makes node load its whole fetch implementation (undici), some 20 ms of CPU in every worker.
 */
export function initHistograms(): Promise<void> {
  return (wasmReady ??= Promise.resolve().then(() => initWebAssemblySync()));
}

/** A latency histogram in microseconds. Not thread-safe, not reusable after destroy(). */
export class LatencyHistogram {
  private destroyed = false;

  private constructor(private readonly hdr: Histogram) {}

  /** An empty histogram; initHistograms() must have resolved. */
  static create(): LatencyHistogram {
    return new LatencyHistogram(
      build({
        useWebAssembly: true,
        bitBucketSize: 32,
        lowestDiscernibleValue: LOWEST_US,
        highestTrackableValue: HIGHEST_US,
        numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
        autoResize: false,
      }),
    );
  }

  /** Decodes one encoded histogram (compressed base64); the caller owns and destroys the result. */
  static decode(encoded: string): LatencyHistogram {
    return new LatencyHistogram(decodeFromCompressedBase64(encoded, 32, true));
  }

  /**
   * Records one latency. Values are clamped into 1 µs .. 60 s: the WASM histogram aborts on values out of
   * range, and a sample beyond 60 s means the run is broken anyway (timeouts are far shorter).
   */
  recordMicros(us: number): void {
    this.hdr.recordValue(Math.min(HIGHEST_US, Math.max(LOWEST_US, Math.round(us))));
  }

  recordMs(ms: number): void {
    this.recordMicros(ms * 1000);
  }

  get count(): number {
    return this.hdr.totalCount;
  }

  /** Microseconds at a percentile (0..100), as the highest value equivalent to it; 0 when empty. */
  percentileMicros(percentile: number): number {
    return this.hdr.totalCount === 0 ? 0 : this.hdr.getValueAtPercentile(percentile);
  }

  /**
   * The RepResult summary in milliseconds; all zeros when nothing was recorded. Every value, the max too, is
   * reported at its bucket's highest equivalent value (as HdrHistogram's Java getMaxValue does), so a
   * histogram and its encoded-and-decoded copy summarize identically and p50 <= ... <= p999 <= max holds.
   */
  summaryMs(): LatencySummaryMs {
    if (this.hdr.totalCount === 0) return { p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0, mean: 0 };
    const at = (percentile: number): number => this.hdr.getValueAtPercentile(percentile) / 1000;
    return { p50: at(50), p90: at(90), p95: at(95), p99: at(99), p999: at(99.9), max: at(100), mean: this.hdr.mean / 1000 };
  }

  /** Adds every count of `other` into this one (exact: both share one bucket layout). */
  add(other: LatencyHistogram): void {
    this.hdr.add(other.hdr);
  }

  /** HdrHistogram's compressed base64 form, readable by any HdrHistogram implementation. */
  encode(): string {
    return encodeIntoCompressedBase64(this.hdr);
  }

  /** Frees the WASM memory; further calls are no-ops. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.hdr.destroy();
  }
}

/** Decodes and adds several encoded histograms into a new one; the caller owns and destroys the result. */
export async function mergeEncoded(encoded: readonly string[]): Promise<LatencyHistogram> {
  await initHistograms();
  const merged = LatencyHistogram.create();
  try {
    for (const one of encoded) {
      const decoded = LatencyHistogram.decode(one);
      try {
        merged.add(decoded);
      } finally {
        decoded.destroy();
      }
    }
    return merged;
  } catch (err) {
    merged.destroy();
    throw err;
  }
}

/** Merges encoded histograms and returns both the summary and the merged encoding, destroying everything it made. */
export async function mergeEncodedSummary(encoded: readonly string[]): Promise<{ latencyMs: LatencySummaryMs; histogram: string; count: number }> {
  const merged = await mergeEncoded(encoded);
  try {
    return { latencyMs: merged.summaryMs(), histogram: merged.encode(), count: merged.count };
  } finally {
    merged.destroy();
  }
}
