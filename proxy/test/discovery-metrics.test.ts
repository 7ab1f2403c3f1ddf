// When the proxy applied a discovery change, as a harness polling /metrics sees it: one
// sluice_proxy_balancer_endpoint{address,state} series per endpoint the balancer knows (appearing when the control
// plane adds it, gone when it removes it), and sluice_proxy_discovery_updates_total by service and kind.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { DestinationServer } from '../../workloads/destination/server.js';
import { slowBackend, within } from './discovery-support.js';
import { metricValue, proxy, scrapeMetrics } from './support.js';

const SERVICE = 'green';

/** address -> state, from the sluice_proxy_balancer_endpoint series. */
async function endpointStates(adminPort: number): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of (await scrapeMetrics(adminPort)).split('\n')) {
    const m = /^sluice_proxy_balancer_endpoint\{address="([^"]+)",state="([a-z]+)"\} 1$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** A port nothing listens on (bound, then closed). */
async function deadAddress(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return `127.0.0.1:${port}`;
}

describe('discovery in /metrics', { timeout: 30_000 }, () => {
  test('sluice_proxy_balancer_endpoint follows the control plane: added endpoints appear with their state, removed ones are gone', async (t) => {
    const [a, b, c] = await Promise.all([slowBackend(0), slowBackend(0), slowBackend(0)]);
    t.after(() => Promise.all([a.close(), b.close(), c.close()]));
    const dead = await deadAddress();
    const control = await DestinationServer.start();
    t.after(() => control.close(true));
    const p = await proxy(['--destination', `127.0.0.1:${control.port}`, '--service', SERVICE]);
    t.after(() => p.stop(0));
    assert.ok((await within(5000, () => control.subscribers(SERVICE) === 1)) >= 0);
    assert.deepEqual(await endpointStates(p.admin.port), {}, 'no endpoint yet');

    control.setEndpoints(SERVICE, [a.address, b.address]);
    const want1 = { [a.address]: 'ready', [b.address]: 'ready' };
    const ms1 = await within(5000, async () => JSON.stringify(await endpointStates(p.admin.port)) === JSON.stringify(want1));
    assert.ok(ms1 >= 0, JSON.stringify(await endpointStates(p.admin.port)));

    // Roll: a out, c and an address nothing listens on in. The dead one shows as failed.
    control.setEndpoints(SERVICE, [b.address, c.address, dead]);
    const ms2 = await within(5000, async () => {
      const states = await endpointStates(p.admin.port);
      return !(a.address in states) && states[c.address] === 'ready' && states[dead] === 'failed' && states[b.address] === 'ready';
    });
    assert.ok(ms2 >= 0, JSON.stringify(await endpointStates(p.admin.port)));
    t.diagnostic(`applied and probed within ${ms1} ms and ${ms2} ms (20 ms polls)`);

    control.noEndpoints(SERVICE);
    assert.ok((await within(5000, async () => Object.keys(await endpointStates(p.admin.port)).length === 0)) >= 0, 'every series is gone');

    control.setProfile(SERVICE, { routes: [{ name: 'all' }] });
    const updates = (kind: string): Promise<number> =>
      scrapeMetrics(p.admin.port).then((text) => metricValue(text, 'sluice_proxy_discovery_updates_total', { source: 'destination', service: SERVICE, kind }));
    assert.ok((await within(3000, async () => (await updates('profile')) === 2)) >= 0, 'the empty profile at the start, then this one');
    // no_endpoints{exists: false} at the start, then the adds and removes of the two sets, then no_endpoints.
    assert.deepEqual([await updates('add'), await updates('remove'), await updates('no-endpoints')], [2, 1, 2]);
  });
});
