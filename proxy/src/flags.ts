// Every setting of the proxy in one table: its flag, default, the reason for that default, and how a raw
// string becomes a typed value. config.ts reads flags and SLUICE_PROXY_* variables through this table and
// the --help text is generated from it, so the three can never disagree.
import { parseAddress, type Address } from './address.js';

export const BALANCERS = ['round-robin'] as const;
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
  balancer: (typeof BALANCERS)[number];
  /** Always false: adaptive flow control is refused at start until it exists. */
  adaptive: false;
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
    valueName: 'round-robin',
    default: 'round-robin',
    why: 'The only balancer so far; p2c over PeakEWMA and least-request come later.',
    parse: oneOf(BALANCERS, ' (p2c and least-request are not implemented yet)'),
  },
  {
    flag: '--adaptive',
    key: 'adaptive',
    default: 'off',
    why: 'Adaptive (BDP) flow control is not implemented yet; asking for it is refused rather than measuring fixed windows under its name.',
    parse: (raw, where) => {
      if (/^(0|false|off|no)?$/i.test(raw.trim())) return false;
      throw new ConfigError(where, 'adaptive flow control is not implemented yet (issue: the proxy under test)');
    },
  },
];
