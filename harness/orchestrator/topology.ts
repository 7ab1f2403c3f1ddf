// A cell's processes and how they are wired: backends, then (when the cell asks for delay or bandwidth) an
// emulated link on the chosen paths, then the proxy, so that every hop is what the cell's axes say:
//
//   generator --[downstream link]--> proxy --[upstream link, one route per endpoint]--> backends
//   generator --[link]--> first backend                                                 (target: direct)
//
// Every process goes through the cell's Supervisor, which stops them all (also on error and Ctrl-C).
import type { CellParams } from '../matrix/cells.js';
import type { LatencySpec } from '../matrix/schema.js';
import {
  DEFAULT_BACKENDS_MAIN,
  DEFAULT_LINK_MAIN,
  DEFAULT_PROXY_MAIN,
  startBackends,
  startLink,
  startProxy,
  wantsLink,
  type RunningBackends,
  type RunningLink,
  type RunningProxy,
} from './launch.js';
import type { Supervisor } from './supervisor.js';

/** Where a link sits: between the proxy and the backends, the generator and the proxy, or (direct) the generator and the backend. */
export type LinkRole = 'upstream' | 'downstream' | 'direct';

export interface Topology {
  backends: RunningBackends;
  proxy?: RunningProxy;
  links: { role: LinkRole; link: RunningLink }[];
  /** What the generator sends to. */
  url: string;
}

export interface Mains {
  proxyMain?: string;
  backendsMain?: string;
  linkMain?: string;
}

/** Starts the cell's processes in order; `step` wraps each start (the caller's abort handling). */
export async function startTopology(
  sup: Supervisor,
  params: CellParams,
  latency: LatencySpec,
  mains: Mains,
  step: <T>(work: Promise<T>) => Promise<T>,
): Promise<Topology> {
  const backends = await step(startBackends(sup, params, latency, mains.backendsMain ?? DEFAULT_BACKENDS_MAIN));
  const links: Topology['links'] = [];
  const link = async (role: LinkRole, targets: string[]): Promise<string[]> => {
    if (!wantsLink(params)) return targets;
    const running = await step(startLink(sup, `link-${role}`, params, targets, mains.linkMain ?? DEFAULT_LINK_MAIN));
    links.push({ role, link: running });
    return running.listen;
  };
  const addresses = backends.ports.map((p) => `${backends.host}:${p}`);
  if (params.target === 'direct') {
    // The baseline crosses the same network as the proxied cells, without the proxy.
    const [to] = await link('direct', [addresses[0]!]);
    return { backends, links, url: `http://${to}/` };
  }
  const upstream = params.link === 'downstream' ? addresses : await link('upstream', addresses);
  const proxy = await step(startProxy(sup, params, upstream, mains.proxyMain ?? DEFAULT_PROXY_MAIN));
  const proxyAddress = new URL(proxy.url).host;
  const [front] = params.link === 'upstream' ? [proxyAddress] : await link('downstream', [proxyAddress]);
  return { backends, proxy, links, url: `http://${front}/` };
}
