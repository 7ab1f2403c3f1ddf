// h2load's --log-file, read while h2load writes it: one row per request completed in the main duration,
// tab-separated (nghttp2 1.52, `h2load --help`): start time in µs since the epoch, HTTP status (-1 for a
// failed stream), µs until the end of the response. Rows are appended in buffered blocks during the run,
// so ticks can count them; every latency goes into our HdrHistogram, so percentiles are exact, not h2load's
// mean and sd.
import { open, type FileHandle } from 'node:fs/promises';
import type { Histogram } from 'hdr-histogram-js';
// The builder's own file, not the index, which also starts Intl for its log writer (~30 ms of CPU at start-up).
import { build } from 'hdr-histogram-js/dist/HistogramBuilder.js';
import type { OutcomeHistograms } from '../statistic/outcome-histograms.js';
import type { RepResult } from '../types.js';

export interface H2loadLogCounts {
  /** Rows read: requests whose outcome fell in the main duration. */
  requests: number;
  /** Status -1: the stream failed below HTTP (RST_STREAM, GOAWAY, connection lost); h2load does not say which. */
  failedStreams: number;
  status4xx: number;
  status5xx: number;
  /** A status h2load logged that is neither -1 nor 100..599. */
  otherStatus: number;
  /** Rows that were not three numbers. */
  malformed: number;
}

const READ_CHUNK = 1 << 20;
const NEWLINE = 0x0a;
const TAB = 0x09;
const MINUS = 0x2d;
const ZERO = 0x30;
const CR = 0x0d;

/**
 * Three tab-separated integers (the first two may be negative; a fourth column, which h2load may add one day,
 * is ignored) into `out`; false when the row is not that.
 */
function parseRow(buffer: Buffer, from: number, to: number, out: number[]): boolean {
  let field = 0;
  let value = 0;
  let digits = 0;
  let negative = false;
  for (let i = from; i <= to; i++) {
    const byte = i < to ? buffer[i]! : TAB;
    if (byte === TAB || (byte === CR && i === to - 1)) {
      if (digits === 0) return false;
      out[field++] = negative ? -value : value;
      if (field === 3) return true;
      value = 0;
      digits = 0;
      negative = false;
    } else if (byte === MINUS && digits === 0 && !negative) {
      negative = true;
    } else if (byte >= ZERO && byte <= ZERO + 9) {
      value = value * 10 + (byte - ZERO);
      digits++;
    } else {
      return false;
    }
  }
  return false;
}
const US_PER_S = 1_000_000;

/** One bucket of the time series: successes and errors of the requests sent in that second, all their latencies. */
interface Second {
  successes: number;
  errors: number;
  latency: Histogram;
}

export class H2loadLog {
  readonly counts: H2loadLogCounts = { requests: 0, failedStreams: 0, status4xx: 0, status5xx: 0, otherStatus: 0, malformed: 0 };
  /** Start times (µs since the epoch) of every request, kept only when `keepStarts` (open loop, for the lag estimate). */
  readonly starts: number[] = [];
  private file: FileHandle | undefined;
  private offset = 0;
  private partial: Buffer = Buffer.alloc(0);
  private originUs: number | undefined;
  private readonly seconds: Second[];

  constructor(
    private readonly path: string,
    private readonly histograms: OutcomeHistograms,
    measuredS: number,
    private readonly keepStarts = false,
  ) {
    // Whole seconds only: a partial last second would show a false drop in the series.
    this.seconds = Array.from({ length: Math.floor(measuredS) }, () => ({
      successes: 0,
      errors: 0,
      // JS (not WASM) histograms at 2 digits: small, and garbage collected, so nothing to destroy.
      latency: build({ useWebAssembly: false, bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: 60 * US_PER_S, numberOfSignificantValueDigits: 2 }),
    }));
  }

  /** Where second 0 of the time series begins (µs since the epoch); the first row's start if never set. */
  setOrigin(us: number): void {
    this.originUs ??= us;
  }

  get errors(): number {
    const c = this.counts;
    return c.failedStreams + c.status4xx + c.status5xx + c.otherStatus;
  }

