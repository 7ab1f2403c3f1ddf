// Protection of one downstream (client) HTTP/2 session, applied by downstream/h2.ts (node:http2) and by
// wire/session-stack.ts (the wire engine) through `Guard`:
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

/** What the guard needs of a session, whatever its engine (node:http2: SessionGuard below; proxy/src/wire/). */
export interface GuardedSession {
  /** The stream window in effect now (SETTINGS_INITIAL_WINDOW_SIZE, grown by --adaptive). */
  streamWindow(): number;
  /** Over the reset budget: GOAWAY ENHANCE_YOUR_CALM and close at once, in-flight streams too. */
  calm(err: Error): void;
}

/** Both protections over any session: the caller tells it of streams opening and closing and of peer resets. */
export class Guard {
  private openStreams = 0;
  private readonly resets: RapidResetDetector | undefined;
  private closing = false;

  constructor(
    private readonly session: GuardedSession,
    protected readonly config: GuardConfig,
  ) {
    const now = config.now ?? (() => performance.now());
    this.resets = config.maxResetsPerS > 0 ? new RapidResetDetector({ maxPerSecond: config.maxResetsPerS, now }) : undefined;
  }

  /** A new stream from the client, counted until closed(): false when it passes the budget and must be refused
   *  with REFUSED_STREAM (the caller's, and counting it in metrics too). */
  opened(): boolean {
    this.openStreams++;
    return admits(this.openStreams, this.session.streamWindow(), this.config.maxSessionBufferedBytes);
  }

  closed(): void {
    this.openStreams--;
  }

  /** The client reset one of its streams (RST_STREAM received). */
  peerReset(): void {
    if (this.closing || !this.resets?.reset()) return;
    this.closing = true;
    const { metrics } = this.config;
    metrics.h2.rapidReset();
    metrics.h2.goaway('downstream', 'sent', H2_CODE.ENHANCE_YOUR_CALM);
    this.session.calm(new Error(`rapid reset: more than ${this.config.maxResetsPerS} RST_STREAM a second`));
  }
}

/** The guard of a node:http2 session. */
export class SessionGuard extends Guard {
  constructor(session: http2.ServerHttp2Session, config: GuardConfig) {
    super(
      {
        // localSettings follows SETTINGS_INITIAL_WINDOW_SIZE as --adaptive grows it (once acknowledged).
        streamWindow: () => session.localSettings?.initialWindowSize ?? config.streamWindow,
        // destroy(err, code) writes GOAWAY with that code, then closes the socket: no grace for a client abusing
        // it. (destroy(undefined, code) would send NO_ERROR: Node defaults the error and takes the code from it.)
        calm: (err) => {
          if (!session.destroyed) session.destroy(err, H2_CODE.ENHANCE_YOUR_CALM);
        },
      },
      config,
    );
  }

  /** A new stream from the client: false when it was refused (REFUSED_STREAM) and must not be served. */
  admit(stream: http2.ServerHttp2Stream): boolean {
    const admitted = this.opened();
    stream.once('close', () => this.closed());
    if (admitted) return true;
    stream.on('error', () => {});
    this.config.metrics.h2.rst('downstream', 'sent', H2_CODE.REFUSED_STREAM);
    stream.close(H2_CODE.REFUSED_STREAM);
    return false;
  }
}
