// The link's listeners: one per route (the i-th --listen relays to the i-th --to), every accepted connection
// relayed on its own connection to the route's target. One process carries all routes, so a cell with 100
// backend endpoints needs one link process, not 100.
import net, { type AddressInfo, type Server } from 'node:net';
import type { LinkStats } from './link-stats.js';
import { Bottleneck, type LinkSettings } from './link-model.js';
import { relayConnection, type Address } from './relay-connection.js';
import type { Wakes } from './wake.js';

export interface Route {
  listen: Address;
  to: Address;
}

export interface RelayDeps {
  settings: LinkSettings;
  wakes: Wakes;
  stats: LinkStats;
  random?: () => number;
}

export class ListenError extends Error {
  constructor(readonly address: Address, cause: Error) {
    super(`cannot listen on ${formatAddress(address)}: ${cause.message}`, { cause });
    this.name = 'ListenError';
  }
}

export function formatAddress({ host, port }: Address): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export class Relay {
  private readonly destroyers = new Set<() => void>();

  private constructor(
    private readonly servers: Server[],
    /** The routes with the ports really bound (a requested port 0 replaced). */
    readonly routes: Route[],
  ) {}

  /** Listens every route; on any failure closes those already listening and throws ListenError. */
  static async start(routes: Route[], deps: RelayDeps): Promise<Relay> {
    const servers = routes.map(() => net.createServer({ allowHalfOpen: true, noDelay: true }));
    const relay = new Relay(servers, routes.map((route) => ({ ...route })));
    // One bottleneck per route and direction: the route's connections share its bandwidth, as on one wire.
    servers.forEach((server, i) => {
      const bottlenecks = { forward: new Bottleneck(), reverse: new Bottleneck() };
      server.on('connection', (client) => relay.accept(client, routes[i]!.to, { ...deps, bottlenecks }));
    });
    const results = await Promise.allSettled(servers.map((server, i) => listen(server, routes[i]!.listen)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all(servers.filter((s) => s.listening).map((s) => new Promise((resolve) => s.close(resolve))));
      throw failed.reason;
    }
    results.forEach((r, i) => (relay.routes[i]!.listen = { ...routes[i]!.listen, port: (r as PromiseFulfilledResult<number>).value }));
    // From now on an accept error (EMFILE) is logged, and the listener goes on.
    servers.forEach((server, i) => server.on('error', (err) => process.stderr.write(`link: listener ${formatAddress(relay.routes[i]!.listen)}: ${err.message}\n`)));
    return relay;
  }

  get connections(): number {
    return this.destroyers.size;
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    const closing = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const destroy of this.destroyers) destroy();
    this.destroyers.clear();
    await Promise.all(closing);
  }

  private accept(client: net.Socket, to: Address, deps: RelayDeps & { bottlenecks: { forward: Bottleneck; reverse: Bottleneck } }): void {
    const destroy = relayConnection(client, to, deps, () => this.destroyers.delete(destroy));
    this.destroyers.add(destroy);
  }
}

function listen(server: Server, address: Address): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(new ListenError(address, err));
    server.once('error', onError);
    server.listen({ host: address.host, port: address.port, exclusive: true }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
