// The keep-alive pool of one endpoint's HTTP/1.1 connections. Hand-written because Node's http.Agent puts a
// released socket back in its free list at once and hands it to the next request in the same event-loop turn,
// before a FIN that arrived with the response has been read: the request is then written into a connection the
// upstream already closed (Envoy #2715/#6815, seed 001). The Agent has no hook to delay that; its keepAliveMsecs
// is TCP keepalive and its `timeout` also times out sockets that carry a request.
//
// Here a released connection becomes reusable only after the event loop has polled for I/O once more (Envoy
// attaches a released connection "in the next dispatcher loop" for the same reason; --h1-reuse-guard off reuses it
// at once, as the Agent does, so a scenario can show the race); an idle connection is closed after
// --h1-pool-idle-timeout, which should be below the upstream's; a connection the upstream ended or asked to close
// is never reused. Node's http.request takes the pool through its Agent-like interface (`addRequest(req)` assigns
// a socket with `req.onSocket`), and emits 'free' on the socket once the exchange is complete and the connection
// may be kept.
import http from 'node:http';
import net from 'node:net';
import type { Address } from '../address.js';
import type { CloseReason, ProxyMetrics } from '../metrics.js';

export interface H1PoolConfig {
  /** ms an idle connection is kept; 0: until the upstream closes it. */
  idleTimeoutMs: number;
  metrics: ProxyMetrics;
  /** --h1-reuse-guard: wait for the next I/O poll before reusing a released connection (default true). */
  reuseGuard?: boolean;
}

type State = 'active' | 'settling' | 'idle';

interface Conn {
  socket: net.Socket;
  state: State;
  idleTimer?: NodeJS.Timeout;
  /** The upstream's `Keep-Alive: timeout=` in ms, when it sent one. */
  upstreamIdleMs?: number;
  /** Set by whoever decides the close; read when the socket closes. */
  reason?: CloseReason;
}

export class H1Pool {
  /** Pass as `agent` to http.request: connections of this pool, an idle one reused when there is one. */
  readonly agent: http.Agent;
  /** Pass as `agent` to http.request: always a new connection (the reuse-race guard's reissue). */
  readonly freshAgent: http.Agent;
  private readonly conns = new Map<net.Socket, Conn>();
  /** Reusable connections, the most recently released last (reused first, so surplus ones age out). */
  private readonly idle: Conn[] = [];
  private closed = false;
  private readonly unwatch: () => void;

  constructor(
    private readonly address: Address,
    private readonly config: H1PoolConfig,
  ) {
    this.agent = new PoolAgent((req) => this.assign(req, false));
    this.freshAgent = new PoolAgent((req) => this.assign(req, true));
    this.unwatch = config.metrics.upstream.watchH1Pool(() => this.counts());
  }

  counts(): { idle: number; active: number } {
    let active = 0;
    for (const conn of this.conns.values()) if (conn.state === 'active') active++;
    return { idle: this.conns.size - active, active };
  }

  /** Records why `socket` will close, unless a reason is already set (the first decision wins). */
  closing(socket: net.Socket, reason: CloseReason): void {
    const conn = this.conns.get(socket);
    if (conn) conn.reason ??= reason;
  }

