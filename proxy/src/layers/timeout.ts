// Timeout layer (--request-timeout): bounds a request from its headers to the end of its response, retries and
// their backoff included, as linkerd's route timeout does. Before the response headers the client gets a 504
// with `x-sluice-error: timeout`; after them the response is cut (an h2 client's stream is reset with CANCEL,
// an HTTP/1.1 connection closed). Either way the upstream attempt is cancelled through the request's signal.
import { TimeoutError } from '../errors.js';
import type { ProxyMetrics } from '../metrics.js';
import type { Headers, Layer, ProxyResponse } from '../service.js';
import { errorResponse } from './rescue.js';
import { Cancellation } from '../cancel.js';

export interface TimeoutLayerConfig {
  /** ms; 0: no timeout (for requests whose route sets none). */
  timeoutMs: number;
  metrics: ProxyMetrics;
  /** Profile routes are in use (layers/route.ts): a request's route timeout replaces --request-timeout, as
   *  linkerd's does, so the layer stays even with --request-timeout off. */
  routeTimeouts?: boolean;
}

export function layer({ timeoutMs: defaultMs, metrics, routeTimeouts = false }: TimeoutLayerConfig): Layer {
  if (defaultMs <= 0 && !routeTimeouts) return (inner) => inner;
  return (inner) => (req) => {
    const timeoutMs = req.route?.timeoutMs ?? defaultMs;
    if (timeoutMs <= 0) return inner(req);
    return new Promise<ProxyResponse>((resolve, reject) => {
      // The inner layers see this signal: aborted by the client going away or by the timer.
      const controller = new Cancellation();
      const onClientAbort = (): void => controller.abort();
      if (req.signal.aborted) controller.abort();
      else req.signal.addEventListener('abort', onClientAbort, { once: true });
      let answered = false;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        metrics.timeout('request');
        controller.abort();
        if (answered) return; // after the headers: the aborted upstream fails the response (trailers below)
        answered = true;
        finish();
        resolve(errorResponse(504, 'timeout'));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        req.signal.removeEventListener('abort', onClientAbort);
      };

      inner({ ...req, signal: controller.signal }).then(
        (res) => {
          if (answered) return void res.body.destroy(); // headers raced the 504; the client has its answer
          answered = true;
          const trailers = res.trailers.then(
            (t: Headers | undefined) => {
              finish();
              return t;
            },
            (err: unknown) => {
              finish();
              throw timedOut ? new TimeoutError() : err;
            },
          );
          trailers.catch(() => {}); // observed by whoever reads the response; never an unhandled rejection
          resolve({ ...res, trailers });
        },
        (err: unknown) => {
          finish();
          if (answered) return; // the attempt the timer cancelled; the 504 is already out
          answered = true;
          reject(err);
        },
      );
    });
  };
}
