// Every setting of the proxy in one table: its flag, default, the reason for that default, and how a raw
// string becomes a typed value. config.ts reads flags and SLUICE_PROXY_* variables through this table and
// the --help text is generated from it, so the three can never disagree.
import { parseDuration } from '../../common/duration.js';
import { parseAddress, type Address } from './address.js';

export const BALANCERS = ['p2c', 'round-robin', 'least-request'] as const;
export type BalancerName = (typeof BALANCERS)[number];
export const UPSTREAM_PROTOCOLS = ['auto', 'h1', 'h2'] as const;
const MAX_WINDOW = 2 ** 31 - 1; // RFC 9113 6.9.1: a flow-control window never exceeds 2^31-1
const RFC_INITIAL_WINDOW = 65_535; // RFC 9113 6.9.2: the initial window of every stream and connection

export interface Config {
  listen: Address;
  admin: Address;
  endpoints: Address[];
  upstreamProtocol: (typeof UPSTREAM_PROTOCOLS)[number];
  streamWindow: number;
  connWindow: number;
  maxConcurrentStreams: number;
  balancer: BalancerName;
  /** PeakEWMA time constant, ms. */
  ewmaDecay: number;
  /** PeakEWMA estimate of an endpoint without samples yet, ms. */
  ewmaDefaultRtt: number;
  /** Adaptive (BDP) flow control on both sides, starting from streamWindow/connWindow (proxy/src/flow/). */
  adaptive: boolean;
  /** Connection life, ms; 0 turns each off (upstream/h1-pool.ts, downstream/conn-life.ts). */
  h1PoolIdleTimeout: number;
  downstreamIdleTimeout: number;
  maxConnectionDuration: number;
  drainTimeout: number;
  delayedClose: number;
  /** Request body limit in bytes (layers/body-limit.ts); 0: none. */
  maxRequestBodyBytes: number;
}

/** A bad value; `where` is the flag or environment variable it came from. */
export class ConfigError extends Error {
  constructor(
    readonly where: string,
    detail: string,
  ) {
    super(`${where}: ${detail}`);
    this.name = 'ConfigError';
  }
}

export interface FlagSpec<K extends keyof Config = keyof Config> {
  flag: string;
  key: K;
  /** Placeholder in --help; undefined for a switch (a flag without a value). */
  valueName?: string;
  /** undefined: required. */
  default?: string;
  why: string;
  parse(raw: string, where: string): Config[K];
}

function address(allowZero: boolean) {
  return (raw: string, where: string): Address => {
    const parsed = parseAddress(raw, allowZero);
    if (!parsed) {
      const ports = allowZero ? '0-65535 (0: any free port)' : '1-65535';
      throw new ConfigError(where, `"${raw}" is not HOST:PORT; expected e.g. 127.0.0.1:4140 with a port in ${ports}`);
    }
    return parsed;
  };
}

function integer(min: number, max: number, what: string) {
  return (raw: string, where: string): number => {
    const value = /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new ConfigError(where, `"${raw}" is not allowed; expected an integer from ${min} to ${max} (${what})`);
    }
    return value;
  };
}

function oneOf<T extends string>(allowed: readonly T[], note = '') {
  return (raw: string, where: string): T => {
    const found = allowed.find((a) => a === raw.trim());
    if (found === undefined) {
      throw new ConfigError(where, `"${raw}" is not allowed; expected one of: ${allowed.join(', ')}${note}`);
    }
    return found;
  };
}

// Node's timers take at most 2^31-1 ms (about 24.8 days) and fire at once beyond it.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A duration ("500ms", "10s") in ms, at least `minMs` (and at most `maxMs`). */
function duration(minMs: number, maxMs = Infinity) {
  return (raw: string, where: string): number => {
    let ms: number;
    try {
      ms = parseDuration(raw, where);
    } catch {
      throw new ConfigError(where, `"${raw}" is not a duration; expected a number with a unit, e.g. 30ms, 10s`);
    }
    if (ms < minMs) throw new ConfigError(where, `"${raw}" is too short; expected at least ${minMs}ms`);
    if (ms > maxMs) throw new ConfigError(where, `"${raw}" is too long; expected at most ${maxMs}ms`);
    return ms;
  };
}

