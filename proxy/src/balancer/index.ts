// The balancer: endpoint states plus a policy chosen by name (--balancer). It sends each request to an
// endpoint the policy picks among the ready ones, or the pending ones while none is ready. With none ready
// or pending it still tries the failed ones (the request then fails with its real cause, e.g. connect-refused)
// and reports "no ready endpoint" through onReadyChange, which a fail-fast layer can time.
// Discovery changes the set at run time (add, remove): a removed endpoint is not picked from that moment on,
// its in-flight requests finish, and only then is it closed (linkerd's pool evicts it the same way).
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
  /** Closes its upstream clients; called once it was removed and its last in-flight request finished. */
  close?: () => void;
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
  /** The current endpoints (the same array, updated in place by add and remove). */
  endpoints: readonly EndpointState[];
  /** Adds an endpoint (probed at once); false if one of that name is already in the set. */
  add(endpoint: BalancerEndpoint): boolean;
  /** Removes an endpoint: never picked again; closed once its in-flight requests finish. False if unknown. */
  remove(name: string): boolean;
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
  // The endpoints a request may go to, kept between status changes rather than filtered per request.
  let usableCache: readonly EndpointState[] | undefined;
  const onStatus = (): void => {
    usableCache = undefined;
    const ready = endpoints.some((e) => e.status === 'ready');
    if (ready === wasReady) return;
    wasReady = ready;
    for (const listener of listeners) listener(ready);
  };
  const closers = new Map<EndpointState, (() => void) | undefined>();
  const make = (e: BalancerEndpoint): EndpointState => {
    const { close, ...rest } = e;
    const stateOptions: EndpointStateOptions = {
      ...rest,
      decayMs: options.decayMs,
      defaultRttMs: options.defaultRttMs,
      onStatus,
    };
    if (options.clock) stateOptions.clock = options.clock;
    if (options.schedule) stateOptions.schedule = options.schedule;
    if (options.backoff) stateOptions.backoff = options.backoff;
    const state = new EndpointState(stateOptions);
    closers.set(state, close);
    return state;
  };
  const endpoints: EndpointState[] = options.endpoints.map(make);

  const usable = (): readonly EndpointState[] => {
    if (usableCache) return usableCache;
    const ready = endpoints.filter((e) => e.status === 'ready');
    const pending = ready.length > 0 ? ready : endpoints.filter((e) => e.status === 'pending');
    return (usableCache = pending.length > 0 ? pending : [...endpoints]);
  };

  return {
    service: (req) => {
      if (endpoints.length === 0) return Promise.reject(new UpstreamError('no-endpoints'));
      return pick(usable()).call(req);
    },
    endpoints,
    add: (endpoint) => {
      if (endpoints.some((e) => e.name === endpoint.name)) return false;
      endpoints.push(make(endpoint));
      onStatus();
      return true;
    },
    remove: (name) => {
      const index = endpoints.findIndex((e) => e.name === name);
      if (index === -1) return false;
      const [state] = endpoints.splice(index, 1) as [EndpointState];
      state.close(); // no more probes: its status no longer matters
      onStatus();
      const close = closers.get(state);
      closers.delete(state);
      void state.whenIdle().then(() => close?.());
      return true;
    },
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
