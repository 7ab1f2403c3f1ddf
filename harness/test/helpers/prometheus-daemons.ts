// Debian's Prometheus programs for the telemetry tests: a missing one fails the test naming the package to
// install (never a skip: a skipped test would let the pushes and the backfill go unchecked). They are Go
// binaries, which the Supervisor (node scripts only) does not start, so they are started here with execa under
// the Supervisor's options (killed if the test process dies) on a free port, ready when /-/ready answers 200.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { freePort } from '../../orchestrator/ports.js';

export interface Program {
  bin: string;
  /** The Debian package that installs it. */
  pkg: string;
}

export const PROMTOOL: Program = { bin: '/usr/bin/promtool', pkg: 'prometheus' };
export const PROMETHEUS: Program = { bin: '/usr/bin/prometheus', pkg: 'prometheus' };
export const PUSHGATEWAY: Program = { bin: '/usr/bin/prometheus-pushgateway', pkg: 'prometheus-pushgateway' };

export function requireBinary(p: Program): string {
  if (!existsSync(p.bin)) assert.fail(`${p.bin} is missing: install Debian's ${p.pkg} package (apt-get install ${p.pkg})`);
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
  const child = execa(requireBinary(p), args(address), {
    buffer: false,
    reject: false,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
    forceKillAfterDelay: 2000,
    cleanup: true,
  });
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-4096);
  });
  let exited = false;
  const done = child.then((r) => {
    exited = true;
    return r.signal ? `killed by ${r.signal}` : `exited with code ${String(r.exitCode)}`;
  });
  const daemon: Daemon = {
    url: `http://${address}`,
    pid: child.pid,
    stderrTail: () => tail,
    stop: async () => {
      if (!exited) child.kill('SIGTERM');
      await done;
    },
  };
  try {
    await waitReady(`${daemon.url}/-/ready`, () => (exited ? done : undefined));
  } catch (err) {
    await daemon.stop();
    throw new Error(`${p.bin} ${(err as Error).message}\n${tail}`);
  }
  return daemon;
}

async function waitReady(url: string, hasExited: () => Promise<string> | undefined, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    const why = hasExited();
    if (why) throw new Error(`${await why} before ${url} was ready`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(500) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`was not ready at ${url} within ${timeoutMs} ms (${last})`);
}
