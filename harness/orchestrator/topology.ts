// A cell's processes and how they are wired: backends, then (when the cell asks for delay or bandwidth) an
// emulated link on the chosen paths, then (when a scenario has the proxy discover its endpoints) the control
// plane, then the proxy, so that every hop is what the cell's axes and its scenario say:
//
//   generator --[downstream link]--> proxy --[upstream link, one route per endpoint]--> backends
//                                      ^-- control plane (scenarios with discovery)
//   generator --[link]--> first backend                                                 (target: direct)
//
// The proxy is the cell's `proxy` (ours by default), started by its driver (../proxies/). Every process goes
// through the cell's Supervisor, which stops them all (also on error and Ctrl-C).
import type { CellParams } from '../matrix/cells.js';
import type { LatencySpec } from '../matrix/schema.js';
import type { BackendFaults, ScenarioSetup } from '../../workloads/scenarios/types.js';
import { applyControlSteps, bulkyProfile, startControlPlane, DEFAULT_DESTINATION_MAIN, type RunningControlPlane } from './control-plane.js';
import { DEFAULT_BACKENDS_MAIN, DEFAULT_LINK_MAIN, startBackends, startLink, wantsLink, type RunningBackends, type RunningLink } from './launch.js';
import { startOnFreshPorts } from './port-retry.js';
import { freePort } from './ports.js';
import type { Supervisor } from './supervisor.js';
import type { Discovery, ProxyCellSpec, ProxyConfig, ProxyDriver, RunningProxy } from '../proxies/driver.js';
import { driverFor, isOurProxy, OUR_PROXY_ENGINES } from '../proxies/registry.js';
import { sluiceDriver } from '../proxies/sluice.js';

/** Where a link sits: between the proxy and the backends, the generator and the proxy, or (direct) the generator and the backend. */
export type LinkRole = 'upstream' | 'downstream' | 'direct';

/** Routes in an idle service's profile: enough that its updates fill a 64 KiB window in a few dozen messages. */
const IDLE_PROFILE_ROUTES = 100;

export interface Topology {
  backends: RunningBackends;
  proxy?: RunningProxy;
  links: { role: LinkRole; link: RunningLink }[];
  controlPlane?: RunningControlPlane;
  /** The addresses the proxy reaches the first backends at (through the upstream link, if any). */
  upstream: string[];
  /** What the generator sends to. */
  url: string;
  /** Starts another set of backends like the first (a roll's new pods) and returns the addresses the proxy reaches them at, and their ports. */
  morePods(): Promise<{ upstream: string[]; ports: number[] }>;
}

export interface Mains {
  /** Our proxy's main script (a test's stand-in); other proxies are the programs their drivers start. */
  proxyMain?: string;
  backendsMain?: string;
  linkMain?: string;
  destinationMain?: string;
}

/** The driver of the cell's proxy: ours from `mains.proxyMain` when a test gives one, else the registry's. */
export function proxyDriver(params: CellParams, mains: Mains): ProxyDriver {
  if (isOurProxy(params.proxy) && mains.proxyMain) {
    return sluiceDriver(mains.proxyMain, OUR_PROXY_ENGINES[params.proxy]);
  }
  return driverFor(params.proxy);
}

/** What the proxy's driver is given: free ports for its listener and admin, the cell's upstream protocol. */
export async function proxyCellSpec(params: CellParams, discovery: Discovery, extraFlags: string[], workDir: string): Promise<ProxyCellSpec> {
  const [port, adminPort] = [await freePort(), await freePort()];
  return {
    params,
    listen: `127.0.0.1:${port}`,
    admin: `127.0.0.1:${adminPort}`,
    discovery,
    upstreamProtocol: params.protocol === 'h1' ? 'h1' : 'h2',
    extraFlags,
    workDir,
  };
}

export interface TopologyOptions {
  mains: Mains;
  /** Wraps each start (the caller's abort handling). */
  step: <T>(work: Promise<T>) => Promise<T>;
  /** The cell's own folder for the proxy's config files (the caller removes it after the cell). */
  workDir: string;
  /** The proxy's config, told before it starts (so that a proxy that never gets ready still has it recorded). */
  onProxyConfig?(config: ProxyConfig): void;
}

/** Starts the cell's processes in order. */
export async function startTopology(
  sup: Supervisor,
  params: CellParams,
  backend: { latency: LatencySpec; faults: BackendFaults },
  setup: ScenarioSetup,
  { mains, step, workDir, onProxyConfig }: TopologyOptions,
): Promise<Topology> {
  const admin = (setup.timeline ?? []).some((s) => s.action.kind === 'faults');
  const backendsMain = mains.backendsMain ?? DEFAULT_BACKENDS_MAIN;
  const backends = await step(startBackends(sup, params, { latency: backend.latency, faults: backend.faults, admin }, backendsMain));
  const links: Topology['links'] = [];
  const link = async (role: LinkRole, targets: string[]): Promise<string[]> => {
    if (!wantsLink(params)) return targets;
    const running = await step(startLink(sup, `link-${role}-${links.length}`, params, targets, mains.linkMain ?? DEFAULT_LINK_MAIN));
    links.push({ role, link: running });
    return running.listen;
  };
  const addresses = (b: RunningBackends): string[] => b.ports.map((p) => `${b.host}:${p}`);
  let pods = 0;
  // New pods are healthy: the faults were the old pods'.
  const morePods = async (): Promise<{ upstream: string[]; ports: number[] }> => {
    const fresh = await startBackends(sup, params, { latency: backend.latency }, backendsMain, `backends-${++pods}`);
    const upstream = params.link === 'downstream' || params.target === 'direct' ? addresses(fresh) : await link('upstream', addresses(fresh));
    return { upstream, ports: fresh.ports };
  };
  if (params.target === 'direct') {
    // The baseline crosses the same network as the proxied cells, without the proxy.
    const [to] = await link('direct', [addresses(backends)[0]!]);
    return { backends, links, upstream: addresses(backends), url: `http://${to}/`, morePods };
  }
  const upstream = params.link === 'downstream' ? addresses(backends) : await link('upstream', addresses(backends));
  let controlPlane: RunningControlPlane | undefined;
  const cp = setup.controlPlane;
  if (cp) {
    controlPlane = await step(startControlPlane(sup, mains.destinationMain ?? DEFAULT_DESTINATION_MAIN));
    await step(
      applyControlSteps(controlPlane.adminUrl, [
        { service: cp.service, set: upstream },
        ...(cp.profiles ?? []).map((service) => bulkyProfile(service, IDLE_PROFILE_ROUTES)),
      ]),
    );
  }
  const discovery: Discovery = cp && controlPlane
    ? { destination: controlPlane.address, service: cp.service, ...(cp.idleServices ? { idleServices: cp.idleServices } : {}) }
    : { endpoints: upstream };
  const driver = proxyDriver(params, mains);
  const proxy = await startOnFreshPorts(
    () => proxyCellSpec(params, discovery, setup.proxyFlags ?? [], workDir),
    (spec) => {
      onProxyConfig?.(driver.configure(spec));
      return step(driver.start(sup, spec));
    },
  );
  const proxyAddress = new URL(proxy.url).host;
  const [front] = params.link === 'upstream' ? [proxyAddress] : await link('downstream', [proxyAddress]);
  return { backends, proxy, links, ...(controlPlane ? { controlPlane } : {}), upstream, url: `http://${front}/`, morePods };
}
