// One endpoint's listening socket, kept apart from its protocol server so that a fault can refuse, reset or
// drop connections before any protocol sees them. An accepted socket is handed to the server unchanged
// (node:http and node:http2 servers take injected connections; grpc-js through its connection injector).
import net from 'node:net';
import type { Endpoint } from './endpoint.js';
import { ListenError, listenOne } from './listen.js';

/** Going up again retries a port taken meanwhile (by an outgoing connection's ephemeral port) this long. */
const RELISTEN_TRIES = 40;
const RELISTEN_PAUSE_MS = 50;

/** The socket options a protocol server applies on accept (net.Server's own fields), so the gate applies the same. */
export function socketOptionsOf(server: net.Server): net.ServerOpts {
  const flags = server as unknown as Partial<{ allowHalfOpen: boolean; noDelay: boolean; keepAlive: boolean; keepAliveInitialDelay: number }>;
  return {
    allowHalfOpen: flags.allowHalfOpen ?? false,
    noDelay: flags.noDelay ?? false,
    keepAlive: flags.keepAlive ?? false,
    keepAliveInitialDelay: flags.keepAliveInitialDelay ?? 0,
  };
}

export class Gate {
  readonly server: net.Server;
  /** Connections accepted and still open. */
  readonly sockets = new Set<net.Socket>();
  private host = '';
  private shut = false;
  private transition: Promise<void> = Promise.resolve();
  private emptied: Array<() => void> = [];

  constructor(private readonly endpoint: Endpoint, handover: (socket: net.Socket) => void, options: net.ServerOpts) {
    const forget = (socket: net.Socket): void => {
      this.sockets.delete(socket);
      if (this.sockets.size === 0) for (const resolve of this.emptied.splice(0)) resolve();
    };
    this.server = net.createServer(options, (socket) => {
      if (endpoint.refuse === 'reset' || this.shut) {
        if (!this.shut) endpoint.stats.connections.refused++;
        socket.resetAndDestroy();
        return;
      }
      endpoint.stats.connections.accepted++;
      this.sockets.add(socket);
      socket.once('close', () => forget(socket));
      handover(socket);
    });
  }

  /** Records where the first listen bound (the port every later listen reuses), then applies the endpoint's state. */
  bound(host: string, port: number): Promise<void> {
    this.host = host;
    this.endpoint.port = port;
    this.endpoint.portText = String(port);
    return this.sync();
  }

  get listening(): boolean {
    return this.server.listening;
  }

  /**
   * Listens when the endpoint is up and not refusing with a closed port, stops listening otherwise. Calls
   * are serialised, so a listen and a close never overlap; existing connections are left alone (see drop()).
   */
  sync(): Promise<void> {
    const next = this.transition.then(() => this.apply());
    this.transition = next.catch(() => undefined); // one failed listen must not wedge every later change
    return next;
  }

  /** Resets every open connection (the endpoint went down); returns how many. */
  drop(): number {
    const count = this.sockets.size;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.endpoint.stats.connections.dropped += count;
    return count;
  }

  /** Stops listening for good (the backends are closing); connections stay for the caller to end. */
  close(): Promise<void> {
    this.shut = true;
    return this.sync();
  }

  /** Resolves once no accepted connection is open. */
  whenEmpty(): Promise<void> {
    if (this.sockets.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptied.push(resolve));
  }

  private async apply(): Promise<void> {
    const wanted = !this.shut && !this.endpoint.down && this.endpoint.refuse !== 'closed';
    if (!wanted && this.server.listening) {
      // The port is free as soon as close() returns; its callback would wait for every connection to end.
      this.server.close();
      return;
    }
    if (wanted && !this.server.listening) await this.relisten();
  }

  private async relisten(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await listenOne(this.server, this.host, this.endpoint.port);
        return;
      } catch (err) {
        const inUse = err instanceof ListenError && (err.cause as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
        if (!inUse || attempt >= RELISTEN_TRIES || this.shut) throw err;
        await new Promise((resolve) => setTimeout(resolve, RELISTEN_PAUSE_MS));
      }
    }
  }
}
