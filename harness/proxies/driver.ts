// What a proxy driver is: how one proxy (ours, nghttpx, HAProxy, ...) is started for one cell. A new proxy is
// one file implementing ProxyDriver plus one line in registry.ts. Translation from a cell to the proxy's config
// is pure (`configure`) and fixture-tested; `start` runs it through the cell's Supervisor, which stops it on
// success, error and Ctrl-C.
import type { CellParams } from '../matrix/axes.js';
import type { Child, Supervisor } from '../orchestrator/supervisor.js';

/** Where the proxy finds its endpoints: a static list, or (ours only) a control plane and a service there. */
export type Discovery = { endpoints: string[] } | { destination: string; service: string; idleServices?: string[] };

/** Everything a driver needs to configure a proxy for one cell. */
export interface ProxyCellSpec {
  params: CellParams;
  /** 127.0.0.1:PORT the proxy listens on for the generator (h2c prior knowledge, or HTTP/1.1 for h1 cells). */
  listen: string;
  /** 127.0.0.1:PORT for an admin / metrics listener, where the proxy has one. */
  admin: string;
  discovery: Discovery;
  /** The backends' protocol: h1 for h1 cells, h2 (h2c) for h2 and gRPC cells. */
  upstreamProtocol: 'h1' | 'h2';
  /** A scenario's extra flags for our proxy (workloads/scenarios/): another proxy's cell with any is excluded. */
  extraFlags: string[];
  /** A folder the driver may write its config file into (the cell's own, removed after). */
  workDir: string;
}

/** The proxy's config for one cell, as recorded in results.json (the generated file's text, or the flags). */
export interface ProxyConfig {
  /** The command and its arguments, as started (before any taskset). */
  command: string[];
  /** Config files written, by name, with their text. */
  files?: Record<string, string>;
}

export interface RunningProxy {
  child: Child;
  /** http://127.0.0.1:PORT/ the generator sends to. */
  url: string;
  /** The admin base URL where the proxy has one (ours: /ready, /metrics); absent otherwise. */
  adminUrl?: string;
  /** The proxy's own Prometheus metrics URL, where it exposes one (ours: adminUrl/metrics; HAProxy: its exporter). */
  metricsUrl?: string;
  config: ProxyConfig;
}

export interface ProxyDriver {
  /** The `proxy` axis value. */
  readonly name: string;
  /**
   * Why this proxy cannot run the cell as the cell says (the cell is then excluded with this reason), or undefined.
   * Pure and synchronous: the matrix's expansion asks it (registry.ts unsupportedReason, which prefixes the name
   * when the reason does not begin with it, and excludes another proxy's cells needing our control plane or flags first).
   */
  unsupported(params: CellParams, scenario: { discovery: boolean; extraFlags: readonly string[] }): string | undefined;
  /** The proxy's config for the cell. Pure. */
  configure(spec: ProxyCellSpec): ProxyConfig;
  /** Starts the proxy for the cell and resolves once it accepts requests. */
  start(sup: Supervisor, spec: ProxyCellSpec): Promise<RunningProxy>;
  /** The proxy's version as it reports it (e.g. `nghttpx nghttp2/1.52.0`); rejects with the Debian package to install when missing. */
  version(): Promise<string>;
}
