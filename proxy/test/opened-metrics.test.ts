// sluice_proxy_sessions_opened_total and sluice_proxy_streams_opened_total through a real proxy: a harness reads
// their increase over a repetition as the sessions and streams it used, so they must count every one opened
// and keep counting after the sessions close (unlike the sluice_proxy_sessions and _streams gauges).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeSession, connectH2, h2Backend, h2Request, metricValue, proxy, scrapeMetrics } from './support.js';

const SESSIONS = 'sluice_proxy_sessions_opened_total';
const STREAMS = 'sluice_proxy_streams_opened_total';

test('sessions and streams opened are counted by side, and stay counted once closed', { timeout: 20_000 }, async (t) => {
  const backend = await h2Backend((stream) => stream.respond({ ':status': 200 }, { endStream: true }));
  t.after(() => backend.close());
  const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--upstream-protocol', 'h2']);
  t.after(() => p.stop(0));
  const metric = async (name: string, side: string): Promise<number> =>
    metricValue(await scrapeMetrics(p.admin.port), name, { side });

  let text = await scrapeMetrics(p.admin.port);
  for (const name of [SESSIONS, STREAMS]) {
    for (const side of ['downstream', 'upstream']) {
      assert.match(text, new RegExp(`^${name}\\{side="${side}"\\} 0$`, 'm'), `${name}{side=${side}} is 0 before any traffic`);
    }
  }

  const a = await connectH2(p.listen.port);
  const b = await connectH2(p.listen.port);
  const results = await Promise.all([
    ...Array.from({ length: 5 }, () => h2Request(a, { ':path': '/a' })),
    ...Array.from({ length: 2 }, () => h2Request(b, { ':path': '/b' })),
  ]);
  assert.ok(results.every((r) => r.status === 200));
  await closeSession(a);
  await closeSession(b);
  let open = await metric('sluice_proxy_sessions', 'downstream');
  for (const deadline = Date.now() + 2000; open > 0 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 10))) {
    open = await metric('sluice_proxy_sessions', 'downstream');
  }

  text = await scrapeMetrics(p.admin.port);
  assert.equal(metricValue(text, 'sluice_proxy_sessions', { side: 'downstream' }), 0, 'both clients are gone');
  assert.equal(metricValue(text, SESSIONS, { side: 'downstream' }), 2, 'two client sessions, closed but counted');
  assert.equal(metricValue(text, SESSIONS, { side: 'upstream' }), 1, 'one upstream session carried all seven');
  assert.equal(metricValue(text, STREAMS, { side: 'downstream' }), 7);
  assert.equal(metricValue(text, STREAMS, { side: 'upstream' }), 7);
  assert.equal(metricValue(text, 'sluice_proxy_streams', { side: 'downstream' }), 0, 'the gauge went back down');
});
