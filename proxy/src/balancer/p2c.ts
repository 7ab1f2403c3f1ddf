// Power of two choices over PeakEWMA, as linkerd2-proxy balances (linkerd/pool/p2c): pick two distinct
// endpoints at random and send the request to the one with the lower cost, RTT estimate × (in-flight + 1).
// Two random choices avoid the herd a global minimum would send to one endpoint, yet shun slow ones.
import type { EndpointState } from './endpoint-state.js';
import type { Picker, Rng } from './picker.js';

/** Two distinct indexes in [0, n) for n >= 2: the second is drawn from the n-1 others. */
export function pickTwo(n: number, rng: Rng): [number, number] {
  const a = Math.min(n - 1, Math.floor(rng() * n));
  let b = Math.min(n - 2, Math.floor(rng() * (n - 1)));
  if (b >= a) b++;
  return [a, b];
}

export function p2c(rng: Rng = Math.random): Picker {
  return (candidates: readonly EndpointState[]): EndpointState => {
    if (candidates.length === 1) return candidates[0]!;
    const [i, j] = pickTwo(candidates.length, rng);
    const a = candidates[i]!;
    const b = candidates[j]!;
    return b.cost() < a.cost() ? b : a;
  };
}
