// `npm run backends -- FLAGS`: serves N synthetic endpoints until SIGTERM/SIGINT, with the fault admin
// listener (--admin) and the down/up schedule (--down-at, --up-at) started once the ready line is out.
// stdout carries exactly one line, the ready event the orchestrator reads; diagnostics go to stderr.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, parseBackendArgs, type BackendConfig, type Protocol } from './config.js';
import { helpText } from './help.js';
import { scheduleDownUp, type DownUpSchedule } from './down-up.js';
import { createFaultAdmin } from './fault-admin.js';
import { listenOne } from './listen.js';
import type { RunningBackends, StartBackends } from './types.js';

/** After a stop signal, exit even if some connection will not close. */
const FORCE_EXIT_MS = 1000;
const EXIT_BAD_FLAGS = 2;
const EXIT_START_FAILED = 1;

// Imported on demand: gRPC's libraries take longer to load than the whole HTTP backend starts.
const servers: Record<Protocol, () => Promise<{ start: StartBackends }>> = {
  h1: () => import('./h1.js'),
  h2: () => import('./h2.js'),
  grpc: () => import('./grpc.js'),
};

async function main(): Promise<void> {
  let config: BackendConfig;
  try {
    const command = parseBackendArgs(process.argv.slice(2));
    if (command.kind === 'help') {
      process.stdout.write(helpText());
      return;
    }
    config = command.config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`backends: ${err.message}\n(see --help)\n`);
    process.exit(EXIT_BAD_FLAGS);
  }

  let running: RunningBackends | undefined;
  let admin: http.Server | undefined;
  let schedule: DownUpSchedule | undefined = undefined;
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`backends: ${signal}, closing\n`);
    setTimeout(() => {
      process.stderr.write(`backends: connections still open after ${FORCE_EXIT_MS} ms; exiting anyway\n`);
      process.exit(0);
    }, FORCE_EXIT_MS).unref();
    if (!running) process.exit(0); // still starting: nothing of ours to close yet
    schedule?.cancel();
    admin?.close();
    admin?.closeAllConnections();
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`backends: error while closing: ${String(err)}\n`);
        process.exit(0);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  let adminAddress: string | undefined;
  try {
    const { start } = await servers[config.protocol]();
    running = await start(config);
    if (config.admin) {
      admin = createFaultAdmin(running.faults, config.endpoints);
      await listenOne(admin, config.admin.host, config.admin.port).catch((err: unknown) => {
        throw new Error(`--admin: ${err instanceof Error ? err.message : String(err)}`);
      });
      const { port } = admin.address() as AddressInfo;
      adminAddress = `${config.admin.host.includes(':') ? `[${config.admin.host}]` : config.admin.host}:${port}`;
    }
  } catch (err) {
    process.stderr.write(`backends: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(EXIT_START_FAILED);
  }
  const ready = { event: 'ready', protocol: config.protocol, host: config.host, ports: running.ports, ...(adminAddress ? { admin: adminAddress } : {}) };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  const { downAtMs, upAtMs } = config.faults;
  schedule = scheduleDownUp(downAtMs, upAtMs, running.faults, (line) => process.stderr.write(`backends: ${line}\n`));
}

main().catch((err: unknown) => {
  process.stderr.write(`backends: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(EXIT_START_FAILED);
});
