// Round robin: each request goes to the next endpoint in turn, ignoring load; the policy for
// `--balancer round-robin` (in turn over the usable endpoints).
import type { EndpointState } from './endpoint-state.js';
import type { Picker } from './picker.js';

export function roundRobinPicker(): Picker {
  let next = 0;
  return (candidates: readonly EndpointState[]): EndpointState => {
    const endpoint = candidates[next % candidates.length]!;
    next = (next + 1) % candidates.length;
    return endpoint;
  };
}
