// Protection of one downstream (client) HTTP/2 session, applied by downstream/h2.ts:
// - rapid reset: each RST_STREAM the client sends goes to the detector (rapid-reset.ts); over budget, the
//   session gets GOAWAY ENHANCE_YOUR_CALM and is closed at once, its in-flight streams with it (the h2 crate
//   under linkerd answers its reset limit the same way). Other sessions are untouched.
// - buffered bytes: a new stream that would take stream window × open streams past
//   --max-session-buffered-bytes is refused with REFUSED_STREAM (stream-budget.ts), which tells the client
//   nothing was processed and the request may be retried. With fixed windows the lowered
//   SETTINGS_MAX_CONCURRENT_STREAMS already keeps a well-behaved client within it (nghttp2 refuses streams
//   beyond it itself); this catches windows grown by --adaptive and clients that ignore SETTINGS.
import type http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { H2_CODE } from '../h2-codes.js';
import type { ProxyMetrics } from '../metrics.js';
import { RapidResetDetector } from './rapid-reset.js';
import { admits } from './stream-budget.js';

export interface GuardConfig {
  /** 0: no rapid-reset limit. */
  maxResetsPerS: number;
  /** 0: no budget. */
  maxSessionBufferedBytes: number;
  /** The stream window until the session's own SETTINGS say otherwise. */
  streamWindow: number;
  metrics: ProxyMetrics;
  /** For tests: the detector's clock. */
  now?: () => number;
}

export class SessionGuard {
  private openStreams = 0;
  private readonly resets: RapidResetDetector | undefined;
  private closing = false;

  constructor(
    private readonly session: http2.ServerHttp2Session,
    private readonly config: GuardConfig,
  ) {
    const now = config.now ?? (() => performance.now());
    this.resets = config.maxResetsPerS > 0 ? new RapidResetDetector({ maxPerSecond: config.maxResetsPerS, now }) : undefined;
  }

  /** A new stream from the client: false when it was refused (REFUSED_STREAM) and must not be served. */
  admit(stream: http2.ServerHttp2Stream): boolean {
    this.openStreams++;
    stream.once('close', () => this.openStreams--);
    // localSettings follows SETTINGS_INITIAL_WINDOW_SIZE as --adaptive grows it (once acknowledged).
    const window = this.session.localSettings?.initialWindowSize ?? this.config.streamWindow;
    if (admits(this.openStreams, window, this.config.maxSessionBufferedBytes)) return true;
    stream.on('error', () => {});
    this.config.metrics.rst('downstream', 'sent', H2_CODE.REFUSED_STREAM);
    stream.close(H2_CODE.REFUSED_STREAM);
    return false;
  }

  /** The client reset one of its streams (RST_STREAM received). */
  peerReset(): void {
    if (this.closing || !this.resets?.reset()) return;
    this.closing = true;
    const { metrics } = this.config;
    metrics.rapidReset();
    metrics.goaway('downstream', 'sent', H2_CODE.ENHANCE_YOUR_CALM);
    // destroy(err, code) writes GOAWAY with that code, then closes the socket: no grace for a client abusing
    // it. (destroy(undefined, code) would send NO_ERROR: Node defaults the error and takes the code from it.)
    const err = new Error(`rapid reset: more than ${this.config.maxResetsPerS} RST_STREAM a second`);
    if (!this.session.destroyed) this.session.destroy(err, H2_CODE.ENHANCE_YOUR_CALM);
  }
}
