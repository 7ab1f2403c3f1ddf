// `npm run destination -- --port P --script FILE.yaml --admin HOST:PORT`: the synthetic control plane until
// SIGTERM/SIGINT. stdout carries exactly one line, the ready event ({"event":"ready","host":...,"port":...,
// "admin":"HOST:PORT"}); each script step and every diagnostic goes to stderr. The script's clock starts at the
// ready line; the admin API (admin.ts) applies steps whenever it is asked.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startAdmin, type DestinationAdmin } from './admin.js';
import { parseScript, runScript, ScriptError, type Step } from './script.js';
import { DestinationServer } from './server.js';

const EXIT_BAD_FLAGS = 2;
const EXIT_START_FAILED = 1;
/** linkerd's destination port. */
const DEFAULT_PORT = 8086;

const HELP = `Usage: npm run destination -- [--host 127.0.0.1] [--port ${DEFAULT_PORT}] [--script FILE.yaml] [--admin HOST:PORT]

The synthetic control plane: a Destination-like gRPC server (workloads/proto/destination.proto) that streams
endpoint sets (add / remove / no_endpoints) and profiles, played from a script's timeline (see README.md).
  --host HOST      listen address (default 127.0.0.1)
  --port PORT      0 takes a free port, reported in the ready line (default ${DEFAULT_PORT}, linkerd's)
  --script FILE    the timeline; without one every service is unknown (no_endpoints{exists: false})
  --admin HOST:PORT  the live API (POST /steps, GET /state; see README.md), e.g. 127.0.0.1:0 (port 0: a free
                   one, in the ready line as "admin"); loopback, as it changes what every proxy is told
`;

/** HOST:PORT with a port 0-65535 (IPv6 in brackets). */
function parseListen(text: string): { host: string; port: number } | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text.trim());
  if (!match || Number(match[2]) > 65535) return undefined;
  const host = match[1]!.startsWith('[') ? match[1]!.slice(1, -1) : match[1]!;
  return { host, port: Number(match[2]) };
}

const formatHostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

function fail(message: string, code: number): never {
  process.stderr.write(`destination: ${message}\n`);
  process.exit(code);
}

function main(): void {
  let values: { host?: string; port?: string; script?: string; admin?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        script: { type: 'string' },
        admin: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n(see --help)`, EXIT_BAD_FLAGS);
  }
  if (values.help) return void process.stdout.write(HELP);
  const host = values.host ?? '127.0.0.1';
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!/^\d+$/.test(values.port ?? '0') || port > 65535) fail(`--port: "${values.port}" is not a port 0-65535`, EXIT_BAD_FLAGS);
  const adminAt = values.admin === undefined ? undefined : parseListen(values.admin);
  if (values.admin !== undefined && !adminAt) fail(`--admin: "${values.admin}" is not HOST:PORT with a port 0-65535, e.g. 127.0.0.1:0`, EXIT_BAD_FLAGS);
  let steps: Step[] = [];
  if (values.script !== undefined) {
    try {
      steps = parseScript(readFileSync(values.script, 'utf8'), values.script);
    } catch (err) {
      if (err instanceof ScriptError) fail(`--script ${err.message}`, EXIT_BAD_FLAGS);
      fail(`--script ${values.script}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT_BAD_FLAGS);
    }
  }

  const started = async (): Promise<{ server: DestinationServer; admin?: DestinationAdmin }> => {
    const server = await DestinationServer.start({ host, port });
    if (!adminAt) return { server };
    try {
      return { server, admin: await startAdmin(server, adminAt.host, adminAt.port, (line) => process.stderr.write(`${line}\n`)) };
    } catch (err) {
      await server.close(true);
      throw new Error(`--admin ${values.admin}: cannot listen: ${(err as Error).message}`, { cause: err });
    }
  };
  started().then(
    ({ server, admin }) => {
      const script = runScript(server, steps, (step) =>
        process.stderr.write(`destination: at ${step.atMs} ms, ${step.service}: ${step.action.kind}\n`),
      );
      const stop = (): void => {
        script.stop();
        setTimeout(() => process.exit(0), 1000).unref();
        void Promise.all([server.close(), admin?.close()]).then(() => process.exit(0));
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      const ready: Record<string, unknown> = { event: 'ready', host, port: server.port };
      if (admin) ready.admin = formatHostPort(admin.host, admin.port);
      process.stdout.write(`${JSON.stringify(ready)}\n`);
    },
    (err: unknown) => fail(err instanceof Error ? err.message : String(err), EXIT_START_FAILED),
  );
}

main();
