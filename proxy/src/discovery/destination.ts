// The Destination source (--destination HOST:PORT --service NAME): gRPC server streams to a Destination-like
// control plane (workloads/proto/destination.proto, linkerd2-proxy-api's destination.proto simplified), all on one
// HTTP/2 connection with its own windows (control-client.ts). Get streams Add / Remove / NoEndpoints for the
// service; GetProfile streams its profile (routes with retryable and timeout) into the ProfileStore. Each of
// --idle-services gets a GetProfile stream that is never read (seed 000: linkerd's router held profile watches of
// services nobody sent traffic to). A stream that ends or fails is opened again after linkerd's control-plane
// backoff (1 s doubling to 5 s, 10% jitter); meanwhile the last endpoint set and profile stay in use, and the
// first message of the new stream replaces them (the controller starts every stream with the whole state).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import { formatAddress, type Address } from '../address.js';
import { ControlClient, GRPC_STATUS, statusName, type CallStatus, type ControlCall, type ControlClientOptions, type ControlPlaneClient, type ControlWindows, type GrpcMethod } from './control-client.js';
import type { ChangeKind, Resolver, ResolverEvents } from './resolver.js';
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

type Method<Res> = GrpcMethod<GetDestination, Res>;

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

/** One server stream, opened again after it ends or fails. `first` is true for the first message of each stream.
 *  Without `onMessage` the stream is never read. */
class Subscription<T> {
  private call: ControlCall | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;

  constructor(
    private readonly what: string,
    private readonly open: (handlers: {
      onMessage?: (message: T) => void;
      onOpen: () => void;
      onStatus: (status: CallStatus) => void;
    }) => ControlCall,
    private readonly onMessage: ((message: T, first: boolean) => void) | undefined,
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
    let first = true;
    const onMessage = this.onMessage;
    const call = (this.call = this.open({
      onMessage: onMessage
        ? (message) => {
            this.failures = 0; // the stream works: the next loss starts the backoff from the beginning
            const wasFirst = first;
            first = false;
            onMessage(message, wasFirst);
          }
        : undefined,
      // A stream that is never read shows it works by its response headers alone.
      onOpen: () => {
        if (!onMessage) this.failures = 0;
      },
      onStatus: (status) => {
        if (this.closed || this.call !== call) return;
        this.failures++;
        const delay = backoffMs(this.failures, this.backoff);
        const why = status.code === GRPC_STATUS.OK ? 'ended' : `failed: ${statusName(status.code)} ${status.details}`;
        this.onLost(`${this.what} ${why}; reconnecting in ${Math.round(delay)} ms`);
        this.timer = setTimeout(() => this.connect(), delay);
        this.timer.unref();
      },
    }));
  }
}

export interface DestinationOptions {
  address: Address;
  service: string;
  profiles: ProfileStore;
  backoff?: Backoff;
  /** --idle-services: a GetProfile stream each, never read. */
  idleServices?: readonly string[];
  /** --control-stream-window and --control-conn-window (default: linkerd's 65535 and 1 MiB). */
  streamWindow?: number;
  connWindow?: number;
  /** The client's engine (--engine): node:http2 by default, or wire/control-client.ts's. */
  newClient?: (options: ControlClientOptions) => ControlPlaneClient;
}

export class DestinationResolver implements Resolver {
  readonly source = 'destination';
  readonly service: string;
  private readonly endpoints = new Map<string, Address>();
  private client: ControlPlaneClient | undefined;
  private subscriptions: { close(): void }[] = [];

  constructor(private readonly options: DestinationOptions) {
    this.service = options.service;
  }

  async start(events: ResolverEvents): Promise<void> {
    const { get, getProfile } = loadApi();
    const backoff = this.options.backoff ?? CONTROL_BACKOFF;
    const target = formatAddress(this.options.address);
    const newClient = this.options.newClient ?? ((o: ControlClientOptions) => new ControlClient(o));
    const client = (this.client = newClient({
      address: this.options.address,
      streamWindow: this.options.streamWindow ?? 65_535,
      connWindow: this.options.connWindow ?? 1_048_576,
    }));
    const subscribe = <T>(rpc: string, method: Method<T>, service: string, onMessage?: (message: T, first: boolean) => void): Subscription<T> => {
      const request: GetDestination = { scheme: 'k8s', path: service, client_id: 'sluice-proxy' };
      const label = { rpc, service, read: onMessage !== undefined };
      return new Subscription<T>(
        `destination ${target} ${rpc}(${service})${onMessage ? '' : ' (idle, never read)'}`,
        (handlers) => client.serverStream(method, request, label, handlers),
        onMessage,
        (message) => events.error(message),
        backoff,
      );
    };
    const { service } = this.options;
    this.subscriptions = [
      subscribe('Get', get, service, (update, first) => this.onUpdate(update, first, events)),
      subscribe('GetProfile', getProfile, service, (profile) => this.onProfile(profile, events)),
      ...(this.options.idleServices ?? []).map((idle) => subscribe('GetProfile', getProfile, idle)),
    ];
  }

  /** The control connection's and streams' receive windows, for /metrics. */
  controlWindows(): ControlWindows {
    return this.client?.windows() ?? { streams: [] };
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
    events.profile?.();
  }
}
