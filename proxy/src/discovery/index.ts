// Discovery: where the balancer's endpoints come from, one source per proxy: a static list (--endpoints), a
// watched file (--endpoints-file) or a Destination-like gRPC stream (--destination with --service). A resolver
// reports the whole endpoint set after each update; apply.ts turns that into balancer adds and removes.
import type { Config } from '../flags.js';
import type { DiscoverySource, Resolver } from './resolver.js';
import type { ProfileStore } from './profile.js';

export type { ChangeKind, DiscoverySource, EndpointChange, Resolver, ResolverEvents } from './resolver.js';

export function sourceOf(config: Pick<Config, 'endpointsFile' | 'destination'>): DiscoverySource {
  if (config.destination) return 'destination';
  if (config.endpointsFile !== undefined) return 'file';
  return 'static';
}

/** The resolver the config names. gRPC is loaded only for --destination (it takes long to import). */
export async function newResolver(config: Config, profiles: ProfileStore): Promise<Resolver> {
  switch (sourceOf(config)) {
    case 'static': {
      const { StaticResolver } = await import('./static.js');
      return new StaticResolver(config.endpoints);
    }
    case 'file': {
      const { FileResolver } = await import('./file.js');
      return new FileResolver({ file: config.endpointsFile! });
    }
    case 'destination': {
      const { DestinationResolver } = await import('./destination.js');
      const { WireControlClient } = await import('../wire/control-client.js');
      return new DestinationResolver({
        newClient: config.engine === 'wire' ? (o) => new WireControlClient(o) : undefined,
        address: config.destination!,
        service: config.destinationService!,
        idleServices: config.idleServices,
        streamWindow: config.controlStreamWindow,
        connWindow: config.controlConnWindow,
        profiles,
      });
    }
  }
}
