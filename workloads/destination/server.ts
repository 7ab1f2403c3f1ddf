// The synthetic control plane: a Destination-like gRPC server (workloads/proto/destination.proto) whose endpoint
// sets and profiles are driven from outside, by a script (script.ts) or by a test through this API. Every Get
// stream starts with the whole current state (add, or no_endpoints), as linkerd's destination controller does;
// later changes go out as add / remove / no_endpoints deltas to every subscriber of the service.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { DESTINATION_SERVICE, ECHO_LOADER_OPTIONS, destinationProtoPath } from '../proto/path.js';

/** A state for this name answers every service that has none of its own. */
export const ANY_SERVICE = '*';

export interface RouteSpec {
  name: string;
  /** Empty or absent: any method. */
  method?: string;
  /** Matches the whole path; absent: any path. */
  pathRegex?: string;
  retryable?: boolean;
  /** 0 or absent: no route timeout. */
  timeoutMs?: number;
}

export interface ProfileSpec {
  routes: RouteSpec[];
}

interface TcpAddress {
  host: string;
  port: number;
}
type Update = { add: { addrs: TcpAddress[] } } | { remove: { addrs: TcpAddress[] } } | { no_endpoints: { exists: boolean } };
interface WireProfile {
  routes: { name: string; condition: { path_regex: string; method: string }; is_retryable: boolean; timeout_ms: number }[];
}
interface GetDestination {
  path: string;
}

interface ServiceState {
  /** HOST:PORT -> address. */
  endpoints: Map<string, TcpAddress>;
  profile: WireProfile;
}

interface Subscriber<T> {
  service: string;
  call: grpc.ServerWritableStream<GetDestination, T>;
}

/** "HOST:PORT" (IPv6 as [::1]:9001) -> TcpAddress; throws naming the address. */
export function parseTcpAddress(text: string): TcpAddress {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) throw new Error(`"${text}" is not HOST:PORT with a port 1-65535`);
  const host = match[1]!.startsWith('[') ? match[1]!.slice(1, -1) : match[1]!;
  return { host, port };
}

const key = (a: TcpAddress): string => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);

function wireProfile(spec: ProfileSpec): WireProfile {
  return {
    routes: spec.routes.map((r) => ({
      name: r.name,
      condition: { path_regex: r.pathRegex ?? '', method: r.method ?? '' },
      is_retryable: r.retryable ?? false,
      timeout_ms: Math.round(r.timeoutMs ?? 0),
    })),
  };
}

export interface ServerState {
  services: Record<string, { endpoints: string[]; profile: ProfileSpec; subscribers: { get: number; profile: number } }>;
  subscriptions: Record<string, { get: number; profile: number; answeredBy: string | null }>;
}

/** A wire route back as the spec it came from. */
function routeSpec(route: WireProfile['routes'][number]): RouteSpec {
  const spec: RouteSpec = { name: route.name, retryable: route.is_retryable };
  if (route.condition.method) spec.method = route.condition.method;
  if (route.condition.path_regex) spec.pathRegex = route.condition.path_regex;
  if (route.timeout_ms) spec.timeoutMs = route.timeout_ms;
  return spec;
}

export interface DestinationServerOptions {
  host?: string;
  /** 0: any free port. */
  port?: number;
}

export class DestinationServer {
  private readonly states = new Map<string, ServiceState>();
  private readonly gets = new Set<Subscriber<Update>>();
  private readonly profiles = new Set<Subscriber<WireProfile>>();
  private closing: Promise<void> | undefined;

  /** The bound port (known once start resolves). */
  port = 0;

  private constructor(
    private readonly server: grpc.Server,
    readonly host: string,
  ) {}

