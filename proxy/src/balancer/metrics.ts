// What /metrics says of the balancer: its endpoints by state, each endpoint's state and PeakEWMA estimate, read
// from the balancer at each scrape (nothing on the request path). Registered on the proxy's registry by
// ProxyMetrics (metrics.ts); proxy.ts hands the balancer over with watch().
import { Gauge, type Registry } from 'prom-client';

/** What the balancer metrics read at each scrape. */
export interface BalancerReport {
  counts(): Record<string, number>;
  rtts(): { name: string; rttMs: number }[];
  /** Every endpoint the balancer knows (HOST:PORT) and its state. */
  states(): { name: string; state: string }[];
}

export class BalancerMetrics {
  /** Set once by proxy.ts; absent in tests without a balancer. */
  private balancer: BalancerReport | undefined;

  constructor(registry: Registry) {
    const registers = [registry];
    const read = (): BalancerReport | undefined => this.balancer;
    new Gauge({
      name: 'sluice_proxy_balancer_endpoints',
      help: 'Endpoints of the balancer by state: pending (not connected yet), ready, failed (retried with backoff).',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const b = read();
        if (b) for (const [state, n] of Object.entries(b.counts())) this.set({ state }, n);
      },
    });
    // One series per endpoint, so a harness polling /metrics sees the moment discovery's change was applied: a new
    // address appears (pending, then ready), a removed one is gone.
    new Gauge({
      name: 'sluice_proxy_balancer_endpoint',
      help: 'Each endpoint the balancer knows, by address (HOST:PORT) and state (pending, ready, failed): 1; gone once removed.',
      labelNames: ['address', 'state'] as const,
      registers,
      collect() {
        const b = read();
        if (!b) return;
        this.reset();
        for (const { name, state } of b.states()) this.set({ address: name, state }, 1);
      },
    });
    new Gauge({
      name: 'sluice_proxy_endpoint_rtt_seconds',
      help: "Each endpoint's PeakEWMA RTT estimate (the latest one, not decayed by the scrape), seconds.",
      labelNames: ['endpoint'] as const,
      registers,
      collect() {
        const b = read();
        if (!b) return;
        this.reset(); // an endpoint discovery removed is no longer reported
        for (const { name, rttMs } of b.rtts()) this.set({ endpoint: name }, rttMs / 1000);
      },
    });
  }

  /** Reports `balancer` in sluice_proxy_balancer_endpoint(s) and sluice_proxy_endpoint_rtt_seconds. */
  watch(balancer: BalancerReport): void {
    this.balancer = balancer;
  }
}
