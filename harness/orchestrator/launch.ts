// How a cell's processes are started: the synthetic backends, the emulated links and the proxy under test,
// through their CLIs only (the harness never imports proxy or workload internals, so another proxy binary
// can stand in).
import { fileURLToPath } from 'node:url';
import type { CellParams } from '../matrix/cells.js';
import type { LatencySpec } from '../matrix/schema.js';
import { latencyFlag } from '../../workloads/backends/latency.js';
import { freePort } from './ports.js';
import { Supervisor, waitForHttpReady, waitForReadyLine, type Child } from './supervisor.js';

export const DEFAULT_PROXY_MAIN = fileURLToPath(new URL('../../proxy/src/main.js', import.meta.url));
export const DEFAULT_BACKENDS_MAIN = fileURLToPath(new URL('../../workloads/backends/main.js', import.meta.url));
export const DEFAULT_LINK_MAIN = fileURLToPath(new URL('../../workloads/link/main.js', import.meta.url));

const READY_TIMEOUT_MS = 15_000;

export interface RunningBackends {
  child: Child;
  host: string;
  ports: number[];
}

export interface RunningProxy {
  child: Child;
  url: string;
  adminUrl: string;
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

export function backendArgs(params: CellParams, latency: LatencySpec): string[] {
  return [
    '--protocol', params.protocol,
    '--endpoints', String(params.endpoints),
    '--base-port', '0',
    '--latency', latencyFlag(latency),
    '--response-bytes', String(params.responseBytes),
    '--stream-window', String(params.backendStreamWindow),
    '--conn-window', String(params.backendConnWindow),
  ];
}

export async function startBackends(sup: Supervisor, params: CellParams, latency: LatencySpec, main = DEFAULT_BACKENDS_MAIN): Promise<RunningBackends> {
  const child = sup.start('backends', main, backendArgs(params, latency));
  const ready = await waitForReadyLine<{ event: string; host: string; ports: number[] }>(child, READY_TIMEOUT_MS);
  return { child, host: ready.host, ports: ready.ports };
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

export function proxyArgs(params: CellParams, listen: string, admin: string, endpoints: string[]): string[] {
  const args = [
    '--listen', listen,
    '--admin', admin,
    '--endpoints', endpoints.join(','),
    '--upstream-protocol', 'auto',
    '--stream-window', String(params.streamWindow),
    '--conn-window', String(params.connWindow),
  ];
  if (params.adaptive) args.push('--adaptive');
  return args;
}

export async function startProxy(sup: Supervisor, params: CellParams, endpoints: string[], main = DEFAULT_PROXY_MAIN): Promise<RunningProxy> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = sup.start('proxy', main, proxyArgs(params, `127.0.0.1:${port}`, `127.0.0.1:${adminPort}`, endpoints));
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  await waitForHttpReady(`${adminUrl}/ready`, child, READY_TIMEOUT_MS);
  return { child, url: `http://127.0.0.1:${port}/`, adminUrl };
}
