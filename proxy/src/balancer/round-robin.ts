// Round robin: each request goes to the next endpoint in turn, ignoring load. `roundRobinPicker` is the
// policy for `--balancer round-robin` (in turn over the usable endpoints); `roundRobin` balances bare services.
import { UpstreamError } from '../errors.js';
import type { Service } from '../service.js';
import type { EndpointState } from './endpoint-state.js';
import type { Picker } from './picker.js';

export function roundRobin(endpoints: readonly Service[]): Service {
  if (endpoints.length === 0) return async () => Promise.reject(new UpstreamError('no-endpoints'));
  let next = 0;
  return (req) => {
    const endpoint = endpoints[next]!;
    next = (next + 1) % endpoints.length;
    return endpoint(req);
  };
}

export function roundRobinPicker(): Picker {
  let next = 0;
  return (candidates: readonly EndpointState[]): EndpointState => {
    const endpoint = candidates[next % candidates.length]!;
    next = (next + 1) % candidates.length;
    return endpoint;
  };
}
