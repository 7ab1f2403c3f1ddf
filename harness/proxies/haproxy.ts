// The HAProxy driver: Debian's haproxy 2.6 (USE_PROMEX) as the proxy under test. One foreground process
// (`haproxy -db -f haproxy.cfg`, no master-worker), so the Supervisor's child is the proxy whose CPU and memory
// a cell samples; SIGTERM (stopAll) is HAProxy's hard stop. Ready once its admin frontend answers /ready
// (monitor-uri); its Prometheus exporter is that frontend's /metrics.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { findBinary, missingBinaryMessage } from '../../common/binaries.js';
import { waitForHttpReady, type Supervisor } from '../orchestrator/supervisor.js';
import type { ProxyCellSpec, ProxyConfig, ProxyDriver, RunningProxy } from './driver.js';
import { haproxyThreads, haproxyUnsupported, renderHaproxyConfig } from './haproxy-config.js';

/** haproxy on PATH or in /usr/sbin (Debian's, which a user's PATH may lack); the bare name when nowhere (ENOENT names the package). */
export const HAPROXY_COMMAND = findBinary('haproxy') ?? 'haproxy';
export const HAPROXY_CONFIG_FILE = 'haproxy.cfg';
export const HAPROXY_MISSING = missingBinaryMessage('haproxy', 'haproxy');
const READY_TIMEOUT_MS = 15_000;

/** `haproxy -v`'s first line (e.g. `HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/`). */
export async function haproxyVersion(command = HAPROXY_COMMAND): Promise<string> {
  let stdout: string;
  try {
    ({ stdout } = await execa(command, ['-v'], { timeout: 10_000 }));
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') throw new Error(HAPROXY_MISSING);
    throw err;
  }
  const first = stdout.split('\n')[0]?.trim() ?? '';
  if (!first.startsWith('HAProxy version')) throw new Error(`${command} -v said ${JSON.stringify(first)}, not an HAProxy version`);
  return first;
}

function configure(spec: ProxyCellSpec): ProxyConfig {
  if (!('endpoints' in spec.discovery)) throw new Error('haproxy: endpoints through a control plane (discovery) run on sluice only');
  const text = renderHaproxyConfig({
    params: spec.params,
    listen: spec.listen,
    admin: spec.admin,
    endpoints: spec.discovery.endpoints,
    upstreamProtocol: spec.upstreamProtocol,
    threads: haproxyThreads(process.env),
  });
  return { command: [HAPROXY_COMMAND, '-db', '-f', join(spec.workDir, HAPROXY_CONFIG_FILE)], files: { [HAPROXY_CONFIG_FILE]: text } };
}

async function start(sup: Supervisor, spec: ProxyCellSpec): Promise<RunningProxy> {
  await haproxyVersion();
  const config = configure(spec);
  await mkdir(spec.workDir, { recursive: true });
  for (const [name, text] of Object.entries(config.files ?? {})) await writeFile(join(spec.workDir, name), text);
  const [command, ...args] = config.command;
  const child = sup.startExecutable('proxy', command!, args);
  const adminUrl = `http://${spec.admin}`;
  try {
    await waitForHttpReady(`${adminUrl}/ready`, child, READY_TIMEOUT_MS);
  } catch (err) {
    const tail = child.stderrTail().trim();
    throw new Error(`haproxy did not start: ${(err as Error).message}${tail ? `\n${tail}` : ''}`, { cause: err });
  }
  return { child, url: `http://${spec.listen}/`, adminUrl, metricsUrl: `${adminUrl}/metrics`, config };
}

export const haproxyDriver: ProxyDriver = {
  name: 'haproxy',
  unsupported: haproxyUnsupported,
  configure,
  start,
  version: () => haproxyVersion(),
};
