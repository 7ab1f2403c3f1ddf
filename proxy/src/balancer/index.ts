// The balancer: endpoint states plus a policy chosen by name (--balancer). It sends each request to an
// endpoint the policy picks among the ready ones, or the pending ones while none is ready. With none ready
// or pending it still tries the failed ones (the request then fails with its real cause, e.g. connect-refused)
// and reports "no ready endpoint" through onReadyChange, which a fail-fast layer can time.
import { UpstreamError } from '../errors.js';
import type { BalancerName } from '../flags.js';
import type { Service } from '../service.js';
import {
  ENDPOINT_STATUSES,
  EndpointState,
  type Backoff,
  type EndpointStateOptions,
  type EndpointStatus,
  type Schedule,
} from './endpoint-state.js';
import { leastRequest } from './least-request.js';
import { p2c } from './p2c.js';
import type { Picker, Rng } from './picker.js';
import { roundRobinPicker } from './round-robin.js';

export { EndpointState, type EndpointStatus } from './endpoint-state.js';
export type { Picker, Rng } from './picker.js';

export function pickerFor(name: BalancerName, rng: Rng = Math.random): Picker {
  switch (name) {
    case 'p2c':
      return p2c(rng);
    case 'least-request':
      return leastRequest(rng);
    case 'round-robin':
      return roundRobinPicker();
  }
}

export interface BalancerEndpoint {
  name: string;
  service: Service;
  probe: () => Promise<void>;
}

export interface BalancerOptions {
  policy: BalancerName;
  endpoints: readonly BalancerEndpoint[];
  /** PeakEWMA time constant and first estimate, ms. */
  decayMs: number;
  defaultRttMs: number;
  rng?: Rng;
  clock?: () => number;
  schedule?: Schedule;
  backoff?: Backoff;
}

export interface Balancer {
  /** The innermost service of the stack. */
  service: Service;
  endpoints: readonly EndpointState[];
  /** True while at least one endpoint is ready. */
  hasReady(): boolean;
  /** Called with false when the last ready endpoint stops being ready, and with true when one is again. */
  onReadyChange(listener: (ready: boolean) => void): () => void;
  counts(): Record<EndpointStatus, number>;
  /** Resolves once every endpoint's first probe has finished, or after `timeoutMs`. */
  settled(timeoutMs: number): Promise<void>;
  close(): void;
}

export function newBalancer(options: BalancerOptions): Balancer {
  const pick = pickerFor(options.policy, options.rng);
  const listeners = new Set<(ready: boolean) => void>();
  let wasReady = false;
  const onStatus = (): void => {
    const ready = endpoints.some((e) => e.status === 'ready');
    if (ready === wasReady) return;
    wasReady = ready;
    for (const listener of listeners) listener(ready);
  };
  const endpoints: EndpointState[] = options.endpoints.map((e) => {
    const stateOptions: EndpointStateOptions = {
      ...e,
      decayMs: options.decayMs,
      defaultRttMs: options.defaultRttMs,
      onStatus,
    };
    if (options.clock) stateOptions.clock = options.clock;
    if (options.schedule) stateOptions.schedule = options.schedule;
    if (options.backoff) stateOptions.backoff = options.backoff;
    return new EndpointState(stateOptions);
  });

  const usable = (): readonly EndpointState[] => {
    const ready = endpoints.filter((e) => e.status === 'ready');
    if (ready.length > 0) return ready;
    const pending = endpoints.filter((e) => e.status === 'pending');
    return pending.length > 0 ? pending : endpoints;
  };

  return {
    service: (req) => {
      if (endpoints.length === 0) return Promise.reject(new UpstreamError('no-endpoints'));
      return pick(usable()).call(req);
    },
    endpoints,
    hasReady: () => wasReady,
    onReadyChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    counts: () => {
      const counts = Object.fromEntries(ENDPOINT_STATUSES.map((s) => [s, 0])) as Record<EndpointStatus, number>;
      for (const e of endpoints) counts[e.status]++;
      return counts;
    },
    settled: async (timeoutMs) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      });
      await Promise.race([Promise.all(endpoints.map((e) => e.probed)), timeout]);
      clearTimeout(timer);
    },
    close: () => {
      for (const e of endpoints) e.close();
    },
  };
}
