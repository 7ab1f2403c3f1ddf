// Least request: the endpoint with the fewest requests in flight, ties broken at random (so equal endpoints
// share the load instead of the first one taking it all).
import type { EndpointState } from './endpoint-state.js';
import type { Picker, Rng } from './picker.js';

export function leastRequest(rng: Rng = Math.random): Picker {
  return (candidates: readonly EndpointState[]): EndpointState => {
    let fewest = Infinity;
    const tied: EndpointState[] = [];
    for (const endpoint of candidates) {
      if (endpoint.inFlight < fewest) {
        fewest = endpoint.inFlight;
        tied.length = 0;
      }
      if (endpoint.inFlight === fewest) tied.push(endpoint);
    }
    return tied[Math.min(tied.length - 1, Math.floor(rng() * tied.length))]!;
  };
}
