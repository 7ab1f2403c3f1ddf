// Seed 000's mechanism on a downstream connection: the client (the generator, with an h2-crate-like strict
// receiver) stops reading one stream, which holds what it was sent against the connection window. With the
// client's connection window at 65 535 every other stream on that connection starves; at 16 MiB they flow.
// Headline: the share of the other streams' requests that succeeded. Axis: clientConnWindow.
import { successShare } from './trace.js';
import type { ScenarioDef } from './types.js';

export const windowExhaustionClient: ScenarioDef = {
  name: 'window-exhaustion-client',
  source: 'seed 000 (linkerd2-proxy): one unread stream and a 64 KiB connection window block every stream of the connection',
  summary: 'the generator stalls one stream of its connection (strict receiver); headline: share of the other requests that succeed',
  protocols: ['h2'],
  // Responses larger than the 64 KiB window, so the stalled stream alone can hold all of it.
  defaults: { responseBytes: 131072, connections: 1 },
  setup: (p) => ({
    client: { receiver: 'strict', stallStreams: 1, connections: 1, connWindow: Number(p['clientConnWindow']) },
    traceMs: 100,
  }),
  outcome: (o) => ({
    headline: { name: 'requests succeeding', value: successShare(o) * 100, unit: '%', better: 'higher' },
    blocked: successShare(o) < 0.5,
  }),
};
