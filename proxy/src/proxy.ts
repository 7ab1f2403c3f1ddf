// Assembles a running proxy from a Config: metrics, one endpoint per address, the layer stack, both
// downstream servers behind one listener, and the admin listener; and stops it all again.
import type http from 'node:http';
import type net from 'node:net';
import type { Address } from './address.js';
import { createAdmin } from './admin.js';
import { newBalancer } from './balancer/index.js';
import { endpointName, tcpProbe } from './balancer/endpoint-state.js';
import type { Config } from './config.js';
import { H1Downstream } from './downstream/h1.js';
import { H2Downstream } from './downstream/h2.js';
import { Listener } from './listener.js';
import { ProxyMetrics } from './metrics.js';
import { buildStack } from './stack.js';
import { newEndpoint } from './upstream/endpoint.js';

export interface RunningProxy {
  listen: Address;
  admin: Address;
  metrics: ProxyMetrics;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then closes everything. */
  stop(graceMs?: number): Promise<void>;
}

/** The longest start waits for the first connect probe of every endpoint. */
const PROBE_WAIT_MS = 1000;

export async function startProxy(config: Config): Promise<RunningProxy> {
  const metrics = new ProxyMetrics();
  const endpoints = config.endpoints.map((address) => newEndpoint(address, config, metrics));
  const balancer = newBalancer({
    policy: config.balancer,
    endpoints: endpoints.map((e) => ({ name: endpointName(e.address), service: e.service, probe: tcpProbe(e.address) })),
    decayMs: config.ewmaDecay,
    defaultRttMs: config.ewmaDefaultRtt,
  });
  metrics.watchBalancer({
    counts: () => balancer.counts(),
    rtts: () => balancer.endpoints.map((e) => ({ name: e.name, rttMs: e.rtt.peek() })),
  });
  const service = buildStack({ metrics, balancer: balancer.service, maxRequestBodyBytes: config.maxRequestBodyBytes });
  const h1 = new H1Downstream({ service, metrics, ...config });
  const h2 = new H2Downstream({ service, metrics, ...config });
  const listener = new Listener({ h1: h1.server, h2: h2.server });
  let ready = false;
  const adminServer = createAdmin({ registry: metrics.registry, isReady: () => ready });

  // Ready only once each endpoint was probed (bounded), so the first requests already see their states.
  await balancer.settled(PROBE_WAIT_MS);
  const admin = await listen(adminServer, config.admin);
  let bound: Address;
  try {
    bound = await listener.listen(config.listen);
  } catch (err) {
    adminServer.close();
    balancer.close();
    throw err;
  }
  ready = endpoints.length > 0;

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 500): Promise<void> =>
    (stopping ??= (async () => {
      ready = false;
      listener.close();
      h2.drain();
      h1.drain();
      await waitUntil(() => listener.sockets.size === 0, graceMs);
      h2.destroyAll();
      listener.destroyAll();
      balancer.close();
      for (const endpoint of endpoints) endpoint.close(true);
      adminServer.closeAllConnections();
      await new Promise<void>((resolve) => adminServer.close(() => resolve()));
    })());

  return { listen: bound, admin, metrics, stop };
}

function listen(server: http.Server, { host, port }: Address): Promise<Address> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const bound = server.address() as net.AddressInfo;
      resolve({ host: bound.address, port: bound.port });
    });
  });
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}
