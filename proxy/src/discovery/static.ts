// The static source (--endpoints): the whole set once, at start; it never changes.
import type { Address } from '../address.js';
import { unique, type Resolver, type ResolverEvents } from './resolver.js';

export class StaticResolver implements Resolver {
  readonly source = 'static';

  constructor(private readonly endpoints: readonly Address[]) {}

  async start(events: ResolverEvents): Promise<void> {
    const endpoints = unique(this.endpoints);
    events.change({ kinds: endpoints.length > 0 ? ['add'] : ['no-endpoints'], endpoints });
  }

  close(): void {}
}
