// The backends' command line: flags -> a typed, validated BackendConfig. Every error names its flag.
import { parseArgs } from 'node:util';
import { LatencyError, parseLatency, type LatencySpec } from './latency.js';

export const PROTOCOLS = ['h1', 'h2', 'grpc'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

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

export class ConfigError extends Error {
  constructor(readonly flag: string, message: string) {
    super(`${flag}: ${message}`);
    this.name = 'ConfigError';
  }
}

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

  let latency: LatencySpec;
  try {
    latency = parseLatency(values.latency ?? DEFAULTS.latency, '--latency');
  } catch (err) {
    if (err instanceof LatencyError) throw new ConfigError('--latency', err.message.replace(/^--latency: /, ''));
    throw err;
  }

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

function integer(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text.trim())) throw new ConfigError(flag, `"${text}" is not a whole number`);
  const value = Number(text.trim());
  if (value < min || value > max) throw new ConfigError(flag, `${value} is outside ${min}..${max}`);
  return value;
}

export function helpText(): string {
  return `Usage: node dist/workloads/backends/main.js [flags]   (npm run backends -- [flags])

Serves N synthetic endpoints, one port each. Every endpoint answers any path and method:
it reads the whole request body, waits one latency sample, and answers 200 with
content-type application/octet-stream, response-bytes bytes and x-sluice-endpoint: <port>.
A request header x-sluice-response-bytes: N (gRPC: response_bytes) overrides the size.

Server streaming (h2 and gRPC): an h2 request with x-sluice-stream-messages: N, or a call to
sluice.echo.Echo/ServerStream with messages N (0: 10), is answered, after one latency sample, with N
messages of M bytes (the response size above, at least 8) written one after another as flow control
allows, then the end of the stream (h2: 200 with x-sluice-message-bytes: M; gRPC: N EchoReply, status
OK). Each message's first 8 bytes are the time it was written, float64 little-endian epoch ms
(performance.timeOrigin + performance.now()), so a client on this machine can time each message.
A bad N or an M under 8 is answered 400 (gRPC: INVALID_ARGUMENT).

When every port listens, one JSON line goes to stdout and nothing else does:
  {"event":"ready","protocol":"h2","host":"127.0.0.1","ports":[...]}
SIGTERM or SIGINT closes everything and exits 0.

Flags:
  --protocol h1|h2|grpc     h1: HTTP/1.1 keep-alive; h2: h2c prior knowledge;
                            grpc: sluice.echo.Echo/Unary and /ServerStream (workloads/proto/echo.proto)
                            (default ${DEFAULTS.protocol})
  --endpoints N             endpoints to serve, 1..${MAX_ENDPOINTS}  (default ${DEFAULTS.endpoints})
  --base-port P             ports P..P+N-1; 0 gives each endpoint an ephemeral port  (default ${DEFAULTS.basePort})
  --host HOST               address to listen on  (default ${DEFAULTS.host})
  --latency DIST            per-request latency  (default ${DEFAULTS.latency})
                              1ms | fixed:1ms          always 1 ms
                              uniform:1ms:5ms          uniform between min and max
                              normal:5ms:1ms           mean:stddev, clamped at 0
                              lognormal:5ms:0.5        median:sigma
                              bimodal:1ms:50ms:0.05    fast:slow:share of slow requests
  --response-bytes N        response body bytes, 0..${MAX_RESPONSE_BYTES}  (default ${DEFAULTS.responseBytes})
  --stream-window N         h2/gRPC: per-stream receive window the backend advertises  (default ${DEFAULTS.streamWindow})
  --conn-window N           h2/gRPC: connection receive window  (default ${DEFAULTS.connWindow})
                            Both defaults are large so the backend is never the flow-control
                            bottleneck; the proxy's windows are what a benchmark sweeps.
  -h, --help                show this text
`;
}
