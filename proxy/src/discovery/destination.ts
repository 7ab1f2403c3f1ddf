// The Destination source (--destination HOST:PORT --service NAME): two gRPC server streams to a Destination-like
// control plane (workloads/proto/destination.proto, linkerd2-proxy-api's destination.proto simplified). Get
// streams Add / Remove / NoEndpoints for the service; GetProfile streams its profile (routes with retryable and
// timeout) into the ProfileStore. A stream that ends or fails is opened again after linkerd's control-plane
// backoff (1 s doubling to 5 s, 10% jitter); meanwhile the last endpoint set and profile stay in use, and the
// first message of the new stream replaces them (the controller starts every stream with the whole state).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { formatAddress, type Address } from '../address.js';
import type { ChangeKind, Resolver, ResolverEvents } from './index.js';
import type { ProfileRoute, ProfileStore } from './profile.js';

export interface Backoff {
  minMs: number;
  maxMs: number;
  /** A random share of each delay added on top (0.1: up to +10%), so proxies do not reconnect in step. */
  jitter: number;
}

/** linkerd2-proxy's DEFAULT_CONTROL_BACKOFF. */
export const CONTROL_BACKOFF: Backoff = { minMs: 1000, maxMs: 5000, jitter: 0.1 };

const SERVICE = 'sluice.destination.Destination';
const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

/** The API contract is a file of workloads/ (like linkerd2-proxy-api, shared by both sides); the proxy reads it
 *  as data and imports no workloads code. Compiled: dist/proxy/src/discovery/ -> the repository root. */
