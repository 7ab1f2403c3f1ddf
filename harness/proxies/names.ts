// The proxies a matrix can name (the `proxy` axis), declared once. Kept apart from registry.ts, which imports
// the drivers: a driver reads the axes (matrix/axes.ts), and the axes read these names, so the names must not
// import the drivers (registry -> driver -> axes -> registry would be a cycle).
export const PROXY_NAMES = ['sluice', 'sluice-node', 'sluice-wire', 'nghttpx', 'haproxy'] as const;

/** A `proxy` axis value: ours, or another proxy run through its driver (harness/proxies/). */
export type ProxyName = (typeof PROXY_NAMES)[number];

/** Our proxy under its three names: `sluice` runs its default HTTP/2 engine, `sluice-node` and `sluice-wire`
 *  force `--engine node` / `--engine wire`, so one run can set the engines side by side (issue 15). */
export const OUR_PROXIES: readonly ProxyName[] = ['sluice', 'sluice-node', 'sluice-wire'];

export function isOurProxy(name: string): boolean {
  return (OUR_PROXIES as readonly string[]).includes(name);
}
