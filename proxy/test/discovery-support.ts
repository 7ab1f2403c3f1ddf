// Test support for the discovery and balancer tests (no tests here): slow h2c backends that count their requests, a burst of
// concurrent requests, and waiting on /ready and on the balancer's endpoint count as /metrics reports them.
import type http2 from 'node:http2';
import { h2Backend, h2Request, metricValue, scrapeMetrics } from './support.js';

export interface SlowBackend {
  port: number;
  address: string;
  /** Requests received so far. */
  hits: number;
  close(): Promise<void>;
}

/** An h2c backend answering 200 after `delayMs`, counting requests. */
export async function slowBackend(delayMs: number): Promise<SlowBackend> {
  const counter = { hits: 0 };
  const backend = await h2Backend((stream) => {
    counter.hits++;
    setTimeout(() => {
      if (!stream.destroyed) stream.respond({ ':status': 200 }, { endStream: true });
    }, delayMs);
  });
  return {
    port: backend.port,
    address: `127.0.0.1:${backend.port}`,
    get hits() {
      return counter.hits;
    },
    close: () => backend.close(),
  };
}

/** `n` concurrent GETs on `session`; resolves with their statuses (0 for a reset), once all have finished. */
export async function burst(session: http2.ClientHttp2Session, n: number): Promise<number[]> {
  const results = await Promise.all(
    Array.from({ length: n }, () => h2Request(session, { ':method': 'GET', ':path': '/', ':authority': 'svc.test' })),
  );
  return results.map((r) => r.status ?? 0);
}

export async function readyStatus(adminPort: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${adminPort}/ready`)).status;
}

/** Polls until `check` holds or `ms` pass; resolves with the ms it took, or -1 if it never held. */
export async function within(ms: number, check: () => Promise<boolean> | boolean): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await check()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 20));
  }
  return (await check()) ? Date.now() - start : -1;
}

/** The balancer's endpoint count (all states) as /metrics says. */
export async function endpointCount(adminPort: number): Promise<number> {
  return metricValue(await scrapeMetrics(adminPort), 'sluice_proxy_balancer_endpoints');
}
