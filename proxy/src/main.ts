// Entry point: `node dist/proxy/src/main.js FLAGS` (npm run proxy -- FLAGS). Bad settings exit 2 naming the
// flag or variable; once serving, one JSON line {"event":"ready",...} goes to stdout; SIGTERM or SIGINT
// stop it gracefully with exit 0.
import v8 from 'node:v8';
import { formatAddress } from './address.js';
import { ConfigError, helpText, parseConfig, type ParseResult } from './config.js';
import { sourceOf } from './discovery/index.js';
import { startProxy } from './proxy.js';

const EXIT_BAD_CONFIG = 2;
const STOP_GRACE_MS = 500; // in-flight requests get this long; the whole stop stays under ~1 s
const STOP_DEADLINE_MS = 1000;

let parsed: ParseResult;
try {
  parsed = parseConfig(process.argv.slice(2), process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`sluice-proxy: ${err.message}\n(run with --help for every flag, its default and why)\n`);
  process.exit(EXIT_BAD_CONFIG);
}
if (parsed.help) {
  process.stdout.write(helpText());
  process.exit(0);
}
const config = parsed.config;
// --parallel-scavenge (flags.ts says why off is the default): V8 reads the flag at each scavenge, so setting it
// now, before any load, holds for the process's life.
if (!config.parallelScavenge) v8.setFlagsFromString('--no-parallel-scavenge');

// A bug in one stream's handling must not take down every other stream of the benchmark: log and go on.
process.on('uncaughtException', (err) => process.stderr.write(`sluice-proxy: uncaught error: ${err.stack ?? err}\n`));
process.on('unhandledRejection', (err) => process.stderr.write(`sluice-proxy: unhandled rejection: ${String(err)}\n`));

const proxy = await startProxy(config).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    // A setting only start can check (an unreadable --endpoints-file).
    process.stderr.write(`sluice-proxy: ${err.message}\n`);
    process.exit(EXIT_BAD_CONFIG);
  }
  process.stderr.write(`sluice-proxy: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

process.stdout.write(
  JSON.stringify({
    event: 'ready',
    listen: formatAddress(proxy.listen),
    admin: formatAddress(proxy.admin),
    endpoints: config.endpoints.map(formatAddress),
    discovery: sourceOf(config),
    upstreamProtocol: config.upstreamProtocol,
    streamWindow: config.streamWindow,
    connWindow: config.connWindow,
    adaptive: config.adaptive,
  }) + '\n',
);

const shutdown = (): void => {
  setTimeout(() => process.exit(0), STOP_DEADLINE_MS).unref();
  proxy.stop(STOP_GRACE_MS).finally(() => process.exit(0));
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
