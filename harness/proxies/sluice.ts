// Our proxy (proxy/) as a driver: its flags from the cell, started as `node dist/proxy/src/main.js`, ready when
// its admin /ready answers 200, metrics at the admin's /metrics. It speaks every setting a cell has, so it
// excludes nothing. The harness reaches it through its command line only (never imports proxy/).
import { fileURLToPath } from 'node:url';
import { AXES } from '../matrix/axes.js';
import type { CellParams } from '../matrix/axes.js';
import { sluiceVersion } from '../results/components.js';
import { waitForHttpReady, type Supervisor } from '../orchestrator/supervisor.js';
import type { Discovery, ProxyCellSpec, ProxyConfig, ProxyDriver, RunningProxy } from './driver.js';

export const DEFAULT_PROXY_MAIN = fileURLToPath(new URL('../../proxy/src/main.js', import.meta.url));

const READY_TIMEOUT_MS = 15_000;

/** The proxy's mitigation axes that differ from its own defaults, as its flags. */
export function mitigationArgs(params: CellParams): string[] {
  const args: string[] = [];
  const differs = <K extends keyof CellParams>(key: K): boolean => params[key] !== AXES[key as keyof typeof AXES].default;
  if (differs('h1ReuseGuard')) args.push('--h1-reuse-guard', params.h1ReuseGuard ? 'on' : 'off');
  if (differs('h1Reissue')) args.push('--h1-reissue', params.h1Reissue ? 'on' : 'off');
  if (differs('h1PoolIdleTimeoutMs')) args.push('--h1-pool-idle-timeout', `${params.h1PoolIdleTimeoutMs}ms`);
  if (differs('delayedCloseMs')) args.push('--delayed-close', `${params.delayedCloseMs}ms`);
  if (differs('failfastMs')) args.push('--failfast', `${params.failfastMs}ms`);
  if (differs('absorbCancels')) args.push('--absorb-cancels', String(params.absorbCancels));
  return args;
}

/**
 * Our proxy's flags for a cell. `--upstream-protocol auto` forwards each request with the protocol it came in
 * as, which is the cell's upstream protocol (h1 for h1 cells, h2 for h2 and gRPC) in every cell.
 */
export function proxyArgs(params: CellParams, listen: string, admin: string, discovery: Discovery, extra: string[] = []): string[] {
  const args = [
    '--listen', listen,
    '--admin', admin,
    ...('endpoints' in discovery
      ? ['--endpoints', discovery.endpoints.join(',')]
      : [
          '--destination', discovery.destination,
          '--service', discovery.service,
          '--control-conn-window', String(params.controlConnWindow),
          ...(discovery.idleServices?.length ? ['--idle-services', discovery.idleServices.join(',')] : []),
        ]),
    '--upstream-protocol', 'auto',
    '--stream-window', String(params.streamWindow),
    '--conn-window', String(params.connWindow),
    ...mitigationArgs(params),
    ...extra,
  ];
  if (params.adaptive) args.push('--adaptive');
  return args;
}

/** Our proxy, started from `main` (a test's stand-in through CellHooks.proxyMain; by default this checkout's build),
 *  on its default HTTP/2 engine or the one given (`--engine`, proxy/src/wire/). */
export function sluiceDriver(main = DEFAULT_PROXY_MAIN, engine?: 'node' | 'wire'): ProxyDriver {
  const engineArgs = engine ? ['--engine', engine] : [];
  const configure = (spec: ProxyCellSpec): ProxyConfig => ({
    command: [process.execPath, main, ...proxyArgs(spec.params, spec.listen, spec.admin, spec.discovery, [...engineArgs, ...spec.extraFlags])],
  });
  return {
    name: engine ? `sluice-${engine}` : 'sluice',
    unsupported: () => undefined,
    configure,
    async start(sup: Supervisor, spec: ProxyCellSpec): Promise<RunningProxy> {
      const config = configure(spec);
      const [, file, ...args] = config.command;
      const child = sup.start('proxy', file!, args);
      const adminUrl = `http://${spec.admin}`;
      await waitForHttpReady(`${adminUrl}/ready`, child, READY_TIMEOUT_MS);
      return { child, url: `http://${spec.listen}/`, adminUrl, metricsUrl: `${adminUrl}/metrics`, config };
    },
    // Built from this checkout: sluice's package version (run.proxy's revision holds the commit).
    version: () => Promise.resolve(sluiceVersion()),
  };
}
