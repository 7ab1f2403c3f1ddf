// The bytes one downstream session can make the proxy hold: every stream may have a full stream window of
// request body received and not yet read (an upstream that does not read, seed 000). Node returns the
// connection window to the peer as soon as bytes arrive, not when they are read, so --conn-window bounds
// nothing here: the bound is stream window × open streams, and --max-session-buffered-bytes caps it.
// Pure arithmetic; guard.ts applies it to a session.

/** SETTINGS_MAX_CONCURRENT_STREAMS to advertise: the configured limit, lowered so that the fixed stream
 *  window times it fits the budget (at least 1). A budget of 0 is no budget. */
export function advertisedConcurrency(maxConcurrentStreams: number, streamWindow: number, budget: number): number {
  if (budget === 0 || streamWindow === 0) return maxConcurrentStreams;
  return Math.max(1, Math.min(maxConcurrentStreams, Math.floor(budget / streamWindow)));
}

/** Whether a session with `openStreams` streams (the new one included) stays within the budget at the
 *  current stream window. A session's first stream is always admitted: refusing every stream would be a
 *  denial of service of our own. */
export function admits(openStreams: number, streamWindow: number, budget: number): boolean {
  return budget === 0 || openStreams <= 1 || openStreams * streamWindow <= budget;
}
