// Large bodies both ways: a POST of requestBytes (responseBytes when 0) and a response of responseBytes, where the
// windows of every hop and the link's bandwidth-delay product decide the rate. Headline: the byte rate.
import type { ScenarioDef } from './types.js';

export const largeBody: ScenarioDef = {
  name: 'large-body',
  source: 'seed 004 (the bench plan): flow control matters where bodies are large against the windows',
  summary: 'POST of requestBytes (or responseBytes) and a response of responseBytes; headline: response MB/s',
  protocols: ['h1', 'h2', 'grpc'],
  setup: () => ({}),
  outcome: (o) => ({
    headline: { name: 'response bytes', value: (o.bodyBytesPerS ?? 0) / 1e6, unit: 'MB/s', better: 'higher' },
    goodput: o.rps,
  }),
};
