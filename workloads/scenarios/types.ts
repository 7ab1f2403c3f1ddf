// What a scenario is: the situation a source document describes, as settings for the cell's processes, a
// timeline played during each measured window, and the outcome computed from what was observed. Plain data
// and pure functions: workloads/ imports nothing of the harness; the harness runs the processes and the
// timeline (harness/orchestrator/scenario-run.ts), hands back the observations, and stores the outcome.
import type { Protocol } from '../../common/protocols.js';
import type { TraceBucket } from '../../common/trace-bucket.js';

/** A cell's parameters as a scenario reads them (every axis, by name). */
export type ScenarioParams = Readonly<Record<string, string | number | boolean>>;

/** Generator settings a scenario sets for the well-behaved client or for an attacker beside it. */
export interface ClientSetup {
  receiver?: 'eager' | 'strict';
  stallStreams?: number;
  /** Open loop at this many requests a second (absent: the cell's closed loop). */
  rate?: number;
  method?: 'GET' | 'POST' | 'PUT';
  bodyBytes?: number;
  responseBytes?: number;
  timeoutMs?: number;
  attack?: 'rapid-reset';
  concurrency?: number;
  connections?: number;
  /** The client's own receive windows (h2). */
  streamWindow?: number;
  connWindow?: number;
}

/** The backends' faults, as `npm run backends` flags take them (workloads/backends/README.md). */
export interface BackendFaults {
  slowEndpoints?: number;
  slowLatency?: string;
  refuse?: 'closed' | 'reset';
  resetShare?: number;
  resetCode?: string;
  failShare?: number;
  failStatus?: number;
  failGrpc?: string;
  idleCloseMs?: number;
  earlyStatus?: number;
  earlyAfterBytes?: number;
  earlyLingerMs?: number;
  stallRead?: boolean;
}

/** A change of faults at a moment of the window (the backends' admin POST /faults). */
export interface LiveFaults {
  /** Endpoint indexes; absent: the faulty set. */
  endpoints?: number[];
  down?: boolean;
  refuse?: 'closed' | 'reset' | null;
  resetShare?: number;
  failShare?: number;
  latency?: string;
  stallRead?: boolean;
}

/** What happens at a moment of each measured window. */
export type TimelineAction =
  /** Change the backends' faults (all or some endpoints). */
  | { kind: 'faults'; faults: LiveFaults }
  /** Set a service's endpoints at the control plane to the first backends (those started with the cell), or none. */
  | { kind: 'endpoints'; service: string; set: 'initial' | 'none' }
  /** Roll a service's pods: start new backends (same settings, new ports) and set the service to them alone. */
  | { kind: 'roll'; service: string }
  /** Flood a service with profile (or endpoint) updates at the control plane. */
  | { kind: 'flood'; service: string; rate: number; forMs: number; what: 'profile' | 'add' };

export interface TimelineStep {
  /** From the measured window's opening. */
  atMs: number;
  /** A name for the event in the results (e.g. "roll green"). */
  name: string;
  action: TimelineAction;
}

/** What a scenario asks of a cell. Absent parts leave the cell as its axes make it. */
export interface ScenarioSetup {
  backend?: BackendFaults;
  /** Extra proxy flags (the mitigations are axes; this is for what the scenario itself needs). */
  proxyFlags?: string[];
  /** The proxy discovers its endpoints from the control plane: `service` is routed, `idleServices` resolved and never used. */
  controlPlane?: { service: string; idleServices?: string[]; profiles?: string[] };
  client?: ClientSetup;
  /** A second client beside the well-behaved one (an attacker), on its own connections. */
  attacker?: ClientSetup & { concurrency: number };
  /** Outcome buckets of the well-behaved client, by completion time (ms); the scenarios' clock. */
  traceMs?: number;
  /**
   * Beside the generator, uploads of `bodyBytes` one after another by a client that reads the answer only once
   * its body is sent (curl's way; harness/orchestrator/upload-probe.ts), h1 only.
   */
  uploader?: { bodyBytes: number };
  timeline?: TimelineStep[];
}

export type { TraceBucket } from '../../common/trace-bucket.js';

/** An event of the timeline as it happened, ms from the window's opening. */
export interface ObservedEvent {
  name: string;
  /** When the harness applied it (the control plane or the backends answered). */
  appliedMs: number;
  /** When the proxy's /metrics first showed its effect (its balancer's endpoints), if the harness watched for it. */
  proxyAppliedMs?: number;
  /** For a roll: the new endpoints (ports). */
  newEndpoints?: string[];
  /** For a roll: the endpoints it replaced. */
  oldEndpoints?: string[];
}

/** What the harness observed in one repetition, for a scenario's outcome. */
export interface Observations {
  params: ScenarioParams;
  durationMs: number;
  /** The well-behaved client: its repetition's figures. */
  requests: number;
  successes: number;
  errors: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number };
  rps: number;
  bodyBytesPerS?: number;
  messagesPerS?: number;
  messageLatencyMs?: { p50: number; p99: number; max: number };
  trace: TraceBucket[];
  traceMs: number;
  events: ObservedEvent[];
  /** The proxy's resident memory over the window (ms from the window's opening, bytes). */
  proxyMemory: { t: number; rssBytes: number }[];
  /** The write-then-read uploads' outcomes, when the scenario had them (`uploader`). */
  uploads?: UploadOutcomes;
  /** The attacker's record, when the scenario had one. */
  attacker?: { requests: number; errors: Record<string, number>; goaway: Record<string, number>; connectionsClosed?: number; streams?: number };
}

/** What the write-then-read uploads of a window saw. */
export interface UploadOutcomes {
  /** Uploads started in the window. */
  attempts: number;
  /** Uploads whose answer was read, by status code. */
  answered: Record<string, number>;
  /** Uploads that ended in a send or read error before an answer was read (ECONNRESET, EPIPE, timeout, ...), by code. */
  failed: Record<string, number>;
}

/** The number a report shows for a scenario, and which way is better. */
export interface Headline {
  name: string;
  value: number;
  unit: string;
  better: 'lower' | 'higher';
  /** The value is a bound, not a measurement: what it times never happened within the window, which is the value. */
  censored?: boolean;
}

export interface ScenarioOutcome {
  headline: Headline;
  [field: string]: unknown;
}

export interface ScenarioDef {
  name: string;
  /** The source document (seed) and what of it this reproduces. */
  source: string;
  summary: string;
  /** The protocols it runs on (cells of others are excluded with the reason). */
  protocols: readonly Protocol[];
  /**
   * Axis values the situation needs (e.g. a link's round trip), used where the matrix neither sweeps nor fixes the
   * axis; they land in the cell's params, so the results say what ran.
   */
  defaults?: ScenarioParams;
  setup(params: ScenarioParams): ScenarioSetup;
  outcome(observed: Observations): ScenarioOutcome;
}
