// Seeds 001 and 003 (Envoy): the upstream closes an idle keep-alive connection just as the proxy reuses it;
// the request written into the closing connection is reset, and unless the proxy reissues it the client gets a
// 502/503. The race needs the network's delay: a 10 ms round trip between the proxy and the upstream (the
// scenario's default link), and requests every 45 ms against a 40 ms upstream idle timeout, so each request
// is written while the upstream's FIN is on its way (written in (deadline - 5 ms, deadline + 5 ms)). The proxy's
// mitigations are the cell's axes: h1PoolIdleTimeoutMs below the upstream's, h1Reissue, h1ReuseGuard. The
// proxy's retry layer would catch a lost race too (a reset GET is retried): it is off here (--retries 0), so
// that each of the three mitigations is seen alone. Headline: client-visible failures per 10 000 requests.
import { failuresPer10k } from './trace.js';
import type { ScenarioDef } from './types.js';

/** The upstream closes a keep-alive connection idle this long. */
export const UPSTREAM_IDLE_MS = 40;
/** Requests come this far apart: the idle time plus about the round trip, so each lands on a closing connection. */
export const REQUEST_EVERY_MS = 45;

export const keepaliveRace: ScenarioDef = {
  name: 'keepalive-race',
  source: 'seeds 001 and 003 (Envoy): an upstream closes an idle keep-alive connection while the proxy reuses it',
  summary: `upstream h1 idle close after ${UPSTREAM_IDLE_MS} ms, a 10 ms upstream link, one request every ${REQUEST_EVERY_MS} ms; headline: client failures per 10 000`,
  protocols: ['h1'],
  defaults: { rttMs: 10, link: 'upstream', endpoints: 1 },
  setup: () => ({
    backend: { idleCloseMs: UPSTREAM_IDLE_MS },
    proxyFlags: ['--retries', '0'],
    client: { rate: 1000 / REQUEST_EVERY_MS, connections: 1 },
    traceMs: 100,
  }),
  outcome: (o) => ({
    headline: { name: 'failures', value: failuresPer10k(o), unit: 'per 10k', better: 'lower' },
    failed: o.requests - o.successes,
    requests: o.requests,
    errors: o.errors,
  }),
};
