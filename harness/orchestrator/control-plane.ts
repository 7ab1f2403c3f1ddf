// The synthetic control plane of a cell (workloads/destination/, a Destination-like gRPC server), started when a
// scenario has the proxy discover its endpoints, and driven live through its admin API: the orchestrator sets a
// service's endpoints, its profiles, and floods or rolls it at precise moments of a measured window.
import { fileURLToPath } from 'node:url';
import { Supervisor, waitForReadyLine, type Child } from './supervisor.js';

export const DEFAULT_DESTINATION_MAIN = fileURLToPath(new URL('../../workloads/destination/main.js', import.meta.url));
const READY_TIMEOUT_MS = 15_000;

export interface RunningControlPlane {
  child: Child;
  /** HOST:PORT the proxy's --destination points at. */
  address: string;
  adminUrl: string;
}

/** One step as the control plane's script takes it (workloads/destination/README.md), applied at once. */
export type ControlStep =
  | { service: string; set: string[] }
  | { service: string; 'no-endpoints': true }
  | { service: string; profile: { routes: { name: string; method?: string; path?: string; retryable?: boolean; timeout?: string }[] } }
  | { service: string; flood: { rate: number; for: string; kind: 'add' | 'profile' } };

export async function startControlPlane(sup: Supervisor, main = DEFAULT_DESTINATION_MAIN): Promise<RunningControlPlane> {
  const child = sup.start('destination', main, ['--port', '0', '--admin', '127.0.0.1:0']);
  const ready = await waitForReadyLine<{ event: string; host: string; port: number; admin: string }>(child, READY_TIMEOUT_MS);
  return { child, address: `${ready.host}:${ready.port}`, adminUrl: `http://${ready.admin}` };
}

/** Applies steps at once, in order; resolves when the control plane has done them (sent them to its subscribers). */
export async function applyControlSteps(adminUrl: string, steps: ControlStep[]): Promise<void> {
  const res = await fetch(`${adminUrl}/steps`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(steps),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`control plane refused ${JSON.stringify(steps)}: ${res.status} ${text}`);
}

/** A profile of `routes` routes: large enough that its updates fill a 64 KiB window in a few dozen messages. */
export function bulkyProfile(service: string, routes: number): ControlStep {
  return {
    service,
    profile: { routes: Array.from({ length: routes }, (_, i) => ({ name: `${service}-route-${i}`, method: 'GET', path: `/${service}/items/${i}/.*`, retryable: true, timeout: '1s' })) },
  };
}
