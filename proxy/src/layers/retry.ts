// Retry layer: sends a request again when an attempt failed before the response headers in a way that is safe
// to repeat, after a jittered backoff and only while the retry budget allows. It sits above the balancer, as in
// linkerd, so every attempt is balanced anew: after a refused connection the endpoint is failed and the retry
// goes to another one. A request body is replayable up to --retry-buffer-bytes (retry/replay-body.ts, or the wire
// body's own copy, wire/replay.ts, so each attempt is still forwarded stream to stream).
import { CancelledError, StreamResetError, UpstreamError, type UpstreamFailure } from '../errors.js';
import type { Config } from '../flags.js';
import { H2_CODE } from '../h2-codes.js';
import type { ProxyMetrics } from '../metrics.js';
import { jitteredBackoff } from '../retry/backoff.js';
import { RetryBudget } from '../retry/budget.js';
import { ReplayBody } from '../retry/replay-body.js';
import type { CancelSignal } from '../cancel.js';
import { callService, isSelfReplaying, type BodyReplay, type Layer, type ProxyRequest, type ProxyResponse } from '../service.js';

export type RetrySettings = Pick<
  Config,
  | 'retries'
  | 'retryBudgetRatio'
  | 'retryBudgetMinPerS'
  | 'retryBudgetTtl'
  | 'retryBackoffBase'
  | 'retryBackoffMax'
  | 'retryBufferBytes'
  | 'retryableRoutes'
>;

export interface RetryLayerConfig {
  settings: RetrySettings;
  metrics: ProxyMetrics;
  /** Injected by tests: the budget's clock (ms), the backoff's randomness, and the wait between attempts. */
  clock?: () => number;
  rng?: () => number;
  sleep?: (ms: number, signal: CancelSignal) => Promise<void>;
}

/** Failures where the upstream never saw the request: no connection was made, or (GOAWAY) no stream opened. */
const NOT_SENT: ReadonlySet<UpstreamFailure> = new Set(['connect-refused', 'connect-timeout', 'dns', 'goaway']);
/** The connection broke with the request possibly processed: repeat it only where repeating is harmless. */
const LOST: ReadonlySet<UpstreamFailure> = new Set(['connection-reset', 'connection-closed']);
/** RFC 9110 9.2.1 safe methods: repeating them changes nothing on the server. */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export interface RetryContext {
  /** A safe method, or a route marked retryable (--retryable-routes, as a linkerd profile's isRetryable). */
  idempotent: boolean;
  /** The body can be sent again in full (none, or all of it still buffered). */
  replayable: boolean;
}

/** The reason `err` may be retried (the retries_total label), or undefined when it must not be. */
export function retryReason(err: unknown, { idempotent, replayable }: RetryContext): string | undefined {
  if (!replayable || err instanceof CancelledError) return undefined;
  if (err instanceof UpstreamError) {
    if (NOT_SENT.has(err.reason) || (idempotent && LOST.has(err.reason))) return err.reason;
    return undefined;
  }
  // RFC 9113 8.7: REFUSED_STREAM says the request was not processed, so it is safe whatever the method.
  if (err instanceof StreamResetError && (idempotent || err.code === H2_CODE.REFUSED_STREAM)) return err.reason;
  return undefined;
}

export function isIdempotent(req: Pick<ProxyRequest, 'method' | 'path'>, retryableRoutes: readonly string[]): boolean {
  return SAFE_METHODS.has(req.method) || retryableRoutes.some((prefix) => req.path.startsWith(prefix));
}

export function layer({ settings, metrics, clock, rng, sleep = abortableSleep }: RetryLayerConfig): Layer {
  if (settings.retries === 0) return (inner) => inner;
  // One budget for the proxy: it has one service (linkerd keeps one per destination).
  const budget = new RetryBudget({
    ratio: settings.retryBudgetRatio,
    minPerSecond: settings.retryBudgetMinPerS,
    ttlMs: settings.retryBudgetTtl,
    ...(clock ? { clock } : {}),
  });
  const backoff = jitteredBackoff({ baseMs: settings.retryBackoffBase, maxMs: settings.retryBackoffMax, ...(rng ? { rng } : {}) });

  // Promise chains rather than an async loop: a request that succeeds at once (nearly all) costs one `then`,
  // and what is retryable is only worked out once an attempt failed.
  return (inner) => (req) => {
    budget.deposit();
    const replay = req.endStream ? undefined : replayOf(req.body, settings.retryBufferBytes);
    const attempt = (): Promise<ProxyResponse> => callService(inner, replay ? { ...req, body: replay.attempt() } : req);
    const answered = (res: ProxyResponse): ProxyResponse => {
      replay?.release(); // the response is on its way: no attempt follows, the copy is not needed
      return res;
    };
    const afterFailure =
      (retries: number) =>
      (err: unknown): Promise<ProxyResponse> => {
        // A profile route marked retryable (layers/route.ts) is retried as a safe method is.
        const idempotent = isIdempotent(req, settings.retryableRoutes) || (req.route?.retryable ?? false);
        const reason = retryReason(err, { idempotent, replayable: replay?.replayable ?? true });
        const giveUp = (): Promise<never> => {
          replay?.release();
          return Promise.reject(err);
        };
        if (reason === undefined || retries >= settings.retries || req.signal.aborted) return giveUp();
        if (!budget.withdraw()) {
          metrics.retryBudgetExhausted.inc();
          return giveUp();
        }
        metrics.retries.inc({ reason });
        return sleep(backoff(retries + 1), req.signal).then(() => {
          if (req.signal.aborted) {
            replay?.release();
            throw new CancelledError();
          }
          return attempt().then(answered, afterFailure(retries + 1));
        });
      };
    return attempt().then(answered, afterFailure(0));
  };
}

/** The body's own replay (the wire engine's: each attempt forwarded stream to stream), else a copy kept here. */
function replayOf(body: ProxyRequest['body'], limit: number): BodyReplay {
  return (isSelfReplaying(body) ? body.replay(limit) : undefined) ?? new ReplayBody(body, limit);
}

function abortableSleep(ms: number, signal: CancelSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
