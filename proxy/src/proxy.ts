// Assembles a running proxy from a Config: metrics, the balancer fed by discovery (one endpoint per address),
// the layer stack, both downstream servers behind one listener, and the admin listener; and stops it all again.
import type http from 'node:http';
import type net from 'node:net';
import type { Address } from './address.js';
import { createAdmin } from './admin.js';
import { newBalancer } from './balancer/index.js';
import type { Config } from './config.js';
import { DiscoveryApplier } from './discovery/apply.js';
import { newResolver } from './discovery/index.js';
import { ProfileStore, type RouteLookup } from './discovery/profile.js';
import { H1Downstream } from './downstream/h1.js';
import { H2Downstream } from './downstream/h2.js';
import { FailFast } from './layers/fail-fast.js';
import { Listener } from './listener.js';
import { ProxyMetrics } from './metrics.js';
import { WireDownstream } from './wire/downstream.js';
import { buildStack } from './stack.js';
import { newEndpoint } from './upstream/endpoint.js';

export interface RunningProxy {
  listen: Address;
  admin: Address;
  metrics: ProxyMetrics;
  /** The route settings of a request from the latest profile (--destination); DEFAULT_ROUTE without one. */
  routes: RouteLookup;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then closes everything. */
  stop(graceMs?: number): Promise<void>;
}

/** The longest start waits for the first connect probe of every endpoint. */
const PROBE_WAIT_MS = 1000;

export async function startProxy(config: Config): Promise<RunningProxy> {
  const metrics = new ProxyMetrics();
  // Endpoints come from discovery (static, file or Destination), also at run time: see discovery/apply.ts.
  const balancer = newBalancer({
    policy: config.balancer,
    endpoints: [],
    decayMs: config.ewmaDecay,
    defaultRttMs: config.ewmaDefaultRtt,
  });
  metrics.balancer.watch({
    counts: () => balancer.counts(),
    rtts: () => balancer.endpoints.map((e) => ({ name: e.name, rttMs: e.rtt.peek() })),
    states: () => balancer.endpoints.map((e) => ({ name: e.name, state: e.status })),
  });
  const profiles = new ProfileStore();
  const resolver = await newResolver(config, profiles);
  if (resolver.controlWindows) metrics.discovery.watchControl(() => resolver.controlWindows!());
  const discovery = new DiscoveryApplier({
    resolver,
    balancer,
    newEndpoint: (address) => newEndpoint(address, config, metrics),
    probeTimeoutMs: config.connectTimeout,
    metrics,
    log: (message) => process.stderr.write(`sluice-proxy: ${message}\n`),
  });
  metrics.upstream.watchSessions(() => {
    const open = { h1: 0, h2: 0 };
    for (const { h1, h2 } of [...discovery.endpoints()].map((e) => e.sessions())) {
      open.h1 += h1;
      open.h2 += h2;
    }
    return open;
  });
  const gate = new FailFast({ readiness: balancer, timeoutMs: config.failfast });
  const service = buildStack({
    metrics,
    balancer: balancer.service,
    gate,
    queueCapacity: config.queueCapacity,
    config,
    // Only a Destination sends profiles: without one, no layer looks up routes per request (and the timeout
    // layer drops out unless --request-timeout is set).
    routes: config.destination ? profiles : undefined,
    maxRequestBodyBytes: config.maxRequestBodyBytes,
  });
  const h1 = new H1Downstream({ service, metrics, ...config });
  // --engine: the client-facing HTTP/2 server on node:http2 (the reference) or on sluice's own h2/ (wire/).
  const h2 = config.engine === 'wire' ? new WireDownstream({ service, metrics, ...config }) : new H2Downstream({ service, metrics, ...config });
  const listener = new Listener({ h1: h1.server, h2: h2.server });
  let serving = false;
  let endpointsKnown = false;
  const adminServer = createAdmin({ registry: metrics.registry, isReady: () => serving && endpointsKnown });

  // Ready only once the first endpoints are known and each was probed (bounded), so the first requests
  // already see their states. Static endpoints (and a file's) are known now; a Destination's arrive later.
  const known = discovery.known.then(() => balancer.settled(PROBE_WAIT_MS)).then(() => (endpointsKnown = true));
  const closeDiscovery = (): void => {
    gate.close();
    resolver.close();
    balancer.close();
    discovery.closeAll();
  };
  try {
    await resolver.start(discovery.events);
  } catch (err) {
    closeDiscovery();
    throw err;
  }
  if (balancer.endpoints.length > 0) await known;
  const admin = await listen(adminServer, config.admin).catch((err: unknown) => {
    closeDiscovery();
    throw err;
  });
  let bound: Address;
  try {
    bound = await listener.listen(config.listen);
  } catch (err) {
    adminServer.close();
    closeDiscovery();
    throw err;
  }
  serving = true;

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 500): Promise<void> =>
    (stopping ??= (async () => {
      serving = false;
      listener.close();
      h2.drain();
      h1.drain();
      await waitUntil(() => listener.sockets.size === 0, graceMs);
      h2.destroyAll();
      listener.destroyAll();
      closeDiscovery();
      adminServer.closeAllConnections();
      await new Promise<void>((resolve) => adminServer.close(() => resolve()));
    })());

  return { listen: bound, admin, metrics, routes: profiles, stop };
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