  static async start({ host = '127.0.0.1', port = 0 }: DestinationServerOptions = {}): Promise<DestinationServer> {
    const definition = protoLoader.loadSync(destinationProtoPath(), ECHO_LOADER_OPTIONS);
    const service = definition[DESTINATION_SERVICE] as unknown as grpc.ServiceDefinition;
    const server = new grpc.Server();
    const self = new DestinationServer(server, host);
    server.addService(service, {
      Get: (call: grpc.ServerWritableStream<GetDestination, Update>) => self.subscribe(self.gets, call, (s) => self.snapshot(s)),
      GetProfile: (call: grpc.ServerWritableStream<GetDestination, WireProfile>) =>
        self.subscribe(self.profiles, call, (s) => s?.profile ?? { routes: [] }),
    });
    const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(new Error(`cannot listen on ${address}: ${err.message}`, { cause: err })) : resolve(p),
      ),
    );
    self.port = bound;
    return self;
  }

  /** Replaces the service's endpoints: sends remove for those gone and add for those new, or no_endpoints
   *  when none is left. The addresses are HOST:PORT. */
  setEndpoints(service: string, addrs: readonly string[]): void {
    const state = this.state(service);
    const next = new Map(addrs.map((a) => [key(parseTcpAddress(a)), parseTcpAddress(a)]));
    const added = [...next].filter(([k]) => !state.endpoints.has(k)).map(([, a]) => a);
    const removed = [...state.endpoints].filter(([k]) => !next.has(k)).map(([, a]) => a);
    state.endpoints = next;
    if (next.size === 0) return this.broadcast(service, { no_endpoints: { exists: true } });
    if (removed.length > 0) this.broadcast(service, { remove: { addrs: removed } });
    if (added.length > 0) this.broadcast(service, { add: { addrs: added } });
  }

  /** Adds endpoints and sends one add with exactly these addresses (even those already known: a redundant add). */
  add(service: string, addrs: readonly string[]): void {
    const state = this.state(service);
    const parsed = addrs.map(parseTcpAddress);
    for (const a of parsed) state.endpoints.set(key(a), a);
    this.broadcast(service, { add: { addrs: parsed } });
  }

  /** Removes endpoints and sends one remove with these addresses. */
  remove(service: string, addrs: readonly string[]): void {
    const state = this.state(service);
    const parsed = addrs.map(parseTcpAddress);
    for (const a of parsed) state.endpoints.delete(key(a));
    this.broadcast(service, { remove: { addrs: parsed } });
  }

  /** Drops every endpoint of the service and sends no_endpoints{exists: true}. */
  noEndpoints(service: string): void {
    this.state(service).endpoints.clear();
    this.broadcast(service, { no_endpoints: { exists: true } });
  }

  /** Sends the current set again (a redundant add, or no_endpoints when empty): the unit of a flood. */
  resend(service: string): void {
    const state = this.state(service);
    this.broadcast(service, this.snapshot(state));
  }

  /** Replaces the service's profile and sends it to every GetProfile subscriber. */
  setProfile(service: string, profile: ProfileSpec): void {
    const state = this.state(service);
    state.profile = wireProfile(profile);
    for (const s of this.subscribersOf(this.profiles, service)) s.call.write(state.profile);
  }

  /** Sends the current profile again. */
  resendProfile(service: string): void {
    const state = this.state(service);
    for (const s of this.subscribersOf(this.profiles, service)) s.call.write(state.profile);
  }

  /** Everything the server holds now: each service's endpoints, profile and the streams it answers, and each
   *  requested name's open streams with the state that answers them (its own, "*", or none). */
  currentState(): ServerState {
    const services: ServerState['services'] = {};
    for (const [name, state] of this.states) {
      services[name] = {
        endpoints: [...state.endpoints.keys()],
        profile: { routes: state.profile.routes.map(routeSpec) },
        subscribers: { get: this.subscribersOf(this.gets, name).length, profile: this.subscribersOf(this.profiles, name).length },
      };
    }
    const subscriptions: ServerState['subscriptions'] = {};
    for (const [kind, set] of [['get', this.gets], ['profile', this.profiles]] as const) {
      for (const { service } of set as Set<Subscriber<unknown>>) {
        const answeredBy = this.states.has(service) ? service : this.states.has(ANY_SERVICE) ? ANY_SERVICE : null;
        const entry = (subscriptions[service] ??= { get: 0, profile: 0, answeredBy });
        entry[kind]++;
      }
    }
    return { services, subscriptions };
  }

  /** Open Get streams (for a service, or all): a test waits for the proxy to subscribe. */
  subscribers(service?: string): number {
    return service === undefined ? this.gets.size : this.subscribersOf(this.gets, service).length;
  }

  /** Ends every stream and stops; `force` drops the connections at once (a control plane that crashes). */
  close(force = false): Promise<void> {
    return (this.closing ??= new Promise<void>((resolve) => {
      if (force) {
        this.server.forceShutdown();
        return resolve();
      }
      for (const s of [...this.gets, ...this.profiles]) s.call.end();
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 500);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    }));
  }

  private state(service: string): ServiceState {
    let state = this.states.get(service);
    if (!state) this.states.set(service, (state = { endpoints: new Map(), profile: { routes: [] } }));
    return state;
  }

  /** The state that answers `service`: its own, or the ANY_SERVICE one. */
  private lookup(service: string): ServiceState | undefined {
    return this.states.get(service) ?? this.states.get(ANY_SERVICE);
  }

  private snapshot(state: ServiceState | undefined): Update {
    if (!state) return { no_endpoints: { exists: false } };
    if (state.endpoints.size === 0) return { no_endpoints: { exists: true } };
    return { add: { addrs: [...state.endpoints.values()] } };
  }

  private subscribe<T>(
    set: Set<Subscriber<T>>,
    call: grpc.ServerWritableStream<GetDestination, T>,
    first: (state: ServiceState | undefined) => T,
  ): void {
    const subscriber = { service: call.request.path, call };
    set.add(subscriber);
    const drop = (): void => void set.delete(subscriber);
    call.on('cancelled', drop);
    call.on('close', drop);
    call.on('error', drop);
    call.write(first(this.lookup(subscriber.service)));
  }

  /** Subscribers whose service `service` answers (its own name, or any name without a state for ANY_SERVICE). */
  private subscribersOf<T>(set: Set<Subscriber<T>>, service: string): Subscriber<T>[] {
    const state = this.states.get(service);
    return [...set].filter((s) => this.lookup(s.service) === state);
  }

  private broadcast(service: string, update: Update): void {
    for (const s of this.subscribersOf(this.gets, service)) s.call.write(update);
  }
}
