// The backends' command line: flags -> a typed, validated BackendConfig. Every error names its flag; the
// fault flags are read by fault-flags.ts, the help text is help.ts.
import { parseArgs } from 'node:util';
import { FAULT_OPTIONS, parseFaultFlags, type AdminAddress } from './fault-flags.js';
import type { FaultConfig } from './faults.js';
import { ConfigError, integer, latency as latencyValue } from './flag-values.js';
import type { LatencySpec } from './latency.js';
import { PROTOCOL_NAMES, type Protocol } from '../../common/protocols.js';

export { ConfigError } from './flag-values.js';

/** A backend serves each of the generator's protocols. */
export const PROTOCOLS = PROTOCOL_NAMES;
export type { Protocol };

export interface BackendConfig {
  protocol: Protocol;
  /** How many endpoints (ports) to serve. */
  endpoints: number;
  /** First port of P..P+N-1; 0 gives every endpoint an ephemeral port. */
  basePort: number;
  host: string;
  latency: LatencySpec;
  /** Response body size unless a request asks for another (x-sluice-response-bytes, or response_bytes in gRPC). */
  responseBytes: number;
  /** h2 / gRPC: SETTINGS_INITIAL_WINDOW_SIZE the backend advertises (its receive window per stream). */
  streamWindow: number;
  /** h2 / gRPC: the backend's connection-level receive window. */
  connWindow: number;
  /** What the faulty set (the first faults.slowEndpoints endpoints) does wrong. */
  faults: FaultConfig;
  /** --admin: where the fault admin listener listens; null: no listener. */
  admin: AdminAddress | null;
}

export const MAX_ENDPOINTS = 1000;
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** Messages one server stream may be asked for (x-sluice-stream-messages, EchoRequest.messages). */
export const MAX_STREAM_MESSAGES = 1_000_000;
export const MAX_WINDOW = 2 ** 31 - 1;
/** The HTTP/2 default; a connection window cannot be set below it. */
export const MIN_CONN_WINDOW = 65_535;

export const DEFAULTS = {
  protocol: 'h1',
  endpoints: 1,
  basePort: 0,
  host: '127.0.0.1',
  latency: '0ms',
  responseBytes: 1024,
  streamWindow: 1_048_576,
  connWindow: 16_777_216,
} as const;

export type BackendCommand = { kind: 'help' } | { kind: 'run'; config: BackendConfig };

const OPTIONS = {
  protocol: { type: 'string' },
  endpoints: { type: 'string' },
  'base-port': { type: 'string' },
  host: { type: 'string' },
  latency: { type: 'string' },
  'response-bytes': { type: 'string' },
  'stream-window': { type: 'string' },
  'conn-window': { type: 'string' },
  ...FAULT_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses argv (without node and the script); throws ConfigError naming the flag on any bad value. */
export function parseBackendArgs(argv: string[]): BackendCommand {
  const values = readFlags(argv);
  if (values.help) return { kind: 'help' };

  const protocol = values.protocol ?? DEFAULTS.protocol;
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new ConfigError('--protocol', `"${protocol}" is not one of ${PROTOCOLS.join(', ')}`);
  }
  const endpoints = integer('--endpoints', values.endpoints, DEFAULTS.endpoints, 1, MAX_ENDPOINTS);
  const basePort = integer('--base-port', values['base-port'], DEFAULTS.basePort, 0, 65_535);
  if (basePort !== 0 && basePort + endpoints - 1 > 65_535) {
    throw new ConfigError('--base-port', `${basePort} + ${endpoints} endpoints runs past port 65535`);
  }
  const host = values.host ?? DEFAULTS.host;
  if (host.trim() === '') throw new ConfigError('--host', 'must not be empty');

  const latency = latencyValue('--latency', values.latency ?? DEFAULTS.latency);
  const { faults, admin } = parseFaultFlags(values, { protocol: protocol as Protocol, endpoints, latency });

  return {
    kind: 'run',
    config: {
      protocol: protocol as Protocol,
      endpoints,
      basePort,
      host,
      latency,
      responseBytes: integer('--response-bytes', values['response-bytes'], DEFAULTS.responseBytes, 0, MAX_RESPONSE_BYTES),
      streamWindow: integer('--stream-window', values['stream-window'], DEFAULTS.streamWindow, 0, MAX_WINDOW),
      connWindow: integer('--conn-window', values['conn-window'], DEFAULTS.connWindow, MIN_CONN_WINDOW, MAX_WINDOW),
      faults,
      admin,
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
