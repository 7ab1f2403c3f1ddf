// Applies discovery's endpoint sets to the balancer. An address new to the set becomes an endpoint (its own
// HTTP/1.1 and HTTP/2 clients, probed at once); an address gone from it is removed from the balancer, which
// stops picking it at once and closes its clients gracefully once its in-flight requests have finished.
// Counts updates and errors in /metrics and tells when the first endpoints are known (for /ready).
import { formatAddress, type Address } from '../address.js';
import { tcpProbe } from '../balancer/endpoint-state.js';
import type { Balancer } from '../balancer/index.js';
import type { ProxyMetrics } from '../metrics.js';
import type { Endpoint } from '../upstream/endpoint.js';
import type { EndpointChange, Resolver, ResolverEvents } from './resolver.js';

export interface ApplyOptions {
  resolver: Resolver;
  balancer: Balancer;
  newEndpoint: (address: Address) => Endpoint;
  /** --connect-timeout for the endpoints' connect probes, ms. */
  probeTimeoutMs: number;
  metrics: ProxyMetrics;
  /** Where discovery errors are reported (stderr in the proxy). */
  log: (message: string) => void;
}

export class DiscoveryApplier {
  /** Resolves when the first non-empty endpoint set has been applied. */
  readonly known: Promise<void>;
  /** Every endpoint not yet closed: the current ones and removed ones still finishing requests. */
  private readonly open = new Set<Endpoint>();
  private readonly current = new Map<string, Endpoint>();
  private resolveKnown!: () => void;

  constructor(private readonly options: ApplyOptions) {
    this.known = new Promise((resolve) => (this.resolveKnown = resolve));
  }

  /** The handlers to start the resolver with. */
  get events(): ResolverEvents {
    const { resolver, metrics, log } = this.options;
    return {
      change: (change) => this.apply(change),
      profile: () => metrics.discovery.update(resolver.source, 'profile', resolver.service),
      error: (message) => {
        metrics.discovery.error(resolver.source);
        log(`discovery (${resolver.source}): ${message}`);
      },
    };
  }

  apply({ kinds, endpoints }: EndpointChange): void {
    const { balancer, newEndpoint, metrics, resolver } = this.options;
    for (const kind of kinds) metrics.discovery.update(resolver.source, kind, resolver.service);
    const next = new Map(endpoints.map((a) => [formatAddress(a), a]));
    for (const name of [...this.current.keys()]) {
      if (next.has(name)) continue;
      this.current.delete(name);
      balancer.remove(name); // the balancer closes it once its in-flight requests are done
    }
    for (const [name, address] of next) {
      if (this.current.has(name)) continue;
      const endpoint = newEndpoint(address);
      this.current.set(name, endpoint);
      this.open.add(endpoint);
      balancer.add({
        name,
        service: endpoint.service,
        probe: tcpProbe(address, this.options.probeTimeoutMs),
        close: () => {
          this.open.delete(endpoint);
          endpoint.close(false);
        },
      });
    }
    if (this.current.size > 0) this.resolveKnown();
  }

  /** Every endpoint not yet closed (for the upstream sessions gauge). */
  endpoints(): Iterable<Endpoint> {
    return this.open;
  }

  /** Closes every endpoint's clients at once (the proxy is stopping). */
  closeAll(): void {
    for (const endpoint of this.open) endpoint.close(true);
    this.open.clear();
    this.current.clear();
  }
}
