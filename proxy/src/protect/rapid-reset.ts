// Rapid reset (CVE-2023-44487) detection for one downstream session, as pure logic over a caller-supplied
// clock. A client that opens a stream and resets it at once costs us an upstream request for nothing; one
// that does so in a loop turns the proxy into an amplifier. Each RST_STREAM the client sends takes a token
// from a bucket of `maxPerSecond` tokens refilled at `maxPerSecond` a second: a burst of that many resets, or
// that many a second for ever, is fine; one more and the session is over budget (guard.ts answers with GOAWAY
// ENHANCE_YOUR_CALM, as the h2 crate under linkerd does for its reset limit).
//
// nghttp2 (>= 1.57, inside Node) keeps its own bucket (1000 tokens, 33 a second, GOAWAY INTERNAL_ERROR,
// not configurable in Node 20); this one is configurable, far lower at a burst, and counted in /metrics.

export interface RapidResetOptions {
  /** Resets a second the session may sustain, and the largest burst. */
  maxPerSecond: number;
  /** Milliseconds on any monotonic clock (performance.now in the proxy, a fake in tests). */
  now: () => number;
}

export class RapidResetDetector {
  private tokens: number;
  private last: number;
  private tripped = false;

  constructor(private readonly opts: RapidResetOptions) {
    if (!(opts.maxPerSecond > 0)) throw new RangeError(`maxPerSecond must be above 0, got ${opts.maxPerSecond}`);
    this.tokens = opts.maxPerSecond;
    this.last = opts.now();
  }

  /** Records one reset from the peer; true once the session is over budget (and from then on). */
  reset(): boolean {
    if (this.tripped) return true;
    const now = this.opts.now();
    const { maxPerSecond } = this.opts;
    // Refill for the time since the last reset, never above one burst (a quiet hour earns no credit).
    this.tokens = Math.min(maxPerSecond, this.tokens + ((now - this.last) / 1000) * maxPerSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return false;
    }
    this.tripped = true;
    return true;
  }
}
