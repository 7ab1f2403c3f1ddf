// Debian's Prometheus programs for the telemetry tests: a missing one fails the test naming the package to
// install (never a skip: a skipped test would let the pushes and the backfill go unchecked). Started through a
// Supervisor of their own (killed if the test process dies) on a free port, ready when /-/ready answers 200.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { missingBinaryMessage } from '../../../common/binaries.js';
import { freePort } from '../../orchestrator/ports.js';
import { Supervisor, waitForHttpReady } from '../../orchestrator/supervisor.js';

export interface Program {
  bin: string;
  /** The Debian package that installs it. */
  pkg: string;
}

export const PROMTOOL: Program = { bin: '/usr/bin/promtool', pkg: 'prometheus' };
export const PROMETHEUS: Program = { bin: '/usr/bin/prometheus', pkg: 'prometheus' };
export const PUSHGATEWAY: Program = { bin: '/usr/bin/prometheus-pushgateway', pkg: 'prometheus-pushgateway' };

export function requireBinary(p: Program): string {
  if (!existsSync(p.bin)) assert.fail(missingBinaryMessage(p.bin, p.pkg));
  return p.bin;
}

export interface Daemon {
  /** http://127.0.0.1:<port> */
  url: string;
  pid: number | undefined;
  stderrTail(): string;
  /** SIGTERM, SIGKILL after 2 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/** `args(address)`: the command line given its listen address (127.0.0.1:<free port>). */
export async function startDaemon(p: Program, args: (address: string) => string[]): Promise<Daemon> {
  const address = `127.0.0.1:${await freePort()}`;
  const sup = new Supervisor();
  const child = sup.startExecutable(p.pkg, requireBinary(p), args(address));
  const daemon: Daemon = { url: `http://${address}`, pid: child.pid, stderrTail: () => child.stderrTail(), stop: () => sup.stopAll() };
  try {
    await waitForHttpReady(`${daemon.url}/-/ready`, child, 30_000);
  } catch (err) {
    await daemon.stop();
    throw new Error(`${p.bin}: ${(err as Error).message}\n${child.stderrTail()}`);
  }
  return daemon;
}