  /** Reads the rows appended since the last call. The file may not exist yet. */
  async poll(): Promise<void> {
    if (!this.file) {
      try {
        this.file = await open(this.path, 'r');
      } catch {
        return;
      }
    }
    for (;;) {
      // A partial last row from the previous read is kept at the front and completed by this one.
      const buffer = Buffer.allocUnsafe(this.partial.length + READ_CHUNK);
      this.partial.copy(buffer);
      const { bytesRead } = await this.file.read(buffer, this.partial.length, READ_CHUNK, this.offset);
      if (bytesRead === 0) return;
      this.offset += bytesRead;
      const end = this.partial.length + bytesRead;
      const consumed = this.rows(buffer, end);
      this.partial = Buffer.from(buffer.subarray(consumed, end));
    }
  }

  /** Reads what is left (h2load has exited, so the last row is complete) and closes the file. */
  async finish(): Promise<void> {
    await this.poll();
    if (this.partial.length > 0) {
      const last = Buffer.concat([this.partial, Buffer.from('\n')]);
      this.rows(last, last.length);
    }
    this.partial = Buffer.alloc(0);
    await this.close();
  }

  async close(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.close();
  }

  /** successes, p99 and errors per whole second of the measured window, by the second each request was sent in. */
  timeSeries(): NonNullable<RepResult['timeSeries']> {
    return this.seconds.map((s, t) => ({
      t,
      rps: s.successes,
      p99Ms: s.latency.totalCount > 0 ? s.latency.getValueAtPercentile(99) / 1000 : 0,
      errors: s.errors,
    }));
  }

  /**
   * Parses the complete rows in buffer[0, end) and returns where the unfinished last row begins. Rows are
   * parsed from bytes, without making strings: at h2load's rates the log is hundreds of thousands of rows a
   * second, and this process shares the machine with it.
   */
  private rows(buffer: Buffer, end: number): number {
    let lineStart = 0;
    const fields = [0, 0, 0];
    while (lineStart < end) {
      const newline = buffer.indexOf(NEWLINE, lineStart);
      if (newline < 0 || newline >= end) break;
      if (newline > lineStart) {
        if (parseRow(buffer, lineStart, newline, fields)) this.row(fields[0]!, fields[1]!, fields[2]!);
        else this.counts.malformed += 1;
      }
      lineStart = newline + 1;
    }
    return lineStart;
  }

  private row(start: number, status: number, latency: number): void {
    const c = this.counts;
    c.requests += 1;
    if (this.keepStarts) this.starts.push(start);
    let ok = false;
    if (status === -1) c.failedStreams += 1;
    else if (status >= 400 && status < 500) c.status4xx += 1;
    else if (status >= 500 && status < 600) c.status5xx += 1;
    else if (status < 100 || status >= 600) c.otherStatus += 1;
    else ok = true;
    this.histograms.record(latency, ok);
    this.second(start, latency, ok);
  }

  private second(start: number, latency: number, ok: boolean): void {
    this.originUs ??= start;
    const index = Math.floor((start - this.originUs) / US_PER_S);
    const s = this.seconds[Math.max(0, index)];
    if (!s) return;
    if (ok) s.successes += 1;
    else s.errors += 1;
    s.latency.recordValue(Math.min(60 * US_PER_S, Math.max(1, Math.round(latency))));
  }
}

/**
 * Open-loop lag estimated from the requests' real start times: the k-th request sent (in time order) is
 * compared with the k-th slot of an evenly spaced schedule at `rate` from the first start. h2load does not
 * log its intended send times, and requests still in flight at the end are not in the log, so this is an
 * estimate that errs low.
 */
export function estimateLag(starts: number[], rate: number): { maxLagMs: number; meanLagMs: number; p99LagMs: number } {
  if (starts.length === 0 || !(rate > 0)) return { maxLagMs: 0, meanLagMs: 0, p99LagMs: 0 };
  const sorted = Float64Array.from(starts).sort();
  const origin = sorted[0]!;
  const intervalUs = US_PER_S / rate;
  const lags = new Float64Array(sorted.length);
  let sum = 0;
  for (let k = 0; k < sorted.length; k++) {
    lags[k] = Math.max(0, sorted[k]! - (origin + k * intervalUs));
    sum += lags[k]!;
  }
  lags.sort();
  const at = (q: number): number => lags[Math.min(lags.length - 1, Math.ceil(q * lags.length) - 1)]! / 1000;
  return { maxLagMs: at(1), meanLagMs: sum / lags.length / 1000, p99LagMs: at(0.99) };
}
