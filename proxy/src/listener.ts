// One TCP listener for both protocols: it reads the first bytes of each connection, and hands the socket to
// the HTTP/2 server when they are the h2c prior-knowledge preface, else to the HTTP/1.1 server. The bytes
// read are put back (unshift) first, so either server parses the connection from its first byte.
import net from 'node:net';
import type { Address } from './address.js';

export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface ListenerConfig {
  h1: net.Server;
  h2: net.Server;
  /** A connection that sends nothing for this long is closed (default 60 s, Node's headersTimeout). */
  detectTimeoutMs?: number;
}

export type Detected = 'h1' | 'h2' | 'undecided';

/** h2 once the whole preface is there; h1 at the first byte that differs; undecided while a prefix matches. */
export function detect(firstBytes: Buffer): Detected {
  const n = Math.min(firstBytes.length, H2_PREFACE.length);
  if (!firstBytes.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return 'h1';
  return n === H2_PREFACE.length ? 'h2' : 'undecided';
}

export class Listener {
  readonly server: net.Server;
  /** Every accepted connection, so a stop can close those no server closes by itself. */
  readonly sockets = new Set<net.Socket>();

  constructor(private readonly config: ListenerConfig) {
    this.server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  listen({ host, port }: Address): Promise<Address> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const bound = this.server.address() as net.AddressInfo;
        resolve({ host: bound.address, port: bound.port });
      });
    });
  }

  /** Stops accepting; open connections stay with their servers. */
  close(): void {
    this.server.close();
  }

  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    let seen: Buffer = Buffer.alloc(0);
    const onError = (): void => {
      socket.destroy();
    };
    const onData = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const protocol = detect(seen);
      if (protocol === 'undecided') return; // a preface split across reads: wait for the rest
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.pause();
      socket.unshift(seen);
      (protocol === 'h2' ? this.config.h2 : this.config.h1).emit('connection', socket);
      // The HTTP/1.1 server reads through 'data' events, which do not restart a paused socket; the HTTP/2
      // server drains the readable buffer itself and then reads from the handle.
      if (protocol === 'h1') socket.resume();
    };
    const timer = setTimeout(() => socket.destroy(), this.config.detectTimeoutMs ?? 60_000);
    timer.unref();
    socket.on('data', onData);
    socket.on('error', onError);
  }
}
