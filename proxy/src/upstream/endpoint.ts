// The per-endpoint factory: made once per endpoint (not per request), it owns that endpoint's HTTP/1.1 and
// HTTP/2 clients and picks one per request by --upstream-protocol.
import type { Address } from '../address.js';
import type { Config } from '../config.js';
import type { ProxyMetrics } from '../metrics.js';
import type { Protocol, ProxyRequest, Service } from '../service.js';
import { H1Client } from './h1.js';
import { H2Client } from './h2.js';

export interface Endpoint {
  address: Address;
  service: Service;
  close(force?: boolean): void;
}

export function newEndpoint(
  address: Address,
  config: Pick<Config, 'upstreamProtocol' | 'streamWindow' | 'connWindow' | 'adaptive' | 'h1PoolIdleTimeout'>,
  metrics: ProxyMetrics,
): Endpoint {
  const h1 = new H1Client(address, { poolIdleTimeoutMs: config.h1PoolIdleTimeout, metrics });
  const h2 = new H2Client(address, { streamWindow: config.streamWindow, connWindow: config.connWindow, adaptive: config.adaptive, metrics });
  const { upstreamProtocol } = config;
  // auto: as the request came in (gRPC always arrives as h2).
  const protocolFor = (req: ProxyRequest): Protocol =>
    upstreamProtocol === 'auto' ? req.downstreamProtocol : upstreamProtocol;
  return {
    address,
    service: (req) => (protocolFor(req) === 'h2' ? h2.request(req) : h1.request(req)),
    close: (force = false) => {
      h1.close(force);
      h2.close(force);
    },
  };
}
