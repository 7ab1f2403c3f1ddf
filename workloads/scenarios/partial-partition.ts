// Seed 002 (linkerd's outbound flow): a share of the endpoints stops answering (the network drops them: requests
// to them wait to their timeout) while the rest are healthy. p2c over PeakEWMA should route around them within
// a few requests. One endpoint in four goes silent 1 s into the window. Headlines: the success rate; beside it
// P99 and how long requests kept going to the silent endpoint (its last timeout, less the timeout, after the fault).
import { errorCount, eventNamed, lastBucket, successShare } from './trace.js';
import type { ScenarioDef } from './types.js';

export const FAULT = 'endpoint goes silent';
export const CLIENT_TIMEOUT_MS = 1000;

export const partialPartition: ScenarioDef = {
  name: 'partial-partition',
  source: 'seed 002 (linkerd2-proxy): a partial partition; the balancer must route around endpoints that stopped answering',
  summary: 'one endpoint of the set stops answering 1 s into the window; headline: success rate; beside it P99 and time until the balancer stops sending to it',
  protocols: ['h1', 'h2', 'grpc'],
  defaults: { endpoints: 4 },
  setup: () => ({
    backend: { slowEndpoints: 1 },
    client: { timeoutMs: CLIENT_TIMEOUT_MS },
    traceMs: 50,
    timeline: [{ atMs: 1000, name: FAULT, action: { kind: 'faults', faults: { latency: '60s' } } }],
  }),
  outcome: (o) => routedAround(o, CLIENT_TIMEOUT_MS),
};

/** Success rate, P99, and when the failures caused by the faulty endpoints stopped arriving. */
export function routedAround(o: Parameters<ScenarioDef['outcome']>[0], timeoutMs: number, fault = FAULT): ReturnType<ScenarioDef['outcome']> {
  const event = eventNamed(o, fault);
  const last = event ? lastBucket(o.trace, event.appliedMs, Infinity, (b) => errorCount(b) > 0) : undefined;
  // A request that timed out arrived at its timeout: it was sent a timeout earlier.
  const stoppedAfterMs = event && last ? Math.max(0, last.t + o.traceMs - (last.errors['timeout'] ? timeoutMs : 0) - event.appliedMs) : 0;
  const failedAfter = event ? o.trace.filter((b) => b.t >= event.appliedMs).reduce((a, b) => a + errorCount(b), 0) : 0;
  return {
    headline: { name: 'success rate', value: successShare(o) * 100, unit: '%', better: 'higher' },
    p99Ms: o.latencyMs.p99,
    // Until the last request that failed on them was sent (the window's end, when the balancer kept probing them).
    sentToFaultyForMs: stoppedAfterMs,
    failedAfterFault: failedAfter,
    errors: o.errors,
  };
}
