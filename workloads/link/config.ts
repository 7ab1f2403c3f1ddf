// The link's command line: flags -> a typed, validated LinkConfig. Every error names its flag.
import { parseArgs } from 'node:util';
import { DurationError, parseDuration } from '../../common/duration.js';
import { formatBandwidth, parseBandwidth } from './bandwidth.js';
import { defaultQueueLimit, QUEUE_HEADROOM_BYTES, UNLIMITED_QUEUE_BYTES, type LinkSettings } from './link-model.js';
import type { Address } from './relay-connection.js';
import type { Route } from './relay.js';
import { WAKE_MODES, type WakeMode } from './wake.js';

export interface LinkConfig {
  routes: Route[];
  settings: LinkSettings;
  /** How the queue limit was chosen, for /stats: "--queue-bytes", or the default rule applied. */
  queueRule: string;
  admin: Address;
  wake: WakeMode;
}

export const MAX_ROUTES = 1000;
/** A minute of delay is far beyond any network a benchmark emulates; it guards against "40s" for "40ms". */
export const MAX_RTT_MS = 60_000;
export const MAX_QUEUE_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_ADMIN = '127.0.0.1:0';

export class ConfigError extends Error {
  constructor(readonly flag: string, message: string) {
    super(`${flag}: ${message}`);
    this.name = 'ConfigError';
  }
}

export type LinkCommand = { kind: 'help' } | { kind: 'run'; config: LinkConfig };

const OPTIONS = {
  listen: { type: 'string', multiple: true },
  to: { type: 'string', multiple: true },
  rtt: { type: 'string' },
  jitter: { type: 'string' },
  bandwidth: { type: 'string' },
  'queue-bytes': { type: 'string' },
  admin: { type: 'string' },
  wake: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses argv (without node and the script); throws ConfigError naming the flag on any bad value. */
export function parseLinkArgs(argv: string[]): LinkCommand {
  const values = readFlags(argv);
  if (values.help) return { kind: 'help' };

  const listens = values.listen ?? [];
  const tos = values.to ?? [];
  if (listens.length === 0) throw new ConfigError('--listen', 'at least one --listen HOST:PORT (with its --to HOST:PORT) is required');
  if (tos.length !== listens.length) {
    throw new ConfigError('--to', `${tos.length} --to for ${listens.length} --listen; they pair up in order, one --to per --listen`);
  }
  if (listens.length > MAX_ROUTES) throw new ConfigError('--listen', `${listens.length} routes; at most ${MAX_ROUTES}`);
  const routes = listens.map((listen, i) => ({ listen: address('--listen', listen, true), to: address('--to', tos[i]!, false) }));

  const rttMs = duration('--rtt', values.rtt ?? '0ms');
  if (rttMs > MAX_RTT_MS) throw new ConfigError('--rtt', `${values.rtt} is above ${MAX_RTT_MS / 1000}s`);
  const jitterMs = duration('--jitter', values.jitter ?? '0ms');
  if (jitterMs > rttMs / 2) {
    throw new ConfigError('--jitter', `${values.jitter} is more than the one-way delay (${rttMs / 2} ms, half the --rtt): a delay cannot go below zero`);
  }
  let bandwidthBps: number;
  try {
    bandwidthBps = parseBandwidth(values.bandwidth ?? '0');
  } catch (err) {
    throw new ConfigError('--bandwidth', (err as Error).message);
  }

  let queueLimitBytes: number;
  let queueRule: string;
  if (values['queue-bytes'] !== undefined) {
    queueLimitBytes = integer('--queue-bytes', values['queue-bytes'], 1, MAX_QUEUE_BYTES);
    queueRule = '--queue-bytes';
  } else {
    queueLimitBytes = defaultQueueLimit(rttMs, bandwidthBps);
    queueRule =
      bandwidthBps > 0
        ? `bandwidth x rtt + ${QUEUE_HEADROOM_BYTES} (${formatBandwidth(bandwidthBps)} x ${rttMs} ms)`
        : `unlimited bandwidth: ${UNLIMITED_QUEUE_BYTES} + ${QUEUE_HEADROOM_BYTES}`;
  }

  const wake = values.wake ?? 'precise';
  if (!(WAKE_MODES as readonly string[]).includes(wake)) throw new ConfigError('--wake', `"${wake}" is not one of ${WAKE_MODES.join(', ')}`);

  return {
    kind: 'run',
    config: {
      routes,
      settings: { rttMs, jitterMs, bandwidthBps, queueLimitBytes },
      queueRule,
      admin: address('--admin', values.admin ?? DEFAULT_ADMIN, true),
      wake: wake as WakeMode,
    },
  };
}

function readFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    // parseArgs' messages already name the flag ("Unknown option '--foo'").
    const message = err instanceof Error ? err.message : String(err);
    const flag = /'(-[^' ]+)/.exec(message)?.[1] ?? 'arguments';
    throw new ConfigError(flag, message);
  }
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** HOST:PORT (127.0.0.1:9001, localhost:0, [::1]:4140); port 0 only where a listener may pick one. */
function address(flag: string, text: string, allowZero: boolean): Address {
  const match = HOST_PORT.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match || port > 65_535 || (port === 0 && !allowZero)) {
    throw new ConfigError(flag, `"${text}" is not HOST:PORT with a port in ${allowZero ? 0 : 1}..65535`);
  }
  const host = match[1]!.startsWith('[') ? match[1]!.slice(1, -1) : match[1]!;
  return { host, port };
}

