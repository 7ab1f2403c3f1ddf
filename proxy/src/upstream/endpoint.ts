// The per-endpoint factory: made once per endpoint (not per request), it owns that endpoint's HTTP/1.1 and
// HTTP/2 clients and picks one per request by --upstream-protocol.
import type { Address } from '../address.js';
import type { Config } from '../config.js';
import type { ProxyMetrics } from '../metrics.js';
import type { Protocol, ProxyRequest, Service } from '../service.js';
import { H1Client } from './h1.js';
import { WireH2Client } from '../wire/upstream.js';
import { H2Client } from './h2.js';

export interface Endpoint {
  address: Address;
  service: Service;
  /** Open upstream connections by protocol (h1 sockets, h2 sessions). */
  sessions(): Record<Protocol, number>;
  close(force?: boolean): void;
}

export function newEndpoint(
  address: Address,
  config: Pick<
    Config,
    | 'upstreamProtocol'
    | 'engine'
    | 'streamWindow'
    | 'connWindow'
    | 'adaptive'
    | 'idleEvict'
    | 'connectTimeout'
    | 'h1PoolIdleTimeout'
    | 'h1ReuseGuard'
    | 'h1Reissue'
    | 'absorbCancels'
    | 'maxFrameSize'
    | 'maxHeaderListSize'
    | 'keepaliveInterval'
    | 'keepaliveTimeout'
  >,
  metrics: ProxyMetrics,
): Endpoint {
  const connectTimeoutMs = config.connectTimeout;
  // An idle HTTP/1.1 connection closes at the pool's idle timeout or at --idle-evict, whichever comes first.
  // (--idle-evict is at least 1 ms; --h1-pool-idle-timeout 0 means never.)
  const poolIdleTimeoutMs = config.h1PoolIdleTimeout > 0 ? Math.min(config.h1PoolIdleTimeout, config.idleEvict) : config.idleEvict;
  const h1 = new H1Client(address, {
    poolIdleTimeoutMs,
    metrics,
    connectTimeoutMs,
    reuseGuard: config.h1ReuseGuard,
    reissue: config.h1Reissue,
  });
  const { streamWindow, connWindow, adaptive, maxFrameSize, maxHeaderListSize, keepaliveInterval, keepaliveTimeout } = config;
  // --engine: node:http2, the reference, or our own h2/ (wire/upstream.ts), with the same surface and behaviour.
  const h2 = new (config.engine === 'wire' ? WireH2Client : H2Client)(address, {
    streamWindow,
    connWindow,
    adaptive,
    metrics,
    idleMs: config.idleEvict,
    absorbCancels: config.absorbCancels,
    connectTimeoutMs,
    maxFrameSize,
    maxHeaderListSize,
    keepaliveInterval,
    keepaliveTimeout,
  });
  const { upstreamProtocol } = config;
  // auto: as the request came in (gRPC always arrives as h2).
  const protocolFor = (req: ProxyRequest): Protocol =>
    upstreamProtocol === 'auto' ? req.downstreamProtocol : upstreamProtocol;
  return {
    address,
    service: (req) => (protocolFor(req) === 'h2' ? h2.request(req) : h1.request(req)),
    sessions: () => ({ h1: h1.openSockets(), h2: h2.openSessions() }),
    close: (force = false) => {
      h1.close(force);
      h2.close(force);
    },
  };
}
