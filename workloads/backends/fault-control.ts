// The running backends' faults as the admin API and the down/up schedule see them: the state of every
// endpoint, its counters, and changes applied to a set of endpoints at once (listeners opened or closed,
// connections dropped) before the answer goes back, so a caller knows the fault is in place.
import type { FaultConfig } from './faults.js';
import type { ConnectionCounts, RequestCounts } from './fault-stats.js';
import { checkShares, type FaultPatch } from './fault-patch.js';
import type { Endpoint } from './endpoint.js';
import type { Gate } from './gate.js';
import { latencyFlag } from './latency.js';

export interface EndpointFaultState {
  index: number;
  port: number;
  /** In the faulty set (the first --slow-endpoints). */
  faulty: boolean;
  /** Whether the port accepts connections now. */
  listening: boolean;
  down: boolean;
  refuse: 'closed' | 'reset' | null;
  resetShare: number;
  failShare: number;
  /** In --latency form. */
  latency: string;
  stallRead: boolean;
}

export interface FaultState {
  protocol: string;
  /** Indexes of the faulty set: what a POST without `endpoints` changes. */
  faultySet: number[];
  /** The faults only flags set (the admin API does not change them). */
  fixed: Pick<FaultConfig, 'resetCode' | 'failStatus' | 'failGrpc' | 'idleCloseMs' | 'earlyStatus' | 'earlyAfterBytes' | 'downAtMs' | 'upAtMs'>;
  endpoints: EndpointFaultState[];
}

export interface EndpointStatsSnapshot {
  index: number;
  port: number;
  connections: ConnectionCounts & { open: number };
  requests: RequestCounts;
}

export interface FaultControl {
  state(): FaultState;
  stats(): { endpoints: EndpointStatsSnapshot[] };
  /** Applies a validated patch; rejects with a FaultPatchError (nothing changed) or a listen error. */
  apply(patch: FaultPatch): Promise<FaultState>;
}

export function faultControl(protocol: string, faults: FaultConfig, endpoints: Endpoint[], gates: Gate[]): FaultControl {
  const faultySet = endpoints.filter((e) => e.faulty).map((e) => e.index);
  const fixed: FaultState['fixed'] = {
    resetCode: faults.resetCode,
    failStatus: faults.failStatus,
    failGrpc: faults.failGrpc,
    idleCloseMs: faults.idleCloseMs,
    earlyStatus: faults.earlyStatus,
    earlyAfterBytes: faults.earlyAfterBytes,
    downAtMs: faults.downAtMs,
    upAtMs: faults.upAtMs,
  };
  const state = (): FaultState => ({
    protocol,
    faultySet,
    fixed,
    endpoints: endpoints.map((e, i) => ({
      index: e.index,
      port: e.port,
      faulty: e.faulty,
      listening: gates[i]!.listening,
      down: e.down,
      refuse: e.refuse,
      resetShare: e.resetShare,
      failShare: e.failShare,
      latency: latencyFlag(e.latency),
      stallRead: e.stallRead,
    })),
  });
  return {
    state,
    stats: () => ({
      endpoints: endpoints.map((e, i) => ({
        index: e.index,
        port: e.port,
        connections: { ...e.stats.connections, open: gates[i]!.sockets.size },
        requests: { ...e.stats.requests, answered: { ...e.stats.requests.answered } },
      })),
    }),
    async apply(patch) {
      const targets = patch.endpoints ?? faultySet;
      for (const i of targets) checkShares(patch.resetShare ?? endpoints[i]!.resetShare, patch.failShare ?? endpoints[i]!.failShare, i);
      const { endpoints: _targets, ...change } = patch;
      for (const i of targets) endpoints[i]!.update(change);
      // Close (or open) the listeners first, then drop connections, so a client reconnecting at once is refused.
      await Promise.all(targets.map((i) => gates[i]!.sync()));
      if (patch.down === true) for (const i of targets) gates[i]!.drop();
      return state();
    },
  };
}
