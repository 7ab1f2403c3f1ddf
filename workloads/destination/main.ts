// `npm run destination -- --port P --script FILE.yaml`: the synthetic control plane until SIGTERM/SIGINT.
// stdout carries exactly one line, the ready event ({"event":"ready","host":...,"port":...}); each script step
// and every diagnostic goes to stderr. The script's clock starts at the ready line.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseScript, runScript, ScriptError, type Step } from './script.js';
import { DestinationServer } from './server.js';

const EXIT_BAD_FLAGS = 2;
const EXIT_START_FAILED = 1;
/** linkerd's destination port. */
const DEFAULT_PORT = 8086;

const HELP = `Usage: npm run destination -- [--host 127.0.0.1] [--port ${DEFAULT_PORT}] [--script FILE.yaml]

The synthetic control plane: a Destination-like gRPC server (workloads/proto/destination.proto) that streams
endpoint sets (add / remove / no_endpoints) and profiles, played from a script's timeline (see README.md).
  --host HOST      listen address (default 127.0.0.1)
  --port PORT      0 takes a free port, reported in the ready line (default ${DEFAULT_PORT}, linkerd's)
  --script FILE    the timeline; without one every service is unknown (no_endpoints{exists: false})
`;

function fail(message: string, code: number): never {
  process.stderr.write(`destination: ${message}\n`);
  process.exit(code);
}

function main(): void {
  let values: { host?: string; port?: string; script?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: { host: { type: 'string' }, port: { type: 'string' }, script: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n(see --help)`, EXIT_BAD_FLAGS);
  }
  if (values.help) return void process.stdout.write(HELP);
  const host = values.host ?? '127.0.0.1';
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!/^\d+$/.test(values.port ?? '0') || port > 65535) fail(`--port: "${values.port}" is not a port 0-65535`, EXIT_BAD_FLAGS);
  let steps: Step[] = [];
  if (values.script !== undefined) {
    try {
      steps = parseScript(readFileSync(values.script, 'utf8'), values.script);
    } catch (err) {
      if (err instanceof ScriptError) fail(`--script ${err.message}`, EXIT_BAD_FLAGS);
      fail(`--script ${values.script}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT_BAD_FLAGS);
    }
  }

  DestinationServer.start({ host, port }).then(
    (server) => {
      const script = runScript(server, steps, (step) =>
        process.stderr.write(`destination: at ${step.atMs} ms, ${step.service}: ${step.action.kind}\n`),
      );
      const stop = (): void => {
        script.stop();
        setTimeout(() => process.exit(0), 1000).unref();
        void server.close().then(() => process.exit(0));
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      process.stdout.write(`${JSON.stringify({ event: 'ready', host, port: server.port })}\n`);
    },
    (err: unknown) => fail(err instanceof Error ? err.message : String(err), EXIT_START_FAILED),
  );
}

main();
