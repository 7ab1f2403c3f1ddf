// What /metrics says of the upstream connections: open ones by protocol, the HTTP/1.1 pools' connections by
// state, cancels absorbed (--absorb-cancels) and HTTP/1.1 reissues (--h1-reissue). Registered on the proxy's
// registry by ProxyMetrics (metrics.ts).
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Protocol } from '../service.js';

export class UpstreamMetrics {
  readonly cancelsAbsorbed: Counter;
  readonly h1Reissued: Counter;
  /** Open upstream connections by protocol, read at each scrape (set once by proxy.ts). */
  private sessions: (() => Record<Protocol, number>) | undefined;
  /** Open upstream HTTP/1.1 connections of every endpoint's pool, read at each scrape. */
  private readonly h1Pools = new Set<() => { idle: number; active: number }>();

  constructor(registry: Registry) {
    const registers = [registry];
    const sessions = (): Record<Protocol, number> | undefined => this.sessions?.();
    const pools = this.h1Pools;
    new Gauge({
      name: 'sluice_proxy_upstream_sessions',
      help: 'Open upstream connections by protocol: h1 keep-alive sockets (busy or idle), h2 sessions. Idle ones close after --idle-evict.',
      labelNames: ['protocol'] as const,
      registers,
      collect() {
        const open = sessions();
        if (open) for (const [protocol, n] of Object.entries(open)) this.set({ protocol }, n);
      },
    });
    new Gauge({
      name: 'sluice_proxy_upstream_h1_connections',
      help: 'Open upstream HTTP/1.1 connections by state: active (carrying a request), idle (in the keep-alive pool).',
      labelNames: ['state'] as const,
      registers,
      collect() {
        let idle = 0;
        let active = 0;
        for (const counts of pools) {
          const c = counts();
          idle += c.idle;
          active += c.active;
        }
        this.set({ state: 'idle' }, idle);
        this.set({ state: 'active' }, active);
      },
    });
    this.cancelsAbsorbed = new Counter({
      name: 'sluice_proxy_upstream_cancels_absorbed_total',
      help: 'Cancelled requests let finish upstream with their answer dropped instead of reset (--absorb-cancels).',
      registers,
    });
    this.h1Reissued = new Counter({
      name: 'sluice_proxy_upstream_h1_reissued_total',
      help: 'Requests without a body of an idempotent method reissued once on a new upstream HTTP/1.1 connection after a reused one was closed before any response byte.',
      registers,
    });
  }

  /** Reports `count` in sluice_proxy_upstream_sessions. */
  watchSessions(count: () => Record<Protocol, number>): void {
    this.sessions = count;
  }

  /** Reports one pool in sluice_proxy_upstream_h1_connections until the returned function is called. */
  watchH1Pool(counts: () => { idle: number; active: number }): () => void {
    this.h1Pools.add(counts);
    return () => this.h1Pools.delete(counts);
  }
}