  /** The upstream announced its idle timeout (`Keep-Alive: timeout=N`): expire before it, by Node's Agent's
   *  margin of 1 s, or do not keep the connection when that leaves nothing. */
  upstreamIdleTimeout(socket: net.Socket, ms: number): void {
    const conn = this.conns.get(socket);
    if (conn) conn.upstreamIdleMs = ms;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Closes idle connections now and the others once their exchange completes (`force`: now). */
  close(force = false): void {
    this.closed = true;
    for (const conn of this.conns.values()) {
      if (force || conn.state !== 'active') this.destroy(conn, 'drain');
    }
    this.unwatch();
  }

  private assign(req: http.ClientRequest, fresh: boolean): void {
    const conn = fresh ? undefined : this.takeIdle();
    if (conn) {
      conn.state = 'active';
      clearTimeout(conn.idleTimer);
      conn.socket.ref();
      req.reusedSocket = true;
      req.onSocket(conn.socket);
      return;
    }
    req.onSocket(this.connect());
  }

  private takeIdle(): Conn | undefined {
    for (let conn = this.idle.pop(); conn; conn = this.idle.pop()) {
      if (usable(conn.socket)) return conn;
      this.destroy(conn, 'peer');
    }
    return undefined;
  }

  private connect(): net.Socket {
    const socket = net.connect({ host: this.address.host, port: this.address.port, noDelay: true });
    const conn: Conn = { socket, state: 'active' };
    this.conns.set(socket, conn);
    // Always listened to: between Node's release of the socket and 'free' nobody else is (a Node TODO).
    socket.on('error', () => {});
    // The upstream ended the connection: whatever state it is in, it is never reused.
    socket.on('end', () => (conn.reason ??= 'peer'));
    socket.on('free', () => this.release(conn));
    socket.once('close', (hadError) => {
      this.conns.delete(socket);
      clearTimeout(conn.idleTimer);
      const at = this.idle.indexOf(conn);
      if (at !== -1) this.idle.splice(at, 1);
      this.config.metrics.connectionClosed('upstream', conn.reason ?? (hadError ? 'error' : 'peer'));
    });
    return socket;
  }

  /** The exchange is complete and Node would keep the connection. */
  private release(conn: Conn): void {
    const { socket } = conn;
    if (this.closed) return this.destroy(conn, 'drain');
    if (!usable(socket) || conn.reason !== undefined) return this.destroy(conn, conn.reason ?? 'peer');
    conn.state = 'settling';
    socket.unref();
    if (this.config.reuseGuard === false) return this.settle(conn); // reusable in this very turn: the race is open
    // Released during this turn's poll phase: the first immediate runs at the end of this turn, the second at the
    // end of the next one, after its poll has read any FIN or reset that is already on the wire.
    setImmediate(() => setImmediate(() => this.settle(conn)));
  }

  /** A released connection becomes idle (reusable), unless it closed or asked to meanwhile. */
  private settle(conn: Conn): void {
    if (conn.state !== 'settling') return;
    if (!usable(conn.socket) || conn.reason !== undefined) return this.destroy(conn, conn.reason ?? 'peer');
    const idleMs = this.idleMsOf(conn);
    if (idleMs <= 0) return this.destroy(conn, 'idle');
    conn.state = 'idle';
    this.idle.push(conn);
    if (idleMs !== Infinity) {
      conn.idleTimer = setTimeout(() => this.expire(conn), idleMs);
      conn.idleTimer.unref();
    }
  }

  private idleMsOf(conn: Conn): number {
    const configured = this.config.idleTimeoutMs > 0 ? this.config.idleTimeoutMs : Infinity;
    if (conn.upstreamIdleMs === undefined) return configured;
    return Math.min(configured, conn.upstreamIdleMs - 1000);
  }

  private expire(conn: Conn): void {
    if (conn.state !== 'idle') return;
    const at = this.idle.indexOf(conn);
    if (at !== -1) this.idle.splice(at, 1);
    this.destroy(conn, 'idle');
  }

  private destroy(conn: Conn, reason: CloseReason): void {
    conn.reason ??= reason;
    conn.socket.destroy();
  }
}

/** Neither closed nor half-closed by the upstream. */
function usable(socket: net.Socket): boolean {
  return !socket.destroyed && socket.writable && socket.readable && !socket.readableEnded;
}

/** The Agent-like object http.request hands each request to. An http.Agent subclass only for its type and
 *  the fields ClientRequest reads (keepAlive: true makes it send `Connection: keep-alive`); Node's own socket
 *  management is never used, since addRequest does not call it. */
class PoolAgent extends http.Agent {
  constructor(private readonly assignSocket: (req: http.ClientRequest) => void) {
    super({ keepAlive: true });
  }

  addRequest(req: http.ClientRequest): void {
    this.assignSocket(req);
  }
}
