// The steady workload: one request, one response of responseBytes. Headline: goodput.
import type { ScenarioDef } from './types.js';

export const unary: ScenarioDef = {
  name: 'unary',
  source: 'seed 004 (the bench plan): steady unary requests, the baseline of every sweep',
  summary: 'unary requests of requestBytes up and responseBytes down; goodput, latency and RST rate as measured',
  protocols: ['h1', 'h2', 'grpc'],
  setup: () => ({}),
  outcome: (o) => ({ headline: { name: 'goodput', value: o.rps, unit: 'req/s', better: 'higher' } }),
};
