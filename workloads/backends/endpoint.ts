// One endpoint's state while the backends run: its faults (set by flags, changed by the admin API and the
// down/up schedule), its latency sampler and its counters. The protocol servers read it on every request;
// `requestFaults` is the one check the healthy path makes.
import type { H2CodeName } from '../../common/h2-codes.js';
import type { BackendConfig } from './config.js';
import { newStats, type EndpointStats } from './fault-stats.js';
import type { LiveFaults, Refusal, RequestFaults } from './faults.js';
import type { GrpcStatusName } from '../../common/grpc-status.js';
import { createLatencySampler, type LatencySpec } from './latency.js';

export class Endpoint implements LiveFaults, RequestFaults {
  /** The listening port, known once the gate is bound; `portText` is the same for the x-sluice-endpoint header. */
  port = 0;
  portText = '0';
  readonly stats: EndpointStats = newStats();

  down = false;
  refuse: Refusal | null = null;
  resetShare = 0;
  failShare = 0;
  stallRead = false;
  latency: LatencySpec;
  /** One latency sample in ms. */
  sample: () => number;

  // Fixed by flags: the codes and statuses for every endpoint (the admin API may give any endpoint shares),
  // --idle-close and --early-status for the faulty set only.
  readonly resetCode: H2CodeName;
  readonly failStatus: number;
  readonly failGrpc: GrpcStatusName;
  readonly idleCloseMs: number | null;
  readonly earlyStatus: number | null;
  readonly earlyAfterBytes: number;
  readonly earlyLingerMs: number;

  /** True when a request here may meet a fault; false sends every request down the healthy path. */
  requestFaults = false;

  constructor(readonly index: number, readonly faulty: boolean, config: BackendConfig) {
    const f = config.faults;
    this.resetCode = f.resetCode;
    this.failStatus = f.failStatus;
    this.failGrpc = f.failGrpc;
    this.idleCloseMs = faulty ? f.idleCloseMs : null;
    this.earlyStatus = faulty ? f.earlyStatus : null;
    this.earlyAfterBytes = f.earlyAfterBytes;
    this.earlyLingerMs = f.earlyLingerMs;
    this.latency = faulty ? f.slowLatency : config.latency;
    this.sample = createLatencySampler(this.latency);
    if (faulty) this.update({ refuse: f.refuse, resetShare: f.resetShare, failShare: f.failShare, stallRead: f.stallRead });
    else this.update({});
  }

  /** Applies a change (already validated) and recomputes `requestFaults`. */
  update(change: Partial<LiveFaults>): void {
    if (change.down !== undefined) this.down = change.down;
    if (change.refuse !== undefined) this.refuse = change.refuse;
    if (change.resetShare !== undefined) this.resetShare = change.resetShare;
    if (change.failShare !== undefined) this.failShare = change.failShare;
    if (change.stallRead !== undefined) this.stallRead = change.stallRead;
    if (change.latency !== undefined) {
      this.latency = change.latency;
      this.sample = createLatencySampler(change.latency);
    }
    this.requestFaults =
      this.resetShare > 0 || this.failShare > 0 || this.stallRead || this.earlyStatus !== null || this.idleCloseMs !== null;
  }
}

/** The endpoints of a config: the first --slow-endpoints form the faulty set. */
export function createEndpoints(config: BackendConfig): Endpoint[] {
  return Array.from({ length: config.endpoints }, (_, i) => new Endpoint(i, i < config.faults.slowEndpoints, config));
}
