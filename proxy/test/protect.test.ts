// Session protection through a real proxy on 127.0.0.1: a rapid-reset client is sent GOAWAY
// ENHANCE_YOUR_CALM and cut off while a client beside it keeps getting 200s; oversized headers never reach
// an endpoint; the buffered-bytes budget lowers the advertised concurrency; GOAWAYs are counted by side and
// code, and the session and stream gauges follow what is open.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { describe, test } from 'node:test';
import { H2_CODE } from '../src/h2-codes.js';
import { closeSession, connectH2, eventually, h1Request, h2Backend, h2Request, metricValue, proxy, scrapeMetrics, suiteEngine } from './support.js';

const GOAWAY = 'sluice_proxy_goaway_total';

describe('session protection', { timeout: 30_000 }, () => {
  test('rapid reset: the resetting client gets GOAWAY ENHANCE_YOUR_CALM and is closed; its neighbour keeps getting 200', async (t) => {
    let backendStreams = 0;
    const backend = await h2Backend((stream) => {
      backendStreams++;
      setTimeout(() => !stream.destroyed && stream.respond({ ':status': 200 }, { endStream: true }), 2);
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--max-resets-per-s', '50']);
    t.after(() => p.stop(0));
    const good = await connectH2(p.listen.port);
    t.after(() => closeSession(good));
    const attacker = await connectH2(p.listen.port);
    attacker.on('error', () => {}); // it is destroyed with ERR_HTTP2_SESSION_ERROR on the GOAWAY
    t.after(() => attacker.destroy());
    const goaway = new Promise<number>((resolve) => attacker.once('goaway', (code: number) => resolve(code)));
    const attackerClosed = new Promise<void>((resolve) => attacker.once('close', resolve));

    // The neighbour: requests one after another for as long as the attack runs, and a few after it.
    let attacking = true;
    const statuses: (number | undefined)[] = [];
    const neighbour = (async () => {
      while (attacking || statuses.length < 20) statuses.push((await h2Request(good, { ':path': '/good' })).status);
    })();

    // The attacker: HEADERS then RST_STREAM(CANCEL) at once, in a tight loop, at most 2000 times.
    let sent = 0;
    while (sent < 2000 && !attacker.closed && !attacker.destroyed) {
      const s = attacker.request({ ':path': '/attack' });
      s.on('error', () => {});
      s.close(http2.constants.NGHTTP2_CANCEL);
      sent++;
      if (sent % 20 === 0) await new Promise((r) => setImmediate(r)); // let the frames go out and come back
    }
    assert.equal(await goaway, H2_CODE.ENHANCE_YOUR_CALM, 'GOAWAY ENHANCE_YOUR_CALM');
    await attackerClosed;
    attacking = false;
    await neighbour;

    assert.ok(sent < 2000, `the attacker was cut off before it finished (${sent} resets sent)`);
    assert.ok(statuses.length >= 20 && statuses.every((s) => s === 200), `every neighbour request got 200: ${statuses.join(',')}`);
    const text = await scrapeMetrics(p.admin.port);
    assert.equal(metricValue(text, 'sluice_proxy_rapid_reset_total'), 1);
    assert.equal(metricValue(text, GOAWAY, { side: 'downstream', direction: 'sent', code: 'ENHANCE_YOUR_CALM' }), 1);
    assert.equal(metricValue(text, 'sluice_proxy_sessions', { side: 'downstream' }), 1, 'only the neighbour is left');
    // The point of the limit: the attacker's wasted upstream requests stay near the limit, far below nghttp2's 1000.
    t.diagnostic(`attacker sent ${sent} resets; the backend saw ${backendStreams - statuses.length} of its streams`);
    assert.ok(backendStreams - statuses.length < 500, `the attacker cost at most a few hundred upstream streams (${backendStreams - statuses.length})`);
  });

  test('a header list over --max-header-list-size never reaches the endpoint: h2 RST_STREAM ENHANCE_YOUR_CALM, h1 431', async (t) => {
    const paths: string[] = [];
    const backend = await h2Backend((stream, headers) => {
      paths.push(String(headers[':path']));
      stream.respond({ ':status': 200 }, { endStream: true });
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--upstream-protocol', 'h2', '--max-header-list-size', '4096']);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));
    assert.equal(client.remoteSettings.maxHeaderListSize, 4096, 'advertised in SETTINGS');

    const big = await h2Request(client, { ':path': '/big', 'x-big': 'a'.repeat(8000) });
    if (suiteEngine() === 'wire') {
      // h2/ answers 431 itself (as HTTP/1.1 does) where nghttp2 resets the stream: either way no endpoint sees it.
      assert.equal(big.status, 431);
    } else {
      assert.equal(big.status, undefined, 'no response headers');
      assert.equal(big.rstCode, H2_CODE.ENHANCE_YOUR_CALM);
    }
    const small = await h2Request(client, { ':path': '/small', 'x-small': 'a'.repeat(2000) });
    assert.equal(small.status, 200, 'the session survives and a request under the limit passes');

    // HTTP/1.1 keeps Node's own limit (16 KiB, the same as this flag's default): 431.
    const h1 = await h1Request(p.listen.port, { path: '/h1-big', headers: { 'x-big': 'a'.repeat(20_000) } });
    assert.equal(h1.status, 431);
    assert.deepEqual(paths, ['/small'], 'only the small request reached the endpoint');
  });

  test('--max-session-buffered-bytes lowers the advertised concurrency to fit stream window × streams', async (t) => {
    const backend = await h2Backend((stream) => stream.respond({ ':status': 200 }, { endStream: true }));
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, '--stream-window', '100000', '--max-session-buffered-bytes', '1000000']);
    t.after(() => p.stop(0));
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));
    assert.equal(client.remoteSettings.maxConcurrentStreams, 10);
    const results = await Promise.all(Array.from({ length: 30 }, () => h2Request(client, { ':path': '/' })));
    assert.ok(results.every((r) => r.status === 200), 'a client that respects SETTINGS queues and is never refused');
  });

  test('GOAWAY from an endpoint and from a client is counted by side and code; session and stream gauges follow', async (t) => {
    const held: http2.ServerHttp2Stream[] = [];
    const proxySessions = new Set<http2.Http2Session>(); // backend.sessions also holds the balancer's TCP probes
    const backend = await h2Backend((stream, headers) => {
      proxySessions.add(stream.session!);
      if (headers[':path'] === '/hold') return void held.push(stream);
      stream.respond({ ':status': 200 }, { endStream: true });
    });
    t.after(() => backend.close());
    const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`]);
    t.after(() => p.stop(0));
    const gauge = async (name: string, side: string): Promise<number> =>
      metricValue(await scrapeMetrics(p.admin.port), name, { side });

    const client = await connectH2(p.listen.port);
    const pending = h2Request(client, { ':path': '/hold' });
    assert.ok(await eventually(() => held.length === 1), 'the request is held at the endpoint');
    assert.equal(await gauge('sluice_proxy_streams', 'downstream'), 1);
    assert.equal(await gauge('sluice_proxy_streams', 'upstream'), 1);
    assert.equal(await gauge('sluice_proxy_sessions', 'downstream'), 1);
    assert.equal(await gauge('sluice_proxy_sessions', 'upstream'), 1);
    held[0]!.respond({ ':status': 200 }, { endStream: true });
    assert.equal((await pending).status, 200);

    // The endpoint closes its session gracefully: GOAWAY NO_ERROR; the proxy lets that session go.
    const [first] = proxySessions;
    first!.close();
    const text = await scrapeMetrics(p.admin.port);
    assert.equal(metricValue(text, 'sluice_proxy_streams', { side: 'downstream' }), 0);
    assert.equal(metricValue(text, 'sluice_proxy_streams', { side: 'upstream' }), 0);
    let closedUpstream = false;
    for (let i = 0; i < 200 && !closedUpstream; i++) {
      closedUpstream = (await gauge('sluice_proxy_sessions', 'upstream')) === 0;
      if (!closedUpstream) await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(closedUpstream, 'the upstream session closed');
    // A new request reconnects; that endpoint session then says ENHANCE_YOUR_CALM.
    assert.equal((await h2Request(client, { ':path': '/again' })).status, 200);
    assert.equal(proxySessions.size, 2, 'a new upstream session');
    [...proxySessions][1]!.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    await closeSession(client); // the client's own GOAWAY NO_ERROR
    let after = '';
    for (let i = 0; i < 200; i++) {
      after = await scrapeMetrics(p.admin.port);
      if (metricValue(after, GOAWAY, { side: 'upstream', code: 'ENHANCE_YOUR_CALM' }) === 1 && metricValue(after, 'sluice_proxy_sessions', { side: 'downstream' }) === 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    // Frames, as on the wire: Node's graceful close writes two GOAWAY NO_ERROR (close's, then the final one).
    assert.ok(metricValue(after, GOAWAY, { side: 'upstream', direction: 'received', code: 'NO_ERROR' }) >= 1);
    assert.equal(metricValue(after, GOAWAY, { side: 'upstream', direction: 'received', code: 'ENHANCE_YOUR_CALM' }), 1);
    assert.ok(metricValue(after, GOAWAY, { side: 'downstream', direction: 'received', code: 'NO_ERROR' }) >= 1);
    assert.equal(metricValue(after, 'sluice_proxy_sessions', { side: 'downstream' }), 0);
  });
});
