// Seed 000 in the proxy: the control-plane connection's windows (--control-stream-window, --control-conn-window)
// as the control plane sees them on the wire, and --idle-services streams that are never read while the routed
// service's endpoints roll. What linkerd's h2 client did (an unread stream held connection credit until the
// 65535-byte connection window was spent and every other stream stopped):
// - does not happen on node:http2 (--engine node), which returns connection credit as DATA arrives and holds only
//   the unread stream's own window: the routed service's updates still arrive with a 65535-byte connection window
//   as with 16 MiB;
// - happens on our own engine (--engine wire, wire/control-client.ts), whose credit is strict as h2's: when the
//   connection window is no larger than what the unread stream may take, the unread stream takes all of it and
//   the routed service's pods roll with the proxy never told; 16 MiB leaves room and the rolls arrive.
// These tests assert each engine's outcome, and print the windows observed on the wire.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DestinationServer, type RouteSpec } from '../../workloads/destination/server.js';
import { slowBackend, within } from './discovery-support.js';
import { wireRelay } from './h2-wire.js';
import { metricValue, proxy, scrapeMetrics, suiteEngine } from './support.js';

const GREEN = 'green';
const BLUE = 'blue';

/** A profile of 1.8 KiB on the wire, so a flood fills a stream window in a few dozen messages. */
const BIG_PROFILE: RouteSpec[] = Array.from({ length: 24 }, (_, i) => ({
  name: `route-${i}`,
  method: 'GET',
  pathRegex: `/api/v1/items/${i}/[a-z0-9-]+/(details|history|owners)`,
  retryable: i % 2 === 0,
  timeoutMs: 500,
}));

/** Addresses of the balancer's endpoints as /metrics shows them (sluice_proxy_balancer_endpoint). */
async function balancerAddresses(adminPort: number): Promise<string[]> {
  const text = await scrapeMetrics(adminPort);
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^sluice_proxy_balancer_endpoint\{address="([^"]+)",state="[a-z]+"\} 1$/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out.sort();
}

describe('control-plane windows', { timeout: 30_000 }, () => {
  for (const [flags, stream, conn] of [
    [[], 65_535, 1_048_576],
    [['--control-stream-window', '262144', '--control-conn-window', '16777216'], 262_144, 16_777_216],
  ] as const) {
    test(`${flags.length ? flags.join(' ') : 'defaults'}: SETTINGS_INITIAL_WINDOW_SIZE ${stream} and a connection window of ${conn} on the wire`, async (t) => {
      const control = await DestinationServer.start();
      t.after(() => control.close(true));
      const relay = await wireRelay(control.port);
      t.after(() => relay.close());
      const p = await proxy(['--destination', `127.0.0.1:${relay.port}`, '--service', GREEN, ...flags]);
      t.after(() => p.stop(0));
      assert.ok((await within(5000, () => control.subscribers(GREEN) === 1)) >= 0, 'the proxy subscribed');

      assert.equal(relay.initialWindow, stream);
      assert.equal(relay.connectionUpdates[0], conn - 65_535, 'the first WINDOW_UPDATE opens the connection window');
      // The first messages are a few bytes; neither engine has returned any of them yet (credit goes back in
      // batches of half the window), so they are all that is missing.
      assert.equal(relay.connectionWindow(), conn - relay.streams.reduce((sum, id) => sum + relay.dataBytes(id), 0));
      const text = await scrapeMetrics(p.admin.port);
      assert.equal(metricValue(text, 'sluice_proxy_control_connection_window_bytes'), relay.connectionWindow(), '/metrics agrees with the wire');
    });
  }
});

