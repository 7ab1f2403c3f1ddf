// The proxy drivers, one line each, keyed by the `proxy` axis's values (names.ts). A new proxy is its driver's
// file and its line here (README.md: How to add a proxy). The drivers are imported statically: each is small,
// and the matrix's expansion asks their pure `unsupported` synchronously.
import type { CellParams } from '../matrix/axes.js';
import type { ProxyDriver } from './driver.js';
import { isOurProxy, OUR_PROXY_ENGINES, type ProxyName } from './names.js';
import { haproxyDriver } from './haproxy.js';
import { nghttpxDriver } from './nghttpx.js';
import { sluiceDriver } from './sluice.js';

export { DEFAULT_ENGINE, isOurProxy, OUR_PROXIES, OUR_PROXY_ENGINES, PROXY_NAMES, type ProxyName } from './names.js';

/** Every name of the axis has its driver: the compiler checks it (a name without a line does not build). */
export const PROXY_DRIVERS: Readonly<Record<ProxyName, ProxyDriver>> = {
  sluice: sluiceDriver(),
  'sluice-node': sluiceDriver(undefined, OUR_PROXY_ENGINES['sluice-node']),
  'sluice-wire': sluiceDriver(undefined, OUR_PROXY_ENGINES['sluice-wire']),
  nghttpx: nghttpxDriver,
  haproxy: haproxyDriver,
};

/** What a cell's scenario asks of the proxy beyond the axes (ScenarioSetup.controlPlane, .proxyFlags). */
export interface ScenarioNeeds {
  discovery: boolean;
  extraFlags: readonly string[];
}

/** The driver of `name`; throws when this build has none (the expansion excluded its cells already). */
export function driverFor(name: ProxyName): ProxyDriver {
  return PROXY_DRIVERS[name];
}

/**
 * Why `name` cannot run the cell as it is, or undefined. A scenario's control plane (linkerd's Destination API)
 * and its extra flags are our proxy's: every other proxy's cell with either is excluded here, before its driver
 * is asked. A driver's own reason is prefixed with its name ("haproxy: no adaptive flow control") unless it
 * begins with it.
 */
export function unsupportedReason(name: ProxyName, params: CellParams, scenario: ScenarioNeeds): string | undefined {
  if (!isOurProxy(name)) {
    if (scenario.discovery) return `${name}: ${params.scenario} discovers its endpoints from a control plane (linkerd's Destination API), which only our proxy speaks`;
    if (scenario.extraFlags.length > 0) return `${name}: ${params.scenario} sets our proxy's own flags (${scenario.extraFlags.join(' ')})`;
  }
  const why = PROXY_DRIVERS[name].unsupported(params, scenario);
  if (why === undefined) return undefined;
  // A reason that names its proxy already ("haproxy 2.6: ...") is kept as it is.
  return why.startsWith(name) ? why : `${name}: ${why}`;
}

const versions = new Map<ProxyName, Promise<string>>();

/** The proxy's version, asked of its driver once per process (a run) and kept; a failure is not kept, so a fix is seen. */
export function proxyVersion(name: ProxyName): Promise<string> {
  let version = versions.get(name);
  if (!version) {
    version = (async () => driverFor(name).version())();
    versions.set(name, version);
    version.catch(() => versions.delete(name));
  }
  return version;
}
