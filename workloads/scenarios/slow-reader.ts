// A client that never reads its responses (a strict receiver whose every stream stalls) beside a well-behaved
// one: the proxy must not buffer without bound on its behalf (its per-session buffered-bytes bound, flow
// control), nor slow the other client. Headline: the well-behaved client's P99; beside it the proxy's peak
// memory and what happened to the slow reader's connection.
import { besideAttacker } from './trace.js';
import type { ScenarioDef } from './types.js';

export const slowReader: ScenarioDef = {
  name: 'slow-reader',
  source: "seed 000 (a stream nobody reads) and the proxies' buffer bounds: a client that never reads what it asked for",
  summary: 'an attacker asks for responses and never reads them, beside a well-behaved client; headline: the well-behaved P99',
  protocols: ['h2'],
  setup: () => ({
    // 1 MiB responses it never reads: what the proxy would buffer for it, without a bound.
    attacker: { receiver: 'strict', stallStreams: 2 ** 31 - 1, concurrency: 16, connections: 1, responseBytes: 1 << 20 },
    traceMs: 100,
  }),
  outcome: besideAttacker,
};