function duration(flag: string, text: string): number {
  try {
    return parseDuration(text, flag);
  } catch (err) {
    if (err instanceof DurationError) throw new ConfigError(flag, `"${text}" is not a duration; expected e.g. 40ms, 1.5ms, 250us, 0ms`);
    throw err;
  }
}

function integer(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text.trim())) throw new ConfigError(flag, `"${text}" is not a whole number of bytes`);
  const value = Number(text.trim());
  if (value < min || value > max) throw new ConfigError(flag, `${value} is outside ${min}..${max}`);
  return value;
}

export function helpText(): string {
  return `Usage: node dist/workloads/link/main.js [flags]   (npm run link -- [flags])

An emulated network link: a TCP relay adding delay, jitter and a bandwidth limit with a bounded queue, per
direction of every connection (kernel netem is not available here, so this is done in userland).
Every connection accepted on the i-th --listen is relayed on its own connection to the i-th --to.
When every listener listens, one JSON line goes to stdout and nothing else does:
  {"event":"ready","routes":[{"listen":"127.0.0.1:41234","to":"127.0.0.1:9001"}],"admin":"127.0.0.1:41235"}
(with "warning" when the bandwidth is above what this process measured it can relay).
SIGTERM or SIGINT closes everything and exits 0. Exit codes: 2 bad flags, 1 could not start.

Flags:
  --listen HOST:PORT    where clients connect; port 0 picks a free port. Repeatable, paired in order with --to
  --to HOST:PORT        where the i-th listener's connections go
  --rtt D               round-trip delay; each direction adds half  (default 0ms: a plain relay)
                          durations: 40ms, 1.5ms, 250us, 0ms
  --jitter D            each delivery moves uniformly within +-D, never reordering; at most rtt/2  (default 0ms)
  --bandwidth B         per direction of each connection, bits per second as tc writes them:
                          500kbit, 10mbit, 100mbit, 1gbit; 0 = unlimited  (default 0)
  --queue-bytes N       bytes one direction may hold (waiting and in flight) before the sender is paused
                          (default: bandwidth x rtt + ${QUEUE_HEADROOM_BYTES}; unlimited bandwidth: ${UNLIMITED_QUEUE_BYTES} + ${QUEUE_HEADROOM_BYTES})
  --admin HOST:PORT     GET /stats (JSON) and /metrics (Prometheus)  (default ${DEFAULT_ADMIN})
  --wake precise|timer  precise: timers plus a helper thread for the last milliseconds (~0.1 ms late);
                          timer: Node's timers alone (1-2 ms late)  (default precise)
  -h, --help            show this text
`;
}
