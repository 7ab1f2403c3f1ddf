// Keepalive PINGs on both sides: a peer that stops answering (it sent its preface and SETTINGS, then went
// silent) is closed after --keepalive-interval + --keepalive-timeout, while an idle peer that answers PINGs
// is kept; an endpoint gone silent fails its request with a 502 instead of holding it for ever.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { H2_PREFACE } from '../src/listener.js';
import { closeSession, connectH2, h2Request, h2Backend, metricValue, proxy, scrapeMetrics } from './support.js';

const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]); // length 0, type SETTINGS, no flags, stream 0
const FAST = ['--keepalive-interval', '200ms', '--keepalive-timeout', '300ms'];

/** A TCP server that speaks the first words of HTTP/2 (its SETTINGS) and then answers nothing again. */
async function silentH2Server(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.write(EMPTY_SETTINGS);
    socket.resume(); // reads and drops everything: no PING is ever answered
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

describe('keepalive', { timeout: 20_000 }, () => {
  test('a client that goes silent is closed; an idle client that answers PINGs is kept', async (t) => {
    const backend = await h2Backend((stream) => stream.respond({ ':status': 200 }, { endStream: true }));
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, ...FAST]);
    t.after(() => p.stop(0));
    const idle = await connectH2(p.listen.port); // Node answers PINGs by itself
    t.after(() => closeSession(idle));

    const silent = net.connect(p.listen.port, '127.0.0.1');
    silent.on('error', () => {});
    t.after(() => silent.destroy());
    await new Promise((r) => silent.once('connect', r));
    silent.write(Buffer.concat([H2_PREFACE, EMPTY_SETTINGS]));
    silent.resume(); // from now on it drops what it reads and answers nothing (resumed, so it sees the close)
    const closedAt = new Promise<void>((resolve) => silent.once('close', () => resolve()));

    const closed = await Promise.race([closedAt.then(() => true), new Promise((r) => setTimeout(() => r(false), 8000))]);
    assert.ok(closed, 'the proxy closed the silent session within 8 s (interval 200 ms + timeout 300 ms)');
    assert.equal(idle.closed || idle.destroyed, false, 'the idle client that answers PINGs is still connected');
    assert.equal((await h2Request(idle, { ':path': '/' })).status, 200);
    const text = await scrapeMetrics(p.admin.port);
    assert.equal(metricValue(text, 'sluice_proxy_keepalive_timeouts_total', { side: 'downstream' }), 1);
    assert.equal(metricValue(text, 'sluice_proxy_sessions', { side: 'downstream' }), 1, 'only the idle client is left');
  });

  test('an endpoint that goes silent fails the request with a 502 instead of holding it', async (t) => {
    const silent = await silentH2Server();
    t.after(() => silent.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${silent.port}`, '--upstream-protocol', 'h2', ...FAST]);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    const res = await Promise.race([h2Request(client, { ':path': '/' }), new Promise<undefined>((r) => setTimeout(() => r(undefined), 8000))]);
    assert.ok(res, 'the request ended within 8 s');
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-sluice-error'], 'connection-closed');
    const text = await scrapeMetrics(p.admin.port);
    assert.ok(metricValue(text, 'sluice_proxy_keepalive_timeouts_total', { side: 'upstream' }) >= 1);
  });

  test('--keepalive-interval 0s turns it off: a silent client stays connected', async (t) => {
    const backend = await h2Backend((stream) => stream.respond({ ':status': 200 }, { endStream: true }));
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--keepalive-interval', '0s', '--keepalive-timeout', '300ms']);
    t.after(() => p.stop(0));
    const silent = net.connect(p.listen.port, '127.0.0.1');
    silent.on('error', () => {});
    t.after(() => silent.destroy());
    await new Promise((r) => silent.once('connect', r));
    silent.write(Buffer.concat([H2_PREFACE, EMPTY_SETTINGS]));
    silent.resume();
    let closed = false;
    silent.once('close', () => (closed = true));
    await new Promise((r) => setTimeout(r, 1500)); // three times what closes it with keepalive on
    assert.equal(closed, false);
    assert.equal(metricValue(await scrapeMetrics(p.admin.port), 'sluice_proxy_sessions', { side: 'downstream' }), 1);
  });
});
