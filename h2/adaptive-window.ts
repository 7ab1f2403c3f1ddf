// Adaptive HTTP/2 flow control: BDP estimation with PING in the manner of hyper's adaptive_window
// (hyper src/proto/h2/ping.rs), as pure logic over caller-supplied time (ms) and a running total of bytes
// received on the session. proxy/src/flow/attach.ts feeds it from a node:http2 session; h2/test/adaptive-window.test.ts
// feeds it fake numbers. Moved here from proxy/src/flow/ (issue 15 step 2); H2Connection does not drive it yet.
// Its MAX_WINDOW (16 MiB, the cap of growth) is not frames.ts's MAX_WINDOW (2^31-1, the protocol's limit).
//
// One PING is in flight at a time. The bytes received between sending it and its ACK are one sample of the
// bandwidth-delay product. When a sample reaches GROW_AT (1/3) of a window and the sample's bandwidth is the
// highest seen, that window doubles (hyper's rule is 2/3, but Node sends WINDOW_UPDATE once half the window
// is consumed, so a sample never gets near 2/3 and growth would stall). When the RTT jumps (a sample's RTT
// above RTT_JUMP times the smoothed RTT), the bandwidth baseline is reset: at the same bandwidth a longer
// RTT never sets a new maximum and would otherwise never grow the window. Windows never shrink and stop at
// MAX_WINDOW (16 MiB, gRPC's bdpLimit), unless the fixed starting point was already larger.

export const MAX_WINDOW = 16 * 2 ** 20;
export const GROW_AT = 1 / 3;
export const RTT_JUMP = 2;
/** PING interval bounds: never closer than the floor (no PING per DATA frame), never rarer than the ceiling. */
export const MIN_INTERVAL_MS = 10;
export const MAX_INTERVAL_MS = 500;

export interface AdaptiveOptions {
  /** The fixed windows are the starting point. */
  streamWindow: number;
  connWindow: number;
  maxWindow?: number;
  minIntervalMs?: number;
  maxIntervalMs?: number;
}

export interface Sample {
  bytes: number;
  rttMs: number;
  /** The RTT jumped and the bandwidth baseline was reset before judging this sample. */
  rttJump: boolean;
  streamGrew: boolean;
  connGrew: boolean;
}

export class AdaptiveWindow {
  private stream: number;
  private conn: number;
  private readonly cap: { stream: number; conn: number };
  private readonly minInterval: number;
  private readonly maxInterval: number;
  private interval: number;
  private ping: { sentAt: number; bytes: number } | undefined;
  private lastPingAt = -Infinity;
  private lastSeenBytes = 0;
  private srtt: number | undefined;
  private maxBandwidth = 0;

  constructor(opts: AdaptiveOptions) {
    const max = opts.maxWindow ?? MAX_WINDOW;
    this.stream = opts.streamWindow;
    this.conn = opts.connWindow;
    // Never shrink: a starting point above the cap stays where it is.
    this.cap = { stream: Math.max(max, opts.streamWindow), conn: Math.max(max, opts.connWindow) };
    this.minInterval = opts.minIntervalMs ?? MIN_INTERVAL_MS;
    this.maxInterval = Math.max(this.minInterval, opts.maxIntervalMs ?? MAX_INTERVAL_MS);
    this.interval = this.minInterval;
  }

  get streamWindow(): number {
    return this.stream;
  }

  get connWindow(): number {
    return this.conn;
  }

  get pingInFlight(): boolean {
    return this.ping !== undefined;
  }

  /** How long to wait before asking shouldPing again: the floor after growth, backing off to the ceiling. */
  get intervalMs(): number {
    return this.interval;
  }

  get smoothedRttMs(): number | undefined {
    return this.srtt;
  }

  /** True when no PING is in flight, the interval has passed since the last one and bytes arrived since
   *  the last look (an idle session is not pinged). */
  shouldPing(now: number, totalBytes: number): boolean {
    const flowing = totalBytes > this.lastSeenBytes;
    this.lastSeenBytes = Math.max(this.lastSeenBytes, totalBytes);
    return !this.ping && flowing && now - this.lastPingAt >= this.interval;
  }

  pingSent(now: number, totalBytes: number): void {
    if (this.ping) throw new Error('a BDP PING is already in flight');
    this.ping = { sentAt: now, bytes: totalBytes };
    this.lastPingAt = now;
  }

  /** The PING failed (session closing): no sample, the next one may start. */
  pingFailed(): void {
    this.ping = undefined;
  }

  pingAcked(now: number, totalBytes: number): Sample | undefined {
    const ping = this.ping;
    if (!ping) return undefined;
    this.ping = undefined;
    this.lastSeenBytes = Math.max(this.lastSeenBytes, totalBytes);
    const bytes = Math.max(0, totalBytes - ping.bytes);
    const rttMs = Math.max(now - ping.sentAt, 0.001);
    let rttJump = false;
    if (this.srtt === undefined) this.srtt = rttMs;
    else if (rttMs > RTT_JUMP * this.srtt) {
      rttJump = true;
      this.srtt = rttMs;
      this.maxBandwidth = 0;
    } else this.srtt += (rttMs - this.srtt) / 8; // hyper's smoothing
    const sample: Sample = { bytes, rttMs, rttJump, streamGrew: false, connGrew: false };

    const bandwidth = bytes / rttMs;
    if (bandwidth >= this.maxBandwidth) {
      this.maxBandwidth = bandwidth;
      if (bytes >= this.stream * GROW_AT && this.stream < this.cap.stream) {
        this.stream = Math.min(this.stream * 2, this.cap.stream);
        sample.streamGrew = true;
      }
      if (bytes >= this.conn * GROW_AT && this.conn < this.cap.conn) {
        this.conn = Math.min(this.conn * 2, this.cap.conn);
        sample.connGrew = true;
      }
    }
    // One stream may use the whole connection window: keep the connection window at least the stream's.
    if (this.conn < this.stream) {
      this.conn = this.stream;
      sample.connGrew = true;
    }
    const grew = sample.streamGrew || sample.connGrew;
    this.interval = grew || rttJump ? this.minInterval : Math.min(this.interval * 2, this.maxInterval);
    return sample;
  }
}
