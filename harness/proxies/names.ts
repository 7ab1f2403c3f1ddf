// The proxies a matrix can name (the `proxy` axis), declared once. Kept apart from registry.ts, which imports
// the drivers: a driver reads the axes (matrix/axes.ts), and the axes read these names, so the names must not
// import the drivers (registry -> driver -> axes -> registry would be a cycle).
export const PROXY_NAMES = ['sluice', 'nghttpx', 'haproxy'] as const;

/** A `proxy` axis value: ours, or another proxy run through its driver (harness/proxies/). */
export type ProxyName = (typeof PROXY_NAMES)[number];
