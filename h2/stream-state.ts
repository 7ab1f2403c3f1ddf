// The stream state machine of RFC 9113 section 5.1, as a pure table, without the reserved states (our
// endpoints never enable server push, so no stream is ever reserved). The connection asks `next` on every
// HEADERS, END_STREAM and RST_STREAM, sent or received; `undefined` means the event is illegal in that state,
// and the connection decides which error that is (it depends on the frame: 5.1 and 6.x).

export type StreamState = 'idle' | 'open' | 'half-closed-local' | 'half-closed-remote' | 'closed';

/** `send-headers` / `recv-headers`: the HEADERS that opens a stream; `*-end`: END_STREAM (on DATA, HEADERS or trailers); `reset`: RST_STREAM either way. */
export type StreamEvent = 'send-headers' | 'recv-headers' | 'send-end' | 'recv-end' | 'reset';

const TABLE: Readonly<Record<StreamState, Partial<Record<StreamEvent, StreamState>>>> = {
  idle: { 'send-headers': 'open', 'recv-headers': 'open' },
  open: { 'send-end': 'half-closed-local', 'recv-end': 'half-closed-remote', reset: 'closed' },
  'half-closed-local': { 'recv-end': 'closed', reset: 'closed' },
  'half-closed-remote': { 'send-end': 'closed', reset: 'closed' },
  closed: {},
};

/** The state after `event`, or undefined when RFC 9113 5.1 does not allow it. */
export function nextState(state: StreamState, event: StreamEvent): StreamState | undefined {
  // The per-request transitions answered without the two keyed lookups (a few % of the in-memory pair's
  // profile); the table stays the definition, and these agree with it (connection.test.ts's state test).
  if (state === 'open') {
    if (event === 'send-end') return 'half-closed-local';
    if (event === 'recv-end') return 'half-closed-remote';
  } else if (state === 'idle' && (event === 'send-headers' || event === 'recv-headers')) return 'open';
  return TABLE[state][event];
}

/** Whether the peer may still send DATA (or trailers) on a stream in this state. */
export function canReceive(state: StreamState): boolean {
  return state === 'open' || state === 'half-closed-local';
}

/** Whether we may still send DATA (or trailers) on a stream in this state. */
export function canSend(state: StreamState): boolean {
  return state === 'open' || state === 'half-closed-remote';
}
