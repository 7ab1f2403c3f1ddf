// Seed 002 (linkerd's outbound flow): an endpoint's process dies: its connections are reset and new ones refused.
// The balancer must mark it failed and route around it. One endpoint in four goes down 1 s into the window.
// Headlines: the success rate; beside it P99 and how long the failures lasted after the fault.
import { routedAround } from './partial-partition.js';
import type { ScenarioDef } from './types.js';

const DOWN = 'endpoint refuses connections';

export const connectionRefused: ScenarioDef = {
  name: 'connection-refused',
  source: 'seed 002 (linkerd2-proxy): connection refused; the balancer must stop using a dead endpoint',
  summary: 'one endpoint of the set goes down 1 s into the window (resets, then refused connects); headline: success rate',
  protocols: ['h1', 'h2', 'grpc'],
  defaults: { endpoints: 4 },
  setup: () => ({
    backend: { slowEndpoints: 1 },
    client: { timeoutMs: 1000 },
    traceMs: 50,
    timeline: [{ atMs: 1000, name: DOWN, action: { kind: 'faults', faults: { down: true } } }],
  }),
  outcome: (o) => routedAround(o, 1000, DOWN),
};
