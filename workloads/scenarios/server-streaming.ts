// One request, a stream of streamMessages messages of responseBytes each (h2 and gRPC), each stamped by the
// backend when written. Headline: messages a second; each message's latency is beside it.
import type { ScenarioDef } from './types.js';

export const serverStreaming: ScenarioDef = {
  name: 'server-streaming',
  source: "seed 002 (linkerd's outbound flow carries gRPC streams) and seed 004: long streams under flow control",
  summary: 'streams of streamMessages messages of responseBytes; headline: messages/s; message latency from the backend stamp',
  protocols: ['h2', 'grpc'],
  setup: () => ({}),
  outcome: (o) => ({
    headline: { name: 'messages', value: o.messagesPerS ?? 0, unit: 'msg/s', better: 'higher' },
    streams: o.rps,
    ...(o.messageLatencyMs ? { messageLatencyMs: o.messageLatencyMs } : {}),
  }),
};
