// Queue layer: the bounded queue in front of the balancer, and load shedding. While an endpoint is ready,
// requests pass straight through. While none is, they wait here (their bodies unread) instead of being sent
// to endpoints known to be down; they go on once one is ready. A full queue sheds the newcomer at once, and
// when the fail-fast gate (fail-fast.ts) fires, everything queued and new is answered at once until an
// endpoint is ready again. Both answers are 503 + x-sluice-error (gRPC: UNAVAILABLE), see unavailableResponse:
// 503 is "service unavailable, try elsewhere", the usual meaning of shedding (linkerd answers 504 in fail-fast).
import { Readable } from 'node:stream';
import { CancelledError } from '../errors.js';
import type { ProxyMetrics } from '../metrics.js';
import type { Layer, ProxyRequest, ProxyResponse } from '../service.js';
import type { GateState } from './fail-fast.js';
import { ERROR_HEADER, errorResponse } from './rescue.js';

/** The metric's label (sluice_proxy_shed_total{reason}). */
export type ShedReason = 'fail-fast' | 'queue-full';
/** What the client reads in x-sluice-error: a full queue is load shedding, as linkerd calls it. */
export const SHED_ERROR: Record<ShedReason, string> = { 'fail-fast': 'fail-fast', 'queue-full': 'load-shed' };

/** The fail-fast state machine as the queue reads it. */
export interface Gate {
  readonly state: GateState;
  onChange(listener: (state: GateState) => void): () => void;
}

export interface QueueLayerConfig {
  gate: Gate;
  /** Requests held at most while no endpoint is ready (--queue-capacity); 0 sheds at once. */
  capacity: number;
  metrics: ProxyMetrics;
}

interface Waiter {
  req: ProxyRequest;
  resolve(res: ProxyResponse): void;
  reject(err: unknown): void;
  onAbort(): void;
}

// gRPC clients read the status, not the HTTP code: grpc-status 14 is UNAVAILABLE, which they may retry.
const GRPC_UNAVAILABLE = '14';
const GRPC_MESSAGE: Record<ShedReason, string> = {
  'fail-fast': 'no ready endpoint (fail-fast)',
  'queue-full': 'request queue full (load-shed)',
};

export function layer({ gate, capacity, metrics }: QueueLayerConfig): Layer {
  return (inner) => {
    // A Set keeps arrival order and lets a cancelled request leave in O(1), even with 10 000 queued.
    const waiting = new Set<Waiter>();
    const take = (w: Waiter): void => {
      waiting.delete(w);
      w.req.signal.removeEventListener('abort', w.onAbort);
      metrics.queue.queueLength.set(waiting.size);
    };
    const shed = (req: ProxyRequest, reason: ShedReason): ProxyResponse => {
      metrics.queue.shed.inc({ reason });
      return unavailableResponse(req, reason);
    };
    const onState = (state: GateState): void => {
      metrics.queue.failFast(state === 'failing');
      if (state === 'waiting') return;
      for (const w of [...waiting]) {
        if (gate.state !== state) break; // changed again while dispatching: the rest waits for the next change
        take(w);
        if (state === 'failing') w.resolve(shed(w.req, 'fail-fast'));
        else Promise.resolve(w.req).then(inner).then(w.resolve, w.reject);
      }
    };
    gate.onChange(onState);
    metrics.queue.failFast(gate.state === 'failing');

    return (req) => {
      switch (gate.state) {
        case 'open':
          return inner(req);
        case 'failing':
          return Promise.resolve(shed(req, 'fail-fast'));
        case 'waiting':
          if (req.signal.aborted) return Promise.reject(new CancelledError());
          if (waiting.size >= capacity) return Promise.resolve(shed(req, 'queue-full'));
          return new Promise<ProxyResponse>((resolve, reject) => {
            const w: Waiter = {
              req,
              resolve,
              reject,
              onAbort: () => {
                take(w);
                reject(new CancelledError());
              },
            };
            req.signal.addEventListener('abort', w.onAbort, { once: true });
            waiting.add(w);
            metrics.queue.queueLength.set(waiting.size);
          });
      }
    };
  };
}

/** 503 + `x-sluice-error: fail-fast | load-shed`; to a gRPC client HTTP 200 with grpc-status 14 (UNAVAILABLE) in
 *  trailers-only form (END_STREAM on the headers), which is how gRPC servers answer an error without a body. */
export function unavailableResponse(req: ProxyRequest, reason: ShedReason): ProxyResponse {
  const type = req.headers['content-type'];
  if (!(typeof type === 'string' && type.startsWith('application/grpc'))) return errorResponse(503, SHED_ERROR[reason]);
  return {
    status: 200,
    headers: {
      'content-type': 'application/grpc',
      'grpc-status': GRPC_UNAVAILABLE,
      'grpc-message': GRPC_MESSAGE[reason],
      [ERROR_HEADER]: SHED_ERROR[reason],
    },
    body: Readable.from([]),
    trailers: Promise.resolve(undefined),
    endStream: true,
  };
}
