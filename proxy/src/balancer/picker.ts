// What every balancing policy is: a choice of one endpoint among the usable ones (never an empty list).
import type { EndpointState } from './endpoint-state.js';

export type Picker = (candidates: readonly EndpointState[]) => EndpointState;

/** A uniform random number in [0, 1), Math.random by default; tests inject a sequence. */
export type Rng = () => number;
