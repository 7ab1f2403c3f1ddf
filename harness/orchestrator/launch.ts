// How a cell's synthetic backends and emulated links are started, through their CLIs only (the harness never
// imports workload internals). The proxy under test is started by its driver (../proxies/).
import { fileURLToPath } from 'node:url';
import type { CellParams } from '../matrix/cells.js';
import type { BackendFaults } from '../../workloads/scenarios/types.js';
import type { LatencySpec } from '../matrix/schema.js';
import { latencyFlag } from '../../workloads/backends/latency.js';
import { Supervisor, waitForReadyLine, type Child } from './supervisor.js';

export const DEFAULT_BACKENDS_MAIN = fileURLToPath(new URL('../../workloads/backends/main.js', import.meta.url));
export const DEFAULT_LINK_MAIN = fileURLToPath(new URL('../../workloads/link/main.js', import.meta.url));

const READY_TIMEOUT_MS = 15_000;

export interface RunningBackends {
  child: Child;
  host: string;
  ports: number[];
  /** The backends' admin URL (faults changed live), when started with one. */
  adminUrl?: string;
}

/** One emulated link process carrying one or more routes (listen -> to), and its admin endpoint. */
export interface RunningLink {
  child: Child;
  /** The addresses it listens on, in the order of the routes it was given (host:port). */
  listen: string[];
  adminUrl: string;
  /** Set when the link said at start that it cannot keep the configured bandwidth on this machine. */
  warning?: string;
}

/** The link's settings as the cell gives them. */
export interface LinkSettings {
  rttMs: number;
  jitterMs: number;
  bandwidthMbps: number;
}

/** A cell needs a link when it asks for delay or a bandwidth limit. */
export function wantsLink(params: Pick<CellParams, 'rttMs' | 'bandwidthMbps'>): boolean {
  return params.rttMs > 0 || params.bandwidthMbps > 0;
}

/** The backends' fault flags (workloads/backends/README.md), one per fault set. */
export function faultArgs(faults: BackendFaults): string[] {
  const args: string[] = [];
  const flag = (name: string, value: string | number | boolean | undefined): void => {
    if (value === undefined || value === false) return;
    args.push(`--${name}`);
    if (value !== true) args.push(String(value));
  };
  flag('slow-endpoints', faults.slowEndpoints);
  flag('slow-latency', faults.slowLatency);
  flag('refuse', faults.refuse);
  flag('reset-share', faults.resetShare);
  flag('reset-code', faults.resetCode);
  flag('fail-share', faults.failShare);
  flag('fail-status', faults.failStatus);
  flag('fail-grpc', faults.failGrpc);
  flag('idle-close', faults.idleCloseMs !== undefined ? `${faults.idleCloseMs}ms` : undefined);
  flag('early-status', faults.earlyStatus);
  flag('early-after-bytes', faults.earlyAfterBytes);
  flag('early-linger', faults.earlyLingerMs === undefined ? undefined : `${faults.earlyLingerMs}ms`);
  flag('stall-read', faults.stallRead);
  return args;
}

export interface BackendStart {
  latency: LatencySpec;
  faults?: BackendFaults;
  /** Start the admin listener (a scenario changes faults during the window). */
  admin?: boolean;
}

export function backendArgs(params: CellParams, start: BackendStart): string[] {
  return [
    '--protocol', params.protocol,
    '--endpoints', String(params.endpoints),
    '--base-port', '0',
    '--latency', latencyFlag(start.latency),
    '--response-bytes', String(params.responseBytes),
    '--stream-window', String(params.backendStreamWindow),
    '--conn-window', String(params.backendConnWindow),
    ...faultArgs(start.faults ?? {}),
    ...(start.admin ? ['--admin', '127.0.0.1:0'] : []),
  ];
}

export async function startBackends(sup: Supervisor, params: CellParams, start: BackendStart, main = DEFAULT_BACKENDS_MAIN, name = 'backends'): Promise<RunningBackends> {
  const child = sup.start(name, main, backendArgs(params, start));
  const ready = await waitForReadyLine<{ event: string; host: string; ports: number[]; admin?: string }>(child, READY_TIMEOUT_MS);
  return { child, host: ready.host, ports: ready.ports, ...(ready.admin ? { adminUrl: `http://${ready.admin}` } : {}) };
}

export function linkArgs(settings: LinkSettings, targets: string[]): string[] {
  const args = targets.flatMap((to) => ['--listen', '127.0.0.1:0', '--to', to]);
  args.push('--rtt', `${settings.rttMs}ms`, '--admin', '127.0.0.1:0');
  if (settings.jitterMs > 0) args.push('--jitter', `${settings.jitterMs}ms`);
  if (settings.bandwidthMbps > 0) args.push('--bandwidth', `${settings.bandwidthMbps}mbit`);
  return args;
}

/** Starts one link process relaying to each of `targets` (host:port); resolves with the addresses to use instead. */
export async function startLink(sup: Supervisor, name: string, settings: LinkSettings, targets: string[], main = DEFAULT_LINK_MAIN): Promise<RunningLink> {
  const child = sup.start(name, main, linkArgs(settings, targets));
  const ready = await waitForReadyLine<{ event: string; routes: { listen: string; to: string }[]; admin: string; warning?: string }>(child, READY_TIMEOUT_MS);
  return {
    child,
    listen: ready.routes.map((r) => r.listen),
    adminUrl: `http://${ready.admin}`,
    ...(ready.warning ? { warning: ready.warning } : {}),
  };
}
