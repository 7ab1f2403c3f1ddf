// Readiness and a graceful stop, in process: /ready is 503 until the listener is bound and after a stop
// begins; a stop lets in-flight requests on both protocols finish, then closes everything.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createAdmin } from '../src/admin.js';
import { ProxyMetrics } from '../src/metrics.js';
import { connectH2, h1Backend, h1Request, h2Request, proxy } from './support.js';

describe('admin and lifecycle', { timeout: 10_000 }, () => {
  test('admin: /ready follows readiness, /live is always 200, unknown paths 404', async (t) => {
    let ready = false;
    const admin = createAdmin({ registry: new ProxyMetrics().registry, isReady: () => ready });
    await new Promise<void>((r) => admin.listen(0, '127.0.0.1', r));
    t.after(() => new Promise((r) => admin.close(r)));
    const base = `http://127.0.0.1:${(admin.address() as { port: number }).port}`;
    assert.equal((await fetch(`${base}/ready`)).status, 503);
    ready = true;
    const res = await fetch(`${base}/ready`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ready\n');
    assert.equal((await fetch(`${base}/live`)).status, 200);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
    assert.match(await (await fetch(`${base}/metrics`)).text(), /process_resident_memory_bytes/);
  });

  test('stop: in-flight h1 and h2 requests finish, /ready turns 503, then the ports close', async (t) => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const backend = await h1Backend(async (_req, res) => {
      await released;
      res.end('finished');
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--upstream-protocol', 'h1']);
    assert.equal((await fetch(`http://127.0.0.1:${p.admin.port}/ready`)).status, 200);

    const client = await connectH2(p.listen.port);
    client.on('error', () => {});
    const h2 = h2Request(client, { ':path': '/' });
    const h1 = h1Request(p.listen.port, { path: '/' });
    await new Promise((r) => setTimeout(r, 50)); // both requests reach the backend
    const stopped = p.stop(2000);
    await new Promise((r) => setTimeout(r, 20));
    release();
    const [r1, r2] = await Promise.all([h1, h2]);
    assert.equal(r1.body.toString(), 'finished');
    assert.equal(r2.body.toString(), 'finished');
    await stopped;
    await assert.rejects(fetch(`http://127.0.0.1:${p.admin.port}/ready`));
    await assert.rejects(h1Request(p.listen.port, { path: '/' }), /ECONNREFUSED/);
  });
});
