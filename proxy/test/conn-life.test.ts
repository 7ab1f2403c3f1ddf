// Client connection life: an idle HTTP/1.1 connection is closed and an idle h2 session gets GOAWAY after
// --downstream-idle-timeout; at --max-connection-duration a connection drains gracefully (the in-flight request
// completes, with `Connection: close` on HTTP/1.1 or after a GOAWAY on h2); --drain-timeout bounds the drain;
// bad values of the new flags stop the proxy naming the flag.
import assert from 'node:assert/strict';
import type http2 from 'node:http2';
import { describe, test } from 'node:test';
import { ConfigError, parseConfig } from '../src/config.js';
import { collect, connect, parseResponse, sleep } from './raw-h1.js';
import { connectH2, h1Backend, h2Request, metricValue, proxy, scrapeMetrics } from './support.js';

const EP = ['--endpoints', '127.0.0.1:9001'];

async function closedBy(adminPort: number, reason: string): Promise<number> {
  return metricValue(await scrapeMetrics(adminPort), 'sluice_proxy_connections_closed_total', { side: 'downstream', reason });
}

async function until(check: () => Promise<boolean> | boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(20);
  }
  return check();
}

function goawayOf(session: http2.ClientHttp2Session): Promise<{ code: number; lastStreamId: number }> {
  return new Promise((resolve) => session.once('goaway', (code, lastStreamId) => resolve({ code, lastStreamId })));
}

describe('client connection life', { timeout: 30_000 }, () => {
  test('idle timeout: an idle HTTP/1.1 keep-alive connection is closed, an idle h2 session gets GOAWAY', async (t) => {
    const backend = await h1Backend((_req, res) => res.end('ok'));
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--downstream-idle-timeout', '200ms', '--upstream-protocol', 'h1']);
    t.after(() => p.stop(0));

    const socket = await connect(p.listen.port);
    const exchange = collect(socket);
    const opened = Date.now();
    socket.write('GET / HTTP/1.1\r\nHost: svc.test\r\n\r\n');
    const h1 = await exchange;
    const res = parseResponse(h1.received);
    assert.equal(res?.status, 200);
    assert.equal(res?.headers.connection, 'keep-alive', 'kept alive after the response');
    assert.equal(h1.ended, true, 'closed by the proxy with a FIN');
    assert.ok(Date.now() - opened >= 150, 'not before the idle timeout');

    const client = await connectH2(p.listen.port);
    client.on('error', () => {});
    const goaway = goawayOf(client);
    assert.equal((await h2Request(client, { ':path': '/' })).status, 200);
    assert.equal((await goaway).code, 0, 'GOAWAY NO_ERROR');
    assert.equal(await until(() => client.closed || client.destroyed), true);
    assert.equal(await until(async () => (await closedBy(p.admin.port, 'idle')) === 2), true, 'both counted as idle closes');
  });

  test('max connection duration, HTTP/1.1: the in-flight request completes with Connection: close, then the connection closes', async (t) => {
    const backend = await h1Backend((_req, res) => setTimeout(() => res.end('slow but whole'), 600));
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--max-connection-duration', '200ms', '--upstream-protocol', 'h1']);
    t.after(() => p.stop(0));

    const socket = await connect(p.listen.port);
    const exchange = collect(socket);
    socket.write('GET / HTTP/1.1\r\nHost: svc.test\r\n\r\n');
    const result = await exchange;
    const res = parseResponse(result.received);
    assert.equal(res?.status, 200);
    assert.equal(res?.body.toString(), 'slow but whole');
    assert.equal(res?.complete, true);
    assert.equal(res?.headers.connection, 'close');
    assert.equal(result.error, undefined);
    assert.equal(await until(async () => (await closedBy(p.admin.port, 'max-duration')) === 1), true);
  });

  test('max connection duration, h2: GOAWAY while a stream is in flight; the stream completes, new ones go elsewhere', async (t) => {
    const backend = await h1Backend((_req, res) => setTimeout(() => res.end('slow but whole'), 600));
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--max-connection-duration', '200ms', '--upstream-protocol', 'h1']);
    t.after(() => p.stop(0));

    const client = await connectH2(p.listen.port);
    client.on('error', () => {});
    const goaway = goawayOf(client);
    const inFlight = h2Request(client, { ':path': '/' });
    const { code, lastStreamId } = await goaway;
    assert.equal(code, 0);
    assert.ok(lastStreamId >= 1, 'the in-flight stream is covered by the GOAWAY');
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.equal(res.rstCode, 0);
    assert.equal(res.body.toString(), 'slow but whole');
    assert.equal(await until(() => client.closed || client.destroyed), true);
    assert.equal(await until(async () => (await closedBy(p.admin.port, 'max-duration')) === 1), true);

    const next = await connectH2(p.listen.port); // a new connection is served as usual
    t.after(() => next.destroy());
    assert.equal((await h2Request(next, { ':path': '/' })).status, 200);
  });

  test('drain timeout: a draining connection whose request never ends is closed after --drain-timeout', async (t) => {
    const backend = await h1Backend(() => {}); // never answers
    t.after(() => backend.close());
    const p = await proxy([
      '--endpoints', `127.0.0.1:${backend.port}`, '--upstream-protocol', 'h1',
      '--max-connection-duration', '100ms', '--drain-timeout', '300ms',
    ]);
    t.after(() => p.stop(0));

    const socket = await connect(p.listen.port);
    const exchange = collect(socket);
    const opened = Date.now();
    socket.write('GET / HTTP/1.1\r\nHost: svc.test\r\n\r\n');
    const bound = setTimeout(() => socket.destroy(), 10_000);
    const result = await exchange;
    clearTimeout(bound);
    const elapsed = Date.now() - opened;
    assert.equal(result.received.length, 0, 'no response was ever made');
    assert.ok(elapsed >= 350 && elapsed < 5000, `closed after duration + drain timeout (${elapsed} ms)`);
    assert.equal(await until(async () => (await closedBy(p.admin.port, 'max-duration')) === 1), true);
  });

  test('bad values of the connection-life flags stop the proxy naming the flag', () => {
    const cases: [string[], string][] = [
      [['--h1-pool-idle-timeout', '3'], '--h1-pool-idle-timeout'],
      [['--downstream-idle-timeout', '-1s'], '--downstream-idle-timeout'],
      [['--max-connection-duration', '30d'], '--max-connection-duration'],
      [['--drain-timeout', '0s'], '--drain-timeout'],
      [['--delayed-close', '1000h'], '--delayed-close'],
      [['--max-request-body-bytes', '-1'], '--max-request-body-bytes'],
      [['--max-request-body-bytes', '16MiB'], '--max-request-body-bytes'],
    ];
    for (const [argv, flag] of cases) {
      assert.throws(
        () => parseConfig([...EP, ...argv]),
        (err: unknown) => err instanceof ConfigError && err.where === flag,
        `${argv.join(' ')} is refused`,
      );
    }
    const parsed = parseConfig([...EP, '--delayed-close', '0s', '--max-connection-duration', '10m', '--max-request-body-bytes', '0']);
    assert.equal(parsed.help, false);
    if (!parsed.help) {
      assert.equal(parsed.config.delayedClose, 0);
      assert.equal(parsed.config.maxConnectionDuration, 600_000);
      assert.equal(parsed.config.maxRequestBodyBytes, 0);
    }
  });
});