describe('seed 000: idle services on the control-plane connection', { timeout: 60_000 }, () => {
  // linkerd's windows at the incident (65535 both), linkerd's stream window with 16 MiB for the connection, and an
  // unread stream allowed more than the whole connection window.
  for (const [streamWindow, connWindow] of [
    [65_535, 65_535],
    [65_535, 16_777_216],
    [1_048_576, 65_535],
  ] as const) {
    test(`--control-stream-window ${streamWindow} --control-conn-window ${connWindow}: an idle service's flooded profile stays unread, and the routed service's pods roll through`, async (t) => {
      const [a, b, c] = await Promise.all([slowBackend(0), slowBackend(0), slowBackend(0)]);
      t.after(() => Promise.all([a.close(), b.close(), c.close()]));
      const control = await DestinationServer.start();
      t.after(() => control.close(true));
      control.setEndpoints(GREEN, [a.address]);
      control.setProfile(BLUE, { routes: BIG_PROFILE });
      const relay = await wireRelay(control.port);
      t.after(() => relay.close());
      const p = await proxy([
        '--destination', `127.0.0.1:${relay.port}`, '--service', GREEN, '--idle-services', BLUE,
        '--control-stream-window', String(streamWindow), '--control-conn-window', String(connWindow),
      ]);
      t.after(() => p.stop(0));
      assert.ok((await within(5000, async () => (await balancerAddresses(p.admin.port)).join() === a.address)) >= 0);
      // Get(green), GetProfile(green), GetProfile(blue): opened in that order on one connection.
      assert.equal(relay.streams.length, 3);
      const blueStream = relay.streams[2]!;

      // Blue's profile again and again, 1000 a second (linkerd's incident: many profile updates of a service nobody uses).
      const flood = setInterval(() => {
        for (let i = 0; i < 10; i++) control.resendProfile(BLUE);
      }, 10);
      t.after(() => clearInterval(flood));
      const unread = async (): Promise<number> =>
        metricValue(await scrapeMetrics(p.admin.port), 'sluice_proxy_control_unread_bytes', { service: BLUE });
      // Strict credit starves the connection when blue may take all of it: the incident.
      const starves = suiteEngine() === 'wire' && connWindow <= streamWindow;
      if (starves) {
        // Blue takes the whole connection window but the few bytes of green's messages not yet credited back.
        assert.ok((await within(5000, async () => (await unread()) >= connWindow - 2048)) >= 0, `blue holds the connection window unread (${await unread()})`);
      } else {
        assert.ok((await within(5000, async () => (await unread()) === streamWindow)) >= 0, `blue holds its whole window unread (${await unread()})`);
      }

      // Roll green's pods twice while blue's stream is full and the flood goes on. Starved, one roll is enough to
      // show it and the wait is shorter (the update can never come).
      const rolls: number[] = [];
      for (const [next, want] of (starves ? [[b, [b.address]]] : [[b, [b.address]], [c, [c.address]]]) as ReadonlyArray<readonly [typeof b, string[]]>) {
        control.setEndpoints(GREEN, [next.address]);
        const ms = await within(starves ? 2000 : 5000, async () => (await balancerAddresses(p.admin.port)).join() === want.join());
        rolls.push(ms);
      }
      clearInterval(flood);

      const text = await scrapeMetrics(p.admin.port);
      const evidence = {
        rollAppliedMs: rolls,
        blueStreamWindowOnWire: relay.streamWindow(blueStream),
        blueDataOnWire: relay.dataBytes(blueStream),
        blueWindowInProxy: metricValue(text, 'sluice_proxy_control_stream_window_bytes', { service: BLUE, read: 'false' }),
        connectionWindowOnWire: relay.connectionWindow(),
        lowestConnectionWindowOnWire: relay.lowestConnectionWindow,
        connectionWindowUpdates: relay.connectionUpdates.length,
        connectionWindowInProxy: metricValue(text, 'sluice_proxy_control_connection_window_bytes'),
        greenUpdatesApplied: metricValue(text, 'sluice_proxy_discovery_updates_total', { service: GREEN }),
        blueUpdatesApplied: metricValue(text, 'sluice_proxy_discovery_updates_total', { service: BLUE }),
      };
      t.diagnostic(JSON.stringify(evidence));

      assert.equal(evidence.blueUpdatesApplied, 0, 'nothing of blue was ever read');
      if (starves) {
        // Seed 000: the connection window is spent on blue's unread bytes, and green's update never arrives.
        assert.ok(rolls.every((ms) => ms < 0), `no roll was applied (${rolls.join(', ')} ms)`);
        assert.ok(evidence.connectionWindowOnWire < 2048, `the connection window is shut (${evidence.connectionWindowOnWire})`);
        assert.ok(evidence.connectionWindowInProxy < 2048, `and /metrics says so (${evidence.connectionWindowInProxy})`);
        assert.ok(evidence.blueDataOnWire >= connWindow - 2048, `blue took it (${evidence.blueDataOnWire} bytes)`);
        return;
      }
      // The routed service's updates arrived: blue's unread bytes did not spend the connection.
      assert.ok(rolls.every((ms) => ms >= 0), `every roll was applied (${rolls.join(', ')} ms)`);
      // Blue's stream: exactly its window was sent, none of it returned (never read).
      assert.equal(evidence.blueStreamWindowOnWire, 0);
      assert.equal(evidence.blueDataOnWire, streamWindow);
      assert.equal(evidence.blueWindowInProxy, 0);
      if (suiteEngine() === 'node') {
        // The connection: credit came back for every byte, blue's included (Node consumes it on arrival).
        assert.ok(evidence.connectionWindowOnWire > connWindow / 2, `the connection window is open (${evidence.connectionWindowOnWire})`);
      } else {
        // Strict: blue's window stays spent on the connection too, the rest of 16 MiB is open.
        assert.ok(evidence.connectionWindowOnWire <= connWindow - streamWindow, `blue's bytes hold the connection (${evidence.connectionWindowOnWire})`);
        assert.ok(evidence.connectionWindowOnWire > connWindow / 2, `the rest is open (${evidence.connectionWindowOnWire})`);
      }
    });
  }
});
