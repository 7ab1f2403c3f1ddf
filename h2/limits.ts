// The flood bounds of a connection facing hostile peers, with their defaults and sources (h2/README.md,
// "Bounds"), and the two counters they need: a token bucket (stream resets per second) and a consecutive
// counter (empty frames).

export interface Limits {
  /** SETTINGS entries per SETTINGS frame (nghttp2 NGHTTP2_DEFAULT_MAX_SETTINGS, 32). */
  maxSettingsEntries: number;
  /** Control frames (PING ACK, SETTINGS ACK, RST_STREAM) queued and not yet written (nghttp2 max_outbound_ack, Envoy max_outbound_control_frames: 1000). */
  maxOutboundControlFrames: number;
  /** Frames of any type queued and not yet written (Envoy max_outbound_frames, 10 000). */
  maxOutboundFrames: number;
  /** RST_STREAM received: token bucket of this burst... */
  resetBurst: number;
  /** ...refilled at this many tokens per second (nghttp2's stream reset rate limit: 1000 and 33). */
  resetRatePerSecond: number;
  /** Consecutive DATA / HEADERS / CONTINUATION frames with an empty payload and no END_STREAM (Envoy max_consecutive_inbound_frames_with_empty_payload, 1). */
  maxConsecutiveEmptyFrames: number;
  /** PRIORITY frames allowed per stream the peer opened, plus one stream's worth (Envoy max_inbound_priority_frames_per_stream, 100). */
  maxPriorityPerStream: number;
  /** WINDOW_UPDATE frames allowed per DATA frame we sent (Envoy max_inbound_window_update_frames_per_data_frame_sent, 10). */
  maxWindowUpdatesPerDataSent: number;
  /** DATA bytes queued for the peer's flow-control windows, per connection; past it the stream that would pass it is reset ENHANCE_YOUR_CALM (Envoy per_connection_buffer_limit_bytes, 1 MiB). */
  maxBufferedBytes: number;
  /** CONTINUATION frames per header block (nghttp2 NGHTTP2_DEFAULT_MAX_CONTINUATIONS, 8). */
  maxContinuations: number;
  /** Encoded octets per header block (ours, 64 KiB). */
  maxHeaderBlockBytes: number;
  /** Timers, run by H2Connection.tick(): our SETTINGS unacknowledged this long is a SETTINGS_TIMEOUT (RFC 9113 6.5.3; ours, 10 s). */
  settingsTimeoutMs: number;
  /** The graceful GOAWAY's PING unanswered this long: the second GOAWAY goes anyway (ours, 2 s). */
  goawayPingTimeoutMs: number;
  /** A stream with no frame either way this long is reset CANCEL (Envoy's stream_idle_timeout, 5 min, from memory); Infinity: never. */
  streamIdleTimeoutMs: number;
  /** No stream open this long: a graceful GOAWAY (Envoy's idle_timeout default, 1 hour). */
  connectionIdleTimeoutMs: number;
  /** Draining (a GOAWAY sent or received) this long with streams left: they are reset and the connection closed (Envoy's drain_timeout, 5 s, from memory). */
  drainTimeoutMs: number;
  /** Peer mistakes that cost a stream, not the connection (each RST_STREAM we answer its input with): a token
   *  bucket of this burst... (nghttp2's glitch limit: 10000) */
  glitchBurst: number;
  /** ...refilled at this many per second (nghttp2: 330); empty: GOAWAY ENHANCE_YOUR_CALM. */
  glitchRatePerSecond: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = {
  maxSettingsEntries: 32,
  maxOutboundControlFrames: 1000,
  maxOutboundFrames: 10_000,
  resetBurst: 1000,
  resetRatePerSecond: 33,
  maxConsecutiveEmptyFrames: 1,
  maxPriorityPerStream: 100,
  maxWindowUpdatesPerDataSent: 10,
  maxBufferedBytes: 1 << 20,
  maxContinuations: 8,
  maxHeaderBlockBytes: 65_536,
  settingsTimeoutMs: 10_000,
  goawayPingTimeoutMs: 2_000,
  streamIdleTimeoutMs: 300_000,
  connectionIdleTimeoutMs: 3_600_000,
  drainTimeoutMs: 5_000,
  glitchBurst: 10_000,
  glitchRatePerSecond: 330,
};

/** A token bucket over a caller-supplied clock (ms): `take` is false once the tokens are gone. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly burst: number,
    private readonly ratePerSecond: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  take(now: number): boolean {
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
