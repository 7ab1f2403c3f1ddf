// What a resolver is and reports, and the set arithmetic the resolvers share. Apart from index.ts (which picks
// one) so that a resolver imports what it implements without importing the choice among resolvers.
import { formatAddress, type Address } from '../address.js';
import type { ControlWindows } from './control-client.js';

export type DiscoverySource = 'static' | 'file' | 'destination';
export type ChangeKind = 'add' | 'remove' | 'no-endpoints';

export interface EndpointChange {
  /** What the update did: add, remove, both (a rewritten file), or no-endpoints (it left the set empty). */
  kinds: readonly ChangeKind[];
  /** The whole set after the update. */
  endpoints: readonly Address[];
}

export interface ResolverEvents {
  change(change: EndpointChange): void;
  /** A profile update was applied (Destination only; counted in /metrics). */
  profile?(): void;
  /** A failure the resolver outlives (the last good set stays in use): logged and counted by the caller. */
  error(message: string): void;
}

export interface Resolver {
  readonly source: DiscoverySource;
  /** The service resolved (--service), for metrics; absent for static and file sources. */
  readonly service?: string;
  /** Starts resolving. Rejects only when it cannot start at all (an endpoints file that cannot be read at start). */
  start(events: ResolverEvents): Promise<void>;
  /** Destination only: the control connection's receive windows (read at each scrape). */
  controlWindows?(): ControlWindows;
  close(): void;
}

/** The kinds of a change from `before` to `after` (empty when nothing changed). */
export function changeKinds(before: readonly Address[], after: readonly Address[]): ChangeKind[] {
  const was = new Set(before.map(formatAddress));
  const now = new Set(after.map(formatAddress));
  const kinds: ChangeKind[] = [];
  if ([...now].some((a) => !was.has(a))) kinds.push('add');
  if ([...was].some((a) => !now.has(a))) kinds.push(now.size === 0 ? 'no-endpoints' : 'remove');
  return kinds;
}

/** `addrs` without repeats (by HOST:PORT), in first-seen order. */
export function unique(addrs: readonly Address[]): Address[] {
  const seen = new Map<string, Address>();
  for (const a of addrs) if (!seen.has(formatAddress(a))) seen.set(formatAddress(a), a);
  return [...seen.values()];
}
