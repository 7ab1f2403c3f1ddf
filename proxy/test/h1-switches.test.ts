// The connection-life mitigations of seeds 001/003 as switches, so a scenario can run them on and off:
// --h1-reuse-guard (a released keep-alive connection waits for the next I/O poll before reuse) and --h1-reissue
// (a bodiless idempotent request that failed on a reused connection is sent once more on a new one). Off, each
// lets the race it guards against through; on, it does not.
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { describe, test } from 'node:test';
import { ProxyMetrics } from '../src/metrics.js';
import { H1Pool } from '../src/upstream/h1-pool.js';
import { okResponse, rawH1Backend, sleep } from './raw-h1.js';
import { h1Request, metricValue, proxy, scrapeMetrics } from './support.js';

const HOST = '127.0.0.1';

/** `n` GETs one after the other, each made as soon as the previous response ended (in the same turn's ticks). */
function backToBack(port: number, agent: http.Agent, n: number): Promise<{ errors: number; done: number; reused: number }> {
  return new Promise((resolve) => {
    const counts = { errors: 0, done: 0, reused: 0 };
    const next = (): void => {
      if (counts.done + counts.errors >= n) return resolve(counts);
      const req = http.request({ host: HOST, port, path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () => {
          counts.done++;
          if (req.reusedSocket) counts.reused++;
          process.nextTick(next);
        });
      });
      req.on('error', () => {
        counts.errors++;
        setTimeout(next, 0);
      });
      req.end();
    };
    next();
  });
}

describe('--h1-reuse-guard', { timeout: 30_000 }, () => {
  test('off: a connection released in this turn is reused in this turn, as by Node\'s http.Agent', async (t) => {
    const backend = await rawH1Backend((socket) => socket.write(okResponse('ok')));
    t.after(() => backend.close());
    const pool = new H1Pool({ host: HOST, port: backend.port }, { idleTimeoutMs: 0, metrics: new ProxyMetrics(), reuseGuard: false });
    t.after(() => pool.close(true));

    // The second request is made from the socket's 'free' event, the moment the pool gets the connection back
    // (with the guard on, h1-pool.test.ts shows it gets a new connection there).
    const second = await new Promise<Promise<boolean>>((resolve, reject) => {
      const first = http.request({ host: HOST, port: backend.port, path: '/', agent: pool.agent }, (res) => res.resume());
      first.on('error', reject);
      first.on('socket', (s: net.Socket) =>
        s.once('free', () =>
          resolve(
            new Promise<boolean>((done, fail) => {
              const req = http.request({ host: HOST, port: backend.port, path: '/', agent: pool.agent }, (res) => {
                res.resume();
                res.on('end', () => done(req.reusedSocket));
              });
              req.on('error', fail);
              req.end();
            }),
          ),
        ),
      );
      first.end();
    });
    assert.equal(await second, true, 'reused in the turn it was released');
    assert.equal(backend.connections, 1);
  });

  test('Envoy #2715: an upstream that closes right after its response: no failure with the guard on, failures with it off', async (t) => {
    // The upstream writes its response and its FIN together (no Connection: close); the next request goes out as
    // soon as the previous response ended. Off, it is written into the connection whose FIN has not been read yet.
    const backend = await rawH1Backend((socket) => socket.end(okResponse('ok')));
    t.after(() => backend.close());
    const N = 60;
    const outcome: Record<string, { errors: number; done: number; reused: number }> = {};
    for (const guard of [true, false]) {
      const pool = new H1Pool({ host: HOST, port: backend.port }, { idleTimeoutMs: 3000, metrics: new ProxyMetrics(), reuseGuard: guard });
      outcome[guard ? 'on' : 'off'] = await backToBack(backend.port, pool.agent, N);
      pool.close(true);
    }
    t.diagnostic(`of ${N} back-to-back GETs: guard on ${JSON.stringify(outcome.on)}, off ${JSON.stringify(outcome.off)}`);
    assert.deepEqual(outcome.on, { errors: 0, done: N, reused: 0 }, 'on: the FIN is seen first, never a failure');
    assert.ok(outcome.off!.errors > 0, 'off: some requests are written into a connection the upstream closed');
  });
});

describe('--h1-reissue', { timeout: 30_000 }, () => {
  for (const reissue of ['on', 'off'] as const) {
    test(`${reissue}: a GET reset on a reused connection ${reissue === 'on' ? 'is reissued and succeeds' : 'fails with 502 connection-reset'}`, async (t) => {
      // The second request on every connection is answered with a reset, as if the upstream had just closed it.
      const backend = await rawH1Backend((socket, req) => {
        if (req.nthOnConnection === 2) socket.resetAndDestroy();
        else socket.write(okResponse('ok'));
      });
      t.after(() => backend.close());
      // --retries 0: the retry layer would otherwise retry a GET after connection-reset and hide the failure.
      const p = await proxy(['--endpoints', `${HOST}:${backend.port}`, '--upstream-protocol', 'h1', '--retries', '0', '--h1-reissue', reissue]);
      t.after(() => p.stop(0));

      assert.equal((await h1Request(p.listen.port, { path: '/first' })).status, 200);
      await sleep(20); // the connection is back in the pool
      const second = await h1Request(p.listen.port, { path: '/second' });
      const text = await scrapeMetrics(p.admin.port);
      const reissued = metricValue(text, 'sluice_proxy_upstream_h1_reissued_total');
      if (reissue === 'on') {
        assert.equal(second.status, 200);
        assert.equal(reissued, 1);
      } else {
        assert.equal(second.status, 502);
        assert.equal(second.headers['x-sluice-error'], 'connection-reset');
        assert.equal(reissued, 0);
      }
    });
  }
});
