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
  /** Discovery (proxy/src/discovery/): exactly one of endpoints (empty when another source is given),
   *  endpointsFile, or destination with destinationService (--service). */
  endpointsFile?: string;
  destination?: Address;
  destinationService?: string;
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
  /** undefined: required, unless `unset` says what leaving it out means. */
  default?: string;
  /** Shown in --help instead of a default for a flag that may be left out (it is then absent from Config);
   *  checkConfig decides what must be given together. */
  unset?: string;
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

/** A duration ("500ms", "10s") in ms, at least `minMs`. */
function duration(minMs: number) {
  return (raw: string, where: string): number => {
    let ms: number;
    try {
      ms = parseDuration(raw, where);
    } catch {
      throw new ConfigError(where, `"${raw}" is not a duration; expected a number with a unit, e.g. 30ms, 10s`);
    }
    if (ms < minMs) throw new ConfigError(where, `"${raw}" is too short; expected at least ${minMs}ms`);
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
    unset: 'required',
    why: 'The static upstream list the balancer spreads requests over; required unless --endpoints-file or --destination gives the endpoints instead (exactly one of the three).',
    parse: (raw, where) => {
      const items = raw.split(',').map((s) => s.trim());
      if (items.length === 0 || items.some((s) => s === '')) {
        throw new ConfigError(where, `"${raw}" is not a list of HOST:PORT; expected e.g. 127.0.0.1:9001,127.0.0.1:9002`);
      }
      return items.map((item) => address(false)(item, where));
    },
  },
  {
    flag: '--endpoints-file',
    key: 'endpointsFile',
    valueName: 'FILE',
    unset: 'none',
    why: 'Discovery from a file of HOST:PORT lines (or a YAML list), reloaded when it changes; a bad file keeps the last good set. Instead of --endpoints.',
    parse: (raw, where) => {
      if (raw.trim() === '') throw new ConfigError(where, 'expected a file path');
      return raw.trim();
    },
  },
  {
    flag: '--destination',
    key: 'destination',
    valueName: 'HOST:PORT',
    unset: 'none',
    why: "Discovery from a Destination-like gRPC control plane (workloads/destination/): endpoint Add/Remove/NoEndpoints and profiles for --service. linkerd's is on port 8086. Instead of --endpoints.",
    parse: address(false),
  },
  {
    flag: '--service',
    key: 'destinationService',
    valueName: 'NAME',
    unset: 'none',
    why: 'The service whose endpoints and profile --destination streams (GetDestination.path); required with --destination, and only with it.',
    parse: (raw, where) => {
      if (raw.trim() === '') throw new ConfigError(where, 'expected a service name, e.g. web.default.svc.cluster.local:8080');
      return raw.trim();
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
];

/** What single flags cannot check: exactly one discovery source, and --service exactly with --destination.
 *  `whereOf` names the flag or variable a key came from. Leaves `endpoints` empty when another source is given. */
export function checkConfig(config: Partial<Config>, whereOf: (key: keyof Config) => string): void {
  const sources = (['endpoints', 'endpointsFile', 'destination'] as const).filter((k) => config[k] !== undefined);
  if (sources.length === 0) {
    throw new ConfigError(
      '--endpoints',
      'required; give HOST:PORT,... or set SLUICE_PROXY_ENDPOINTS, or discover them with --endpoints-file FILE or --destination HOST:PORT --service NAME',
    );
  }
  if (sources.length > 1) {
    throw new ConfigError(sources.map(whereOf).join(', '), 'give exactly one discovery source: --endpoints, --endpoints-file or --destination');
  }
  if (config.destination !== undefined && config.destinationService === undefined) {
    throw new ConfigError('--service', `required with ${whereOf('destination')}: the service name to resolve`);
  }
  if (config.destinationService !== undefined && config.destination === undefined) {
    throw new ConfigError(whereOf('destinationService'), 'only with --destination (the control plane that knows the service)');
  }
  config.endpoints ??= [];
}
