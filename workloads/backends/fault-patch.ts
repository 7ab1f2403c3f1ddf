// The body of POST /faults: a change to some endpoints' live faults, read from JSON and checked key by key.
// Pure; an error names the key (and both keys when only their combination is wrong).
import type { LiveFaults } from './faults.js';
import { REFUSALS, type Refusal } from './faults.js';
import { LatencyError, parseLatency } from './latency.js';

export interface FaultPatch extends Partial<LiveFaults> {
  /** Indexes into the ready line's ports; absent: the faulty set. */
  endpoints?: number[];
}

export class FaultPatchError extends Error {
  constructor(readonly key: string, message: string) {
    super(`${key}: ${message}`);
    this.name = 'FaultPatchError';
  }
}

const KEYS = ['endpoints', 'down', 'refuse', 'resetShare', 'failShare', 'latency', 'stallRead'];

/** Reads a parsed JSON body; `endpointCount` bounds the indexes. */
export function parseFaultPatch(body: unknown, endpointCount: number): FaultPatch {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new FaultPatchError('body', 'expected a JSON object, e.g. {"down": true}');
  }
  const fields = body as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!KEYS.includes(key)) throw new FaultPatchError(key, `unknown key; expected any of ${KEYS.join(', ')}`);
  }
  const patch: FaultPatch = {};
  if (fields.endpoints !== undefined) patch.endpoints = indexes(fields.endpoints, endpointCount);
  if (fields.down !== undefined) patch.down = flag('down', fields.down);
  if (fields.stallRead !== undefined) patch.stallRead = flag('stallRead', fields.stallRead);
  if (fields.refuse !== undefined) {
    if (fields.refuse !== null && !(REFUSALS as readonly unknown[]).includes(fields.refuse)) {
      throw new FaultPatchError('refuse', `${JSON.stringify(fields.refuse)} is not one of "closed", "reset", null`);
    }
    patch.refuse = fields.refuse as Refusal | null;
  }
  if (fields.resetShare !== undefined) patch.resetShare = share('resetShare', fields.resetShare);
  if (fields.failShare !== undefined) patch.failShare = share('failShare', fields.failShare);
  if (fields.latency !== undefined) {
    if (typeof fields.latency !== 'string') throw new FaultPatchError('latency', 'expected a string in --latency form, e.g. "200ms"');
    try {
      patch.latency = parseLatency(fields.latency, 'latency');
    } catch (err) {
      if (err instanceof LatencyError) throw new FaultPatchError('latency', err.message.replace(/^latency: /, ''));
      throw err;
    }
  }
  return patch;
}

/** resetShare + failShare of an endpoint after the patch: at most 1 (one draw splits them). */
export function checkShares(resetShare: number, failShare: number, index: number): void {
  if (resetShare + failShare > 1) {
    throw new FaultPatchError('resetShare, failShare', `endpoint ${index} would have resetShare ${resetShare} + failShare ${failShare} > 1`);
  }
}

function indexes(value: unknown, count: number): number[] {
  if (!Array.isArray(value) || value.length === 0) throw new FaultPatchError('endpoints', 'expected a non-empty array of endpoint indexes');
  for (const index of value) {
    if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= count) {
      throw new FaultPatchError('endpoints', `${JSON.stringify(index)} is not an endpoint index in 0..${count - 1}`);
    }
  }
  return [...new Set(value as number[])];
}

function flag(key: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new FaultPatchError(key, `expected true or false, got ${JSON.stringify(value)}`);
  return value;
}

function share(key: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new FaultPatchError(key, `expected a number in 0..1, got ${JSON.stringify(value)}`);
  return value;
}
