// Seed 000 (linkerd2-proxy): every endpoint of a service disappears (the control plane says NoEndpoints), then
// returns. Without fail-fast, requests queue in front of a balancer with nothing ready and hang; with it, after
// the fail-fast time they are answered 503 at once and the queue is released. Headlines: ms from the loss until
// requests fail fast; beside it the queued requests released, the proxy's memory while exhausted, and ms from
// the return until requests succeed again. Axis: failfastMs.
import { eventNamed, firstBucket, peakMemory } from './trace.js';
import type { ScenarioDef } from './types.js';

const LOST = 'every endpoint removed';
const BACK = 'endpoints return';
const LOST_AT_MS = 500;
const BACK_AT_MS = 3500;

export const balancerExhaustion: ScenarioDef = {
  name: 'balancer-exhaustion',
  source: 'seed 000 (linkerd2-proxy): buffers in front of a balancer with no ready endpoint filled and never drained',
  summary: 'the control plane removes every endpoint, then brings them back; headline: ms until requests fail fast (503) instead of hanging',
  protocols: ['h1', 'h2', 'grpc'],
  setup: () => ({
    controlPlane: { service: 'web' },
    client: { timeoutMs: 10_000 },
    traceMs: 50,
    timeline: [
      { atMs: LOST_AT_MS, name: LOST, action: { kind: 'endpoints', service: 'web', set: 'none' } },
      { atMs: BACK_AT_MS, name: BACK, action: { kind: 'endpoints', service: 'web', set: 'initial' } },
    ],
  }),
  outcome: (o) => {
    const lost = eventNamed(o, LOST);
    const back = eventNamed(o, BACK);
    const failFast = lost ? firstBucket(o.trace, lost.appliedMs, (b) => (b.errors['status:5xx'] ?? 0) + (b.errors['grpc:UNAVAILABLE'] ?? 0) > 0) : undefined;
    const recovered = back ? firstBucket(o.trace, back.appliedMs, (b) => b.ok > 0) : undefined;
    const released = failFast ? (failFast.errors['status:5xx'] ?? 0) + (failFast.errors['grpc:UNAVAILABLE'] ?? 0) : 0;
    return {
      headline: { name: 'fail fast after', value: lost && failFast ? failFast.t - lost.appliedMs : o.durationMs, unit: 'ms', better: 'lower' },
      queuedReleased: released,
      recoveredAfterMs: back && recovered ? recovered.t - back.appliedMs : undefined,
      peakRssWhileExhaustedBytes: lost && back ? peakMemory(o, lost.appliedMs, back.appliedMs) : peakMemory(o),
      hanging: o.errors['timeout'] ?? 0,
    };
  },
};
