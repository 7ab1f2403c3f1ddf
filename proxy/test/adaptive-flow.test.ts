// --adaptive end to end: client -> proxy -> userland TCP relay (backend -> proxy chunks delayed ~20 ms, so
// the proxy's upstream session sees a real RTT; the machine's loopback is never shaped) -> h2 backend
// sending large bodies (8 MiB). With --adaptive the upstream session's windows grow; with fixed windows they stay.
import assert from 'node:assert/strict';
import type http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { closeSession, connectH2, h2Backend, h2Request, metricValue, proxy, scrapeMetrics } from './support.js';

const DELAY_MS = 20;

/** A TCP relay to `port` that delays every chunk from the backend by `delayMs` (order kept). */
async function delayRelay(port: number, delayMs: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const up = net.connect(port, '127.0.0.1');
    sockets.add(down).add(up);
    down.on('data', (chunk: Buffer) => up.write(chunk));
    up.on('data', (chunk: Buffer) => setTimeout(() => down.writable && down.write(chunk), delayMs));
    const end = (): void => {
      up.destroy();
      setTimeout(() => down.destroy(), delayMs);
    };
    down.on('close', () => up.destroy());
    up.on('close', end);
    down.on('error', () => up.destroy());
    up.on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

async function transfer(t: TestContext, bodyBytes: number, rounds: number, flags: string[]) {
  const body = Buffer.alloc(bodyBytes, 7);
  let served: http2.Http2Session | undefined; // the session through the relay (not a probe's)
  const backend = await h2Backend((stream) => {
    served = stream.session;
    stream.respond({ ':status': 200 });
    stream.end(body);
  });
  t.after(() => backend.close());
  const relay = await delayRelay(backend.port, DELAY_MS);
  t.after(() => relay.close());
  const p = await proxy(['--endpoints', `127.0.0.1:${relay.port}`, '--upstream-protocol', 'h2', ...flags]);
  t.after(() => p.stop(0));
  // The client's own windows are large, so the downstream hop is never what limits the transfer.
  const client = await connectH2(p.listen.port, { initialWindowSize: 16 * 2 ** 20 });
  client.setLocalWindowSize(32 * 2 ** 20);
  t.after(() => closeSession(client));

  // Up to `rounds` bodies on the same sessions (windows persist across requests): samples are noisy, so
  // the adaptive case stops as soon as both upstream windows have grown.
  let metrics = '';
  for (let i = 0; i < rounds; i++) {
    const res = await h2Request(client, { ':path': '/large' });
    assert.equal(res.status, 200);
    assert.equal(res.body.length, bodyBytes);
    metrics = await scrapeMetrics(p.admin.port);
    const grown =
      metricValue(metrics, 'sluice_proxy_window_bytes', { side: 'upstream', kind: 'stream' }) > 65_535 &&
      metricValue(metrics, 'sluice_proxy_window_bytes', { side: 'upstream', kind: 'connection' }) > 1_048_576;
    if (grown) break;
  }
  return {
    stream: metricValue(metrics, 'sluice_proxy_window_bytes', { side: 'upstream', kind: 'stream' }),
    connection: metricValue(metrics, 'sluice_proxy_window_bytes', { side: 'upstream', kind: 'connection' }),
    changes: metricValue(metrics, 'sluice_proxy_adaptive_window_changes_total', { side: 'upstream' }),
    downstreamStream: metricValue(metrics, 'sluice_proxy_window_bytes', { side: 'downstream', kind: 'stream' }),
    backendSeesStream: served?.remoteSettings.initialWindowSize,
  };
}

describe('adaptive flow control through a 20 ms relay', { timeout: 15_000 }, () => {
  test('--adaptive grows the upstream stream and connection windows past 65535 / 1 MiB', async (t) => {
    const r = await transfer(t, 8 * 2 ** 20, 4, ['--adaptive']);
    assert.ok(r.stream > 65_535, `upstream stream window ${r.stream}`);
    assert.ok(r.connection > 1_048_576, `upstream connection window ${r.connection}`);
    assert.ok(r.changes > 0, 'window changes counted');
    assert.ok((r.backendSeesStream ?? 0) > 65_535, `backend sees SETTINGS_INITIAL_WINDOW_SIZE ${r.backendSeesStream}`);
    assert.ok(r.stream <= 16 * 2 ** 20 && r.connection <= 16 * 2 ** 20, 'capped at 16 MiB');
  });

  test('fixed windows stay where they were set', async (t) => {
    const r = await transfer(t, 2 * 2 ** 20, 2, []);
    assert.equal(r.stream, 65_535);
    assert.equal(r.connection, 1_048_576);
    assert.equal(r.changes, 0);
    assert.equal(r.backendSeesStream, 65_535);
    assert.equal(r.downstreamStream, 65_535);
  });
});
