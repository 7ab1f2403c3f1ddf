// The proxies a matrix can name (the `proxy` axis), declared once. Kept apart from registry.ts, which imports
// the drivers: a driver reads the axes (matrix/axes.ts), and the axes read these names, so the names must not
// import the drivers (registry -> driver -> axes -> registry would be a cycle).
export const PROXY_NAMES = ['sluice', 'sluice-node', 'sluice-wire', 'nghttpx', 'haproxy'] as const;

/** A `proxy` axis value: ours, or another proxy run through its driver (harness/proxies/). */
export type ProxyName = (typeof PROXY_NAMES)[number];

/** Our proxy under its three names and the `--engine` each forces: `sluice` runs the proxy's default HTTP/2
 *  engine, `sluice-node` and `sluice-wire` force one, so one run can set the engines side by side (issue 15). */
export const OUR_PROXY_ENGINES = { sluice: undefined, 'sluice-node': 'node', 'sluice-wire': 'wire' } as const;
export type OurProxy = keyof typeof OUR_PROXY_ENGINES;
export const OUR_PROXIES = Object.keys(OUR_PROXY_ENGINES) as OurProxy[];
/** The proxy's default engine (proxy/src/flags.ts --engine), for whoever must tell `sluice` from its twin. */
export const DEFAULT_ENGINE = 'wire';

export function isOurProxy(name: string): name is OurProxy {
  return Object.hasOwn(OUR_PROXY_ENGINES, name);
}
