// CVE-2023-44487 and the reset budgets the seeds' proxies carry (seed 004's "max concurrent reset streams"): an
// attacker opens streams and resets them at once, as fast as it can, beside a well-behaved client on its own
// connection. The proxy must cut the attacker (GOAWAY ENHANCE_YOUR_CALM) and keep serving the other. Headline:
// the well-behaved client's P99; beside it its failures, the proxy's peak memory and what the attacker got.
import { besideAttacker } from './trace.js';
import type { ScenarioDef } from './types.js';

export const rapidReset: ScenarioDef = {
  name: 'rapid-reset',
  source: 'seed 004 (max concurrent reset streams) and CVE-2023-44487: a client that opens and resets streams without end',
  summary: 'an attacker sends HEADERS + RST_STREAM pairs as fast as it can beside a well-behaved client; headline: the well-behaved P99',
  protocols: ['h2', 'grpc'],
  setup: () => ({
    attacker: { attack: 'rapid-reset', concurrency: 32, connections: 1 },
    traceMs: 100,
  }),
  outcome: besideAttacker,
};
