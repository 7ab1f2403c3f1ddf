// Round robin over a fixed list of endpoint services: each request goes to the next endpoint in turn.
// It ignores readiness and load; p2c over PeakEWMA (the design's default) replaces it as the default later.
import { UpstreamError } from '../errors.js';
import type { Service } from '../service.js';

export function roundRobin(endpoints: readonly Service[]): Service {
  if (endpoints.length === 0) return async () => Promise.reject(new UpstreamError('no-endpoints'));
  let next = 0;
  return (req) => {
    const endpoint = endpoints[next]!;
    next = (next + 1) % endpoints.length;
    return endpoint(req);
  };
}