export const FLAGS: FlagSpec[] = [
  {
    flag: '--listen',
    key: 'listen',
    valueName: 'HOST:PORT',
    default: '127.0.0.1:4140',
    why: "linkerd's outbound port; loopback so a benchmark never exposes the proxy. Port 0 takes a free port (see the ready line).",
    parse: address(true),
  },
  {
    flag: '--admin',
    key: 'admin',
    valueName: 'HOST:PORT',
    default: '127.0.0.1:4191',
    why: "linkerd's admin port (/metrics, /ready, /live); loopback because metrics are for the local harness, not the network.",
    parse: address(true),
  },
  {
    flag: '--endpoints',
    key: 'endpoints',
    valueName: 'HOST:PORT,...',
    why: 'Required: the static upstream list the balancer spreads requests over (there is no discovery yet).',
    parse: (raw, where) => {
      const items = raw.split(',').map((s) => s.trim());
      if (items.length === 0 || items.some((s) => s === '')) {
        throw new ConfigError(where, `"${raw}" is not a list of HOST:PORT; expected e.g. 127.0.0.1:9001,127.0.0.1:9002`);
      }
      return items.map((item) => address(false)(item, where));
    },
  },
  {
    flag: '--upstream-protocol',
    key: 'upstreamProtocol',
    valueName: 'auto|h1|h2',
    default: 'auto',
    why: 'auto speaks upstream what the client spoke (gRPC is h2), so each cell measures one protocol end to end.',
    parse: oneOf(UPSTREAM_PROTOCOLS),
  },
  {
    flag: '--stream-window',
    key: 'streamWindow',
    valueName: 'BYTES',
    default: String(RFC_INITIAL_WINDOW),
    why: "linkerd's default and the RFC 9113 initial window: SETTINGS_INITIAL_WINDOW_SIZE on both sides. 0 stalls every body.",
    parse: integer(0, MAX_WINDOW, '2^31-1 is the HTTP/2 maximum'),
  },
  {
    flag: '--conn-window',
    key: 'connWindow',
    valueName: 'BYTES',
    default: String(1_048_576),
    why: "linkerd's default (1 MiB), so one stalled stream cannot exhaust the connection for the others (seed 000).",
    parse: integer(RFC_INITIAL_WINDOW, MAX_WINDOW, 'a connection window cannot shrink below the initial 65535'),
  },
  {
    flag: '--max-concurrent-streams',
    key: 'maxConcurrentStreams',
    valueName: 'N',
    default: '1024',
    why: 'Above the largest matrix concurrency (256 streams on one connection), so the limit is never what a cell measures, yet bounded (Node would allow 2^32-1).',
    parse: integer(1, 2 ** 32 - 1, 'SETTINGS_MAX_CONCURRENT_STREAMS'),
  },
  {
    flag: '--balancer',
    key: 'balancer',
    valueName: 'p2c|round-robin|least-request',
    default: 'p2c',
    why: "linkerd's balancer (linkerd: p2c): power of two choices over PeakEWMA, so a slow or loaded endpoint gets less traffic; round-robin and least-request are there to compare.",
    parse: oneOf(BALANCERS),
  },
  {
    flag: '--ewma-decay',
    key: 'ewmaDecay',
    valueName: 'DURATION',
    default: '10s',
    why: "linkerd's PeakEWMA decay (linkerd: 10s): the time constant with which an RTT estimate forgets a peak.",
    parse: duration(0.001),
  },
  {
    flag: '--ewma-default-rtt',
    key: 'ewmaDefaultRtt',
    valueName: 'DURATION',
    default: '30ms',
    why: "linkerd's default RTT (linkerd: 30ms): the PeakEWMA estimate of an endpoint before its first response.",
    parse: duration(0),
  },
  {
    flag: '--adaptive',
    key: 'adaptive',
    default: 'off',
    why: 'Fixed windows unless asked: a cell measures exactly the windows it names. On: BDP estimation with PING grows both windows from --stream-window/--conn-window (doubling, up to 16 MiB, never shrinking).',
    parse: (raw, where) => {
      const value = raw.trim();
      if (/^(0|false|off|no)?$/i.test(value)) return false; // empty: as if unset
      if (/^(1|true|on|yes)$/i.test(value)) return true;
      throw new ConfigError(where, `"${raw}" is not allowed; expected a switch: --adaptive, or true|false|on|off|1|0|yes|no`);
    },
  },
  {
    flag: '--h1-pool-idle-timeout',
    key: 'h1PoolIdleTimeout',
    valueName: 'DURATION',
    default: '3s',
    why: "linkerd's HTTP/1 pool idle timeout (linkerd: 3s): an idle upstream keep-alive connection is closed by the proxy before a typical upstream idle timeout (Node 5s, nginx 75s) closes it under a request. Keep it below the upstream's; an upstream's Keep-Alive: timeout=N hint caps it at N-1 s. 0: never.",
    parse: duration(0, MAX_TIMER_MS),
  },
  {
    flag: '--downstream-idle-timeout',
    key: 'downstreamIdleTimeout',
    valueName: 'DURATION',
    default: '1h',
    why: "Envoy's idle_timeout (Envoy: 1h; linkerd has none): a client connection without requests is closed (HTTP/1.1) or drained with GOAWAY (h2). Long, so the client's own idle timeout fires first and no request races the close. 0: never.",
    parse: duration(0, MAX_TIMER_MS),
  },
  {
    flag: '--max-connection-duration',
    key: 'maxConnectionDuration',
    valueName: 'DURATION',
    default: '0s',
    why: "Off, as in Envoy and linkerd: a cell measures connections the client chose to keep. Set: after this long a client connection drains (GOAWAY on h2, Connection: close on the next HTTP/1.1 response).",
    parse: duration(0, MAX_TIMER_MS),
  },
  {
    flag: '--drain-timeout',
    key: 'drainTimeout',
    valueName: 'DURATION',
    default: '5s',
    why: "Envoy's drain_timeout value (Envoy: 5s, there the wait between its two GOAWAYs): here how long a draining client connection (idle, max duration) may keep in-flight requests before it is closed.",
    parse: duration(1, MAX_TIMER_MS),
  },
  {
    flag: '--delayed-close',
    key: 'delayedClose',
    valueName: 'DURATION',
    default: '1s',
    why: "Envoy's delayed_close_timeout (Envoy: 1s): after a response sent before the request body was read (413, early 4xx), half-close and keep reading until the client closes or this passes, so the client reads the response instead of a reset (seed 001). 0: close at once.",
    parse: duration(0, MAX_TIMER_MS),
  },
  {
    flag: '--max-request-body-bytes',
    key: 'maxRequestBodyBytes',
    valueName: 'BYTES',
    default: String(16 * 2 ** 20),
    why: 'Above every workload body (the largest test upload is 8 MiB) yet bounded; linkerd and Envoy set none by default. A larger Content-Length gets 413 at once (delayed close on HTTP/1.1); a body that grows past it is cut. A gRPC stream counts all its messages. 0: no limit.',
    parse: integer(0, Number.MAX_SAFE_INTEGER, '0 turns the limit off'),
  },
];