function protoPath(): string {
  for (const up of ['../../../', '../../../../']) {
    const candidate = fileURLToPath(new URL(`${up}workloads/proto/destination.proto`, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('workloads/proto/destination.proto not found');
}

interface WireAddress {
  host: string;
  port: number;
}
interface WireUpdate {
  update?: 'add' | 'remove' | 'no_endpoints';
  add?: { addrs?: WireAddress[] } | null;
  remove?: { addrs?: WireAddress[] } | null;
  no_endpoints?: { exists?: boolean } | null;
}
interface WireProfile {
  routes?: {
    name?: string;
    condition?: { path_regex?: string; method?: string } | null;
    is_retryable?: boolean;
    timeout_ms?: number;
  }[];
}
interface GetDestination {
  scheme: string;
  path: string;
  client_id: string;
}

type Method<Res> = {
  path: string;
  requestSerialize: (value: GetDestination) => Buffer;
  responseDeserialize: (bytes: Buffer) => Res;
};

let api: { get: Method<WireUpdate>; getProfile: Method<WireProfile> } | undefined;
function loadApi(): NonNullable<typeof api> {
  if (api) return api;
  const definition = protoLoader.loadSync(protoPath(), LOADER_OPTIONS)[SERVICE] as unknown as Record<string, Method<unknown>>;
  return (api = { get: definition.Get as Method<WireUpdate>, getProfile: definition.GetProfile as Method<WireProfile> });
}

export function backoffMs(attempt: number, backoff: Backoff, rng: () => number = Math.random): number {
  const base = Math.min(backoff.maxMs, backoff.minMs * 2 ** Math.max(0, attempt - 1));
  return base * (1 + backoff.jitter * rng());
}

/** One server stream, opened again after it ends or fails. `first` is true for the first message of each stream. */
class Subscription<T> {
  private call: grpc.ClientReadableStream<T> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;

  constructor(
    private readonly what: string,
    private readonly open: () => grpc.ClientReadableStream<T>,
    private readonly onMessage: (message: T, first: boolean) => void,
    private readonly onLost: (message: string) => void,
    private readonly backoff: Backoff,
  ) {
    this.connect();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.call?.cancel();
  }

  private connect(): void {
    if (this.closed) return;
    const call = (this.call = this.open());
    let first = true;
    call.on('data', (message: T) => {
      this.failures = 0; // the stream works: the next loss starts the backoff from the beginning
      const wasFirst = first;
      first = false;
      this.onMessage(message, wasFirst);
    });
    call.on('error', () => {}); // the outcome is read from 'status'
    call.on('status', (status: grpc.StatusObject) => {
      if (this.closed || this.call !== call) return;
      this.failures++;
      const delay = backoffMs(this.failures, this.backoff);
      const why = status.code === grpc.status.OK ? 'ended' : `failed: ${grpc.status[status.code]} ${status.details}`;
      this.onLost(`${this.what} ${why}; reconnecting in ${Math.round(delay)} ms`);
      this.timer = setTimeout(() => this.connect(), delay);
      this.timer.unref();
    });
  }
}

export interface DestinationOptions {
  address: Address;
  service: string;
  profiles: ProfileStore;
  backoff?: Backoff;
}

export class DestinationResolver implements Resolver {
  readonly source = 'destination';
  private readonly endpoints = new Map<string, Address>();
  private client: grpc.Client | undefined;
  private subscriptions: Subscription<unknown>[] = [];

  constructor(private readonly options: DestinationOptions) {}

  async start(events: ResolverEvents): Promise<void> {
    const { get, getProfile } = loadApi();
    const backoff = this.options.backoff ?? CONTROL_BACKOFF;
    const target = formatAddress(this.options.address);
    // The channel's own reconnect backoff follows ours, so a restarted control plane is found as soon as we retry.
    this.client = new grpc.Client(target, grpc.credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': backoff.minMs,
      'grpc.max_reconnect_backoff_ms': backoff.maxMs,
    });
    const client = this.client;
    const request: GetDestination = { scheme: 'k8s', path: this.options.service, client_id: 'sluice-proxy' };
    const subscribe = <T>(what: string, method: Method<T>, onMessage: (message: T, first: boolean) => void): Subscription<T> =>
      new Subscription<T>(
        `destination ${target} ${what}(${this.options.service})`,
        () => client.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, request),
        onMessage,
        (message) => events.error(message),
        backoff,
      );
    this.subscriptions = [
      subscribe('Get', get, (update, first) => this.onUpdate(update, first, events)) as Subscription<unknown>,
      subscribe('GetProfile', getProfile, (profile) => this.onProfile(profile, events)) as Subscription<unknown>,
    ];
  }

  close(): void {
    for (const s of this.subscriptions) s.close();
    this.client?.close();
  }

  private onUpdate(update: WireUpdate, first: boolean, events: ResolverEvents): void {
    // A new stream's first message is the whole state: what we kept from the last stream is stale.
    if (first) this.endpoints.clear();
    let kind: ChangeKind;
    switch (update.update) {
      case 'add':
        kind = 'add';
        for (const a of this.addresses(update.add?.addrs, events)) this.endpoints.set(formatAddress(a), a);
        break;
      case 'remove':
        kind = 'remove';
        for (const a of this.addresses(update.remove?.addrs, events)) this.endpoints.delete(formatAddress(a));
        break;
      case 'no_endpoints':
        kind = 'no-endpoints';
        this.endpoints.clear();
        break;
      default:
        events.error(`destination: an update without add, remove or no_endpoints; ignored`);
        return;
    }
    events.change({ kinds: [kind], endpoints: [...this.endpoints.values()] });
  }

  private addresses(wire: WireAddress[] | undefined, events: ResolverEvents): Address[] {
    const out: Address[] = [];
    for (const a of wire ?? []) {
      if (!a.host || !Number.isInteger(a.port) || a.port < 1 || a.port > 65535) {
        events.error(`destination: address ${JSON.stringify(a)} is not HOST:PORT with a port 1-65535; ignored`);
        continue;
      }
      out.push({ host: a.host, port: a.port });
    }
    return out;
  }

  private onProfile(profile: WireProfile, events: ResolverEvents): void {
    const routes: ProfileRoute[] = (profile.routes ?? []).map((r, i) => ({
      name: r.name || `route-${i + 1}`,
      method: r.condition?.method ?? '',
      pathRegex: r.condition?.path_regex ?? '',
      retryable: r.is_retryable ?? false,
      timeoutMs: r.timeout_ms ?? 0,
    }));
    for (const problem of this.options.profiles.set(routes)) events.error(`destination: profile ${problem}; route ignored`);
  }
}
