// How a cell's processes are started: the synthetic backends and the proxy under test, through their CLIs only
// (the harness never imports proxy or workload internals, so another proxy binary can stand in).
import { fileURLToPath } from 'node:url';
import type { CellParams } from '../matrix/cells.js';
import type { LatencySpec } from '../matrix/schema.js';
import { latencyFlag } from '../../workloads/backends/latency.js';
import { freePort } from './ports.js';
import { Supervisor, waitForHttpReady, waitForReadyLine, type Child } from './supervisor.js';

export const DEFAULT_PROXY_MAIN = fileURLToPath(new URL('../../proxy/src/main.js', import.meta.url));
export const DEFAULT_BACKENDS_MAIN = fileURLToPath(new URL('../../workloads/backends/main.js', import.meta.url));

const READY_TIMEOUT_MS = 15_000;

export interface BackendSettings {
  latency: LatencySpec;
  responseBytes: number;
}

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

export async function startBackends(
  sup: Supervisor,
  params: CellParams,
  settings: BackendSettings,
  main = DEFAULT_BACKENDS_MAIN,
): Promise<RunningBackends> {
  const child = sup.start('backends', main, [
    '--protocol', params.protocol,
    '--endpoints', String(params.endpoints),
    '--base-port', '0',
    '--latency', latencyFlag(settings.latency),
    '--response-bytes', String(settings.responseBytes),
  ]);
  const ready = await waitForReadyLine<{ event: string; host: string; ports: number[] }>(child, READY_TIMEOUT_MS);
  return { child, host: ready.host, ports: ready.ports };
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

export async function startProxy(
  sup: Supervisor,
  params: CellParams,
  backends: RunningBackends,
  main = DEFAULT_PROXY_MAIN,
): Promise<RunningProxy> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const endpoints = backends.ports.map((p) => `${backends.host}:${p}`);
  const child = sup.start('proxy', main, proxyArgs(params, `127.0.0.1:${port}`, `127.0.0.1:${adminPort}`, endpoints));
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  await waitForHttpReady(`${adminUrl}/ready`, child, READY_TIMEOUT_MS);
  return { child, url: `http://127.0.0.1:${port}/`, adminUrl };
}
