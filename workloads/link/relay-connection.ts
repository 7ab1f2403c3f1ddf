// One accepted connection relayed to its route's `to` address over the emulated link: two directions
// (forward: client -> server, reverse: server -> client), each its own delayed, rate-limited queue. Errors
// propagate as a network would carry them: a FIN stays a FIN (half-close kept: allowHalfOpen on both sockets),
// a reset or a refused connect becomes a reset of the other side, after the link's delay.
import net, { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { LinkStats } from './link-stats.js';
import type { Bottleneck, LinkSettings } from './link-model.js';
import { RelayDirection } from './relay-direction.js';
import type { Wakes } from './wake.js';

export interface Address {
  host: string;
  port: number;
}

export interface ConnectionDeps {
  settings: LinkSettings;
  wakes: Wakes;
  stats: LinkStats;
  random?: () => number;
  /** The route's bottlenecks, shared by all its connections. */
  bottlenecks?: { forward: Bottleneck; reverse: Bottleneck };
}

/** Relays `client` to `to`; calls `onClose` once both sockets are closed. Returns a function that destroys both. */
export function relayConnection(client: Socket, to: Address, deps: ConnectionDeps, onClose: () => void): () => void {
  const { stats, settings } = deps;
  const acceptedMs = performance.now();
  const server = net.connect({ host: to.host, port: to.port, allowHalfOpen: true, noDelay: true });
  client.setNoDelay(true);
  const forward = new RelayDirection({ ...deps, totals: stats.directions.forward, ...(deps.bottlenecks ? { bottleneck: deps.bottlenecks.forward } : {}) }, client, server);
  const reverse = new RelayDirection({ ...deps, totals: stats.directions.reverse, ...(deps.bottlenecks ? { bottleneck: deps.bottlenecks.reverse } : {}) }, server, client);
  stats.connectionsOpen++;
  stats.connectionsTotal++;

  let connected = false;
  let open = 2;
  const closed = (): void => {
    if (--open > 0) return;
    forward.abort();
    reverse.abort();
    stats.connectionsOpen--;
    onClose();
  };

  server.once('connect', () => (connected = true));
  client.on('data', (chunk: Buffer) => forward.data(chunk));
  server.on('data', (chunk: Buffer) => reverse.data(chunk));
  client.on('end', () => forward.fin());
  server.on('end', () => reverse.fin());
  client.on('error', () => {
    // The client reset us (or a write to it failed): nothing more reaches it; the server is reset in turn.
    stats.resets++;
    reverse.abort();
    forward.reset();
  });
  server.on('error', () => {
    forward.abort();
    if (connected) {
      stats.resets++;
      reverse.reset();
    } else {
      // Refused (or unreachable): the client learns it a round trip after it connected, as from a SYN's RST.
      stats.connectFailures++;
      reverse.reset(acceptedMs + settings.rttMs / 2);
    }
  });
  client.once('close', closed);
  server.once('close', closed);

  return () => {
    forward.abort();
    reverse.abort();
    client.destroy();
    server.destroy();
  };
}
