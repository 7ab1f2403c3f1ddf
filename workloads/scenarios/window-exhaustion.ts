// Seed 000, linkerd's incident, on the control-plane connection: the proxy resolves blue (with a profile) and
// green; blue gets no traffic, so its profile updates are never read; they are flooded; then green's pods roll.
// With an h2-crate client (linkerd's) the unread stream holds the 65 535-byte connection window and green's
// update never arrives. Headline: ms from the roll until requests reach green's new pods (the window's length if
// never). Run it with the proxy's control-plane connection window (axis controlConnWindow) at 65 535 and 16 MiB.
import { eventNamed, firstBucket } from './trace.js';
import type { ScenarioDef } from './types.js';

const ROLL = 'roll green';
const FLOOD = 'flood blue profile';

export const windowExhaustion: ScenarioDef = {
  name: 'window-exhaustion',
  source: "seed 000 (linkerd2-proxy): a stalled profile stream exhausted the control-plane connection window, endpoint updates stopped",
  summary: "resolve blue (profile, no traffic) and green; flood blue's profile; roll green's pods; headline: ms until green's new pods get requests",
  protocols: ['h2', 'grpc'],
  setup: () => ({
    controlPlane: { service: 'green', idleServices: ['blue'], profiles: ['blue'] },
    traceMs: 50,
    timeline: [
      { atMs: 200, name: FLOOD, action: { kind: 'flood', service: 'blue', rate: 2000, forMs: 1500, what: 'profile' } },
      { atMs: 1000, name: ROLL, action: { kind: 'roll', service: 'green' } },
    ],
  }),
  outcome: (o) => {
    const roll = eventNamed(o, ROLL);
    const fresh = new Set(roll?.newEndpoints ?? []);
    const reached = roll ? firstBucket(o.trace, roll.appliedMs, (b) => Object.keys(b.endpoints).some((e) => fresh.has(e))) : undefined;
    const ms = roll && reached ? Math.max(0, reached.t - roll.appliedMs) : o.durationMs;
    return {
      // Never reached: the window's length, marked as a bound (reports print it as ">= N ms, never in the window").
      headline: { name: 'new pods reached after', value: ms, unit: 'ms', better: 'lower', ...(reached === undefined && { censored: true }) },
      reached: reached !== undefined,
      rolledAtMs: roll?.appliedMs,
      proxyAppliedAfterMs: roll?.proxyAppliedMs !== undefined ? roll.proxyAppliedMs - roll.appliedMs : undefined,
    };
  },
};
