// The fault flags (--slow-endpoints .. --admin) -> the typed FaultConfig and the admin address, and the
// combinations refused because a flag could never act or contradicts another; such an error names both.
import { H2_CODE_NAMES } from '../../common/h2-codes.js';
import type { Protocol } from '../../common/protocols.js';
import { ConfigError, duration, integer, latency, oneOf, share } from './flag-values.js';
import { REFUSALS, type FaultConfig } from './faults.js';
import { GRPC_STATUS_NAMES } from '../../common/grpc-status.js';
import type { LatencySpec } from './latency.js';

export const FAULT_OPTIONS = {
  'slow-endpoints': { type: 'string' },
  'slow-latency': { type: 'string' },
  refuse: { type: 'string' },
  'reset-share': { type: 'string' },
  'reset-code': { type: 'string' },
  'fail-share': { type: 'string' },
  'fail-status': { type: 'string' },
  'fail-grpc': { type: 'string' },
  'idle-close': { type: 'string' },
  'early-status': { type: 'string' },
  'early-after-bytes': { type: 'string' },
  'early-linger': { type: 'string' },
  'stall-read': { type: 'boolean' },
  'down-at': { type: 'string' },
  'up-at': { type: 'string' },
  admin: { type: 'string' },
} as const;

type FaultFlag = keyof typeof FAULT_OPTIONS;
export type FaultFlagValues = { [K in FaultFlag]?: (typeof FAULT_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

export const FAULT_DEFAULTS = { resetCode: 'INTERNAL_ERROR', failStatus: 503, failGrpc: 'UNAVAILABLE', earlyAfterBytes: 0, earlyLingerMs: 0 } as const;

export interface AdminAddress {
  host: string;
  port: number;
}

/** Flags that act on the faulty set's requests: with --refuse (and no --admin to lift it) none would ever act. */
const REQUEST_FAULTS: FaultFlag[] = ['slow-latency', 'reset-share', 'fail-share', 'idle-close', 'early-status', 'stall-read'];

export function parseFaultFlags(
  values: FaultFlagValues,
  base: { protocol: Protocol; endpoints: number; latency: LatencySpec },
): { faults: FaultConfig; admin: AdminAddress | null } {
  const given = (flag: FaultFlag): boolean => values[flag] !== undefined && values[flag] !== false;
  const { protocol } = base;
  const admin = values.admin === undefined ? null : adminAddress(values.admin);

  const faults: FaultConfig = {
    slowEndpoints: integer('--slow-endpoints', values['slow-endpoints'], base.endpoints, 1, Number.MAX_SAFE_INTEGER),
    slowLatency: values['slow-latency'] === undefined ? base.latency : latency('--slow-latency', values['slow-latency']),
    refuse: values.refuse === undefined ? null : oneOf('--refuse', values.refuse, REFUSALS),
    resetShare: share('--reset-share', values['reset-share']),
    resetCode: values['reset-code'] === undefined ? FAULT_DEFAULTS.resetCode : oneOf('--reset-code', values['reset-code'], H2_CODE_NAMES),
    failShare: share('--fail-share', values['fail-share']),
    failStatus: integer('--fail-status', values['fail-status'], FAULT_DEFAULTS.failStatus, 400, 599),
    failGrpc: values['fail-grpc'] === undefined ? FAULT_DEFAULTS.failGrpc : oneOf('--fail-grpc', values['fail-grpc'], GRPC_STATUS_NAMES),
    idleCloseMs: values['idle-close'] === undefined ? null : duration('--idle-close', values['idle-close'], 1),
    earlyStatus: values['early-status'] === undefined ? null : integer('--early-status', values['early-status'], 0, 200, 599),
    earlyAfterBytes: integer('--early-after-bytes', values['early-after-bytes'], FAULT_DEFAULTS.earlyAfterBytes, 0, Number.MAX_SAFE_INTEGER),
    earlyLingerMs: values['early-linger'] === undefined ? FAULT_DEFAULTS.earlyLingerMs : duration('--early-linger', values['early-linger'], 0),
    stallRead: values['stall-read'] === true,
    downAtMs: values['down-at'] === undefined ? null : duration('--down-at', values['down-at'], 0),
    upAtMs: values['up-at'] === undefined ? null : duration('--up-at', values['up-at'], 0),
  };

  if (faults.slowEndpoints > base.endpoints) {
    throw new ConfigError('--slow-endpoints', `${faults.slowEndpoints} is more than --endpoints ${base.endpoints}`);
  }
  if (faults.failGrpc === 'OK') throw new ConfigError('--fail-grpc', 'OK is not a failure; name a gRPC error status, e.g. UNAVAILABLE');

  // Faults one protocol cannot have.
  if (given('idle-close') && protocol !== 'h1') {
    throw new ConfigError('--idle-close', `closes idle HTTP/1.1 keep-alive connections; --protocol ${protocol} has none (use --protocol h1)`);
  }
  if (given('early-status') && protocol === 'grpc') {
    throw new ConfigError('--early-status', 'answers an HTTP status before the body is read; --protocol grpc answers gRPC statuses (use --protocol h1 or h2)');
  }
  if (given('fail-status') && protocol === 'grpc') {
    throw new ConfigError('--fail-status', 'is an HTTP status; with --protocol grpc use --fail-grpc');
  }
  if (given('fail-grpc') && protocol !== 'grpc') {
    throw new ConfigError('--fail-grpc', `is a gRPC status; with --protocol ${protocol} use --fail-status`);
  }
  if (given('reset-code') && protocol === 'h1') {
    throw new ConfigError('--reset-code', 'is an HTTP/2 RST_STREAM code; with --protocol h1 --reset-share resets the connection, which carries no code');
  }

  // Flags that qualify another one that is missing.
  if (given('early-after-bytes') && !given('early-status')) {
    throw new ConfigError('--early-after-bytes', 'is the body size above which --early-status answers; give --early-status too');
  }
  if (given('early-linger') && !given('early-status')) {
    throw new ConfigError('--early-linger', 'is how long an --early-status answer keeps reading before it closes; give --early-status too');
  }
  if (given('early-linger') && protocol !== 'h1') {
    throw new ConfigError('--early-linger', `delays the close of an HTTP/1.1 connection; --protocol ${protocol} ends the stream alone (use --protocol h1)`);
  }
  if (given('reset-code') && !given('reset-share') && admin === null) {
    throw new ConfigError('--reset-code', 'is the code of --reset-share\'s resets; give --reset-share (or --admin, to set resetShare later)');
  }
  for (const flag of ['fail-status', 'fail-grpc'] as const) {
    if (given(flag) && !given('fail-share') && admin === null) {
      throw new ConfigError(`--${flag}`, 'is what --fail-share answers; give --fail-share (or --admin, to set failShare later)');
    }
  }
  if (given('up-at') && !given('down-at')) throw new ConfigError('--up-at', 'brings the faulty set back after --down-at; give --down-at too');
  if (faults.upAtMs !== null && faults.downAtMs !== null && faults.upAtMs <= faults.downAtMs) {
    throw new ConfigError('--up-at', `${values['up-at']} is not after --down-at ${values['down-at']}`);
  }

  // Faults that contradict each other.
  if (faults.resetShare + faults.failShare > 1) {
    throw new ConfigError('--reset-share', `${faults.resetShare} + --fail-share ${faults.failShare} is more than 1: a request is reset or failed, not both`);
  }
  if (faults.stallRead && given('early-status')) {
    throw new ConfigError('--stall-read', 'never reads nor answers a body, --early-status answers it at once: give one of them');
  }
  const requestFaults = REQUEST_FAULTS.filter(given);
  if (faults.refuse !== null && requestFaults.length > 0 && admin === null) {
    throw new ConfigError('--refuse', `keeps every request from the faulty set, so --${requestFaults[0]} would never act (add --admin to lift the refusal later)`);
  }
  if (given('slow-endpoints') && requestFaults.length === 0 && faults.refuse === null && faults.downAtMs === null && admin === null) {
    throw new ConfigError('--slow-endpoints', 'picks a faulty set, but no fault is given for it (--slow-latency, --refuse, --reset-share, --fail-share, --idle-close, --early-status, --stall-read, --down-at or --admin)');
  }
  return { faults, admin };
}

/** --admin HOST:PORT, loopback only: the admin API changes faults without any authentication. */
function adminAddress(text: string): AdminAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text.trim());
  if (!match) throw new ConfigError('--admin', `"${text}" is not HOST:PORT (e.g. 127.0.0.1:0)`);
  const host = match[1] ?? match[2]!;
  if (!(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host))) {
    throw new ConfigError('--admin', `${host} is not a loopback address: the admin API changes faults unauthenticated, so it listens on 127.0.0.1 (or ::1) only`);
  }
  return { host, port: integer('--admin', match[3], 0, 0, 65_535) };
}
