// proxyMetricsDelta: counters as increases grouped by label, zeros left out, gauges at the end; first against
// fixed /metrics text, then against a real proxy process driven over HTTP/2 between two scrapes.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { test } from 'node:test';
import { AXIS_DEFAULTS, type CellParams } from '../matrix/axes.js';
import { startBackends } from '../orchestrator/launch.js';
import { proxyCellSpec } from '../orchestrator/topology.js';
import { sluiceDriver } from '../proxies/sluice.js';
import { tmpdir } from 'node:os';
import { parsePrometheusText, scrape } from '../orchestrator/metrics-scrape.js';
import { proxyMetricsDelta } from '../orchestrator/proxy-metrics.js';
import { Supervisor } from '../orchestrator/supervisor.js';

const BEFORE = `# HELP sluice_proxy_rst_stream_total RST_STREAM frames.
# TYPE sluice_proxy_rst_stream_total counter
sluice_proxy_rst_stream_total{side="downstream",direction="received",code="CANCEL"} 2
sluice_proxy_rst_stream_total{side="upstream",direction="received",code="REFUSED_STREAM"} 1
sluice_proxy_requests_total{protocol="h2",route="default",status_class="2xx"} 100
sluice_proxy_requests_total{protocol="h2",route="default",status_class="5xx"} 3
sluice_proxy_retries_total{reason="connect-refused"} 1
sluice_proxy_retry_budget_exhausted_total 0
sluice_proxy_timeouts_total{kind="request"} 1
sluice_proxy_failfast_seconds_total 1.5
sluice_proxy_connections_closed_total{side="downstream",reason="peer"} 4
sluice_proxy_connections_closed_total{side="upstream",reason="idle"} 1
sluice_proxy_rapid_reset_total 0
sluice_proxy_keepalive_timeouts_total{side="upstream"} 5
sluice_proxy_sessions_opened_total{side="downstream"} 3
sluice_proxy_sessions_opened_total{side="upstream"} 1
sluice_proxy_streams_opened_total{side="downstream"} 100
sluice_proxy_streams_opened_total{side="upstream"} 100
sluice_proxy_sessions{side="downstream"} 3
sluice_proxy_streams{side="downstream"} 8
process_cpu_seconds_total 1.25
`;

// Label order differs from BEFORE on purpose (a label set is the same whatever its order); the keepalive
// counter went down (the proxy restarted), so its value after is the increase.
const AFTER = `# HELP sluice_proxy_rst_stream_total RST_STREAM frames.
# TYPE sluice_proxy_rst_stream_total counter
sluice_proxy_rst_stream_total{code="CANCEL",direction="received",side="downstream"} 5
sluice_proxy_rst_stream_total{side="upstream",direction="received",code="REFUSED_STREAM"} 1
sluice_proxy_rst_stream_total{side="upstream",direction="sent",code="CANCEL"} 3
sluice_proxy_goaway_total{side="downstream",direction="received",code="NO_ERROR"} 1
sluice_proxy_requests_total{protocol="h2",route="default",status_class="2xx"} 160
sluice_proxy_requests_total{protocol="h2",route="web",status_class="2xx"} 10
sluice_proxy_requests_total{protocol="h2",route="default",status_class="5xx"} 3
sluice_proxy_retries_total{reason="connect-refused"} 4
sluice_proxy_retry_budget_exhausted_total 2
sluice_proxy_shed_total{reason="fail-fast"} 7
sluice_proxy_timeouts_total{kind="request"} 1
sluice_proxy_failfast_seconds_total 4
sluice_proxy_adaptive_window_changes_total{side="downstream",kind="stream"} 3
sluice_proxy_connections_closed_total{side="downstream",reason="peer"} 6
sluice_proxy_connections_closed_total{side="upstream",reason="idle"} 1
sluice_proxy_rapid_reset_total 0
sluice_proxy_keepalive_timeouts_total{side="upstream"} 2
sluice_proxy_sessions_opened_total{side="downstream"} 4
sluice_proxy_sessions_opened_total{side="upstream"} 1
sluice_proxy_streams_opened_total{side="downstream"} 170
sluice_proxy_streams_opened_total{side="upstream"} 171
sluice_proxy_sessions{side="downstream"} 1
sluice_proxy_sessions{side="upstream"} 1
sluice_proxy_streams{side="downstream"} 0
sluice_proxy_streams{side="upstream"} 0
sluice_proxy_window_bytes{side="downstream",kind="stream"} 262144
sluice_proxy_window_bytes{side="downstream",kind="connection"} 1048576
sluice_proxy_window_bytes{side="upstream",kind="stream"} 0
process_cpu_seconds_total 2.5
`;

test('fixture: counters become increases by label, zeros and empty groups left out; gauges are read at the end', () => {
  const delta = proxyMetricsDelta(parsePrometheusText(BEFORE), parsePrometheusText(AFTER));
  assert.deepEqual(delta, {
    rst: { downstream: { received: { CANCEL: 3 } }, upstream: { sent: { CANCEL: 3 } } },
    goaway: { downstream: { received: { NO_ERROR: 1 } } },
    requests: { '2xx': 70 },
    retries: { 'connect-refused': 3 },
    retryBudgetExhausted: 2,
    sheds: { 'fail-fast': 7 },
    timeouts: {},
    failFastS: 2.5,
    adaptiveWindowChanges: { downstream: { stream: 3 } },
    connectionsClosed: { downstream: { peer: 2 } },
    rapidResets: 0,
    keepaliveTimeouts: { upstream: 2 },
    sessions: { opened: { downstream: 1 }, atEnd: { downstream: 1, upstream: 1 } },
    streams: { opened: { downstream: 70, upstream: 71 }, atEnd: { downstream: 0, upstream: 0 } },
    windowsAtEnd: { downstream: { stream: 262144, connection: 1048576 }, upstream: { stream: 0 } },
  });
});

test('fixture: the same scrape twice is an empty repetition, and the shape stays whole', () => {
  const same = parsePrometheusText(AFTER);
  const delta = proxyMetricsDelta(same, same);
  assert.deepEqual(delta.rst, {});
  assert.deepEqual(delta.requests, {});
  assert.equal(delta.failFastS, 0);
  assert.deepEqual(delta.sessions.opened, {});
  assert.deepEqual(delta.sessions.atEnd, { downstream: 1, upstream: 1 }, 'gauges are still read');
  const none = proxyMetricsDelta([], []);
  assert.deepEqual(Object.keys(none).sort(), Object.keys(delta).sort());
  assert.deepEqual(none.windowsAtEnd, {});
});

const PARAMS: CellParams = { ...AXIS_DEFAULTS, concurrency: 1, responseBytes: 100 };

test('a real proxy: the delta holds the repetition\'s streams, sessions, requests and a client\'s reset, not earlier traffic', { timeout: 30_000 }, async (t) => {
  const sup = new Supervisor();
  try {
    // 30 ms at the backend, so the request reset below is still in flight at the proxy.
    const backends = await startBackends(sup, PARAMS, { latency: { dist: 'fixed', ms: 30 } });
    const spec = await proxyCellSpec(PARAMS, { endpoints: backends.ports.map((p) => `${backends.host}:${p}`) }, [], tmpdir());
    const proxy = await sluiceDriver().start(sup, spec);
    const metricsUrl = proxy.metricsUrl!;
    assert.equal(metricsUrl, `${proxy.adminUrl}/metrics`);

    // Traffic before the window must not show in the delta.
    await withSession(proxy.url, (s) => Promise.all(Array.from({ length: 5 }, () => get(s))));
    const before = await scrape(metricsUrl);
    assert.ok(before.length > 0, 'the proxy answered /metrics');

    const REQUESTS = 20;
    let after = before;
    await withSession(proxy.url, async (s) => {
      const statuses = await Promise.all(Array.from({ length: REQUESTS }, () => get(s)));
      assert.deepEqual(new Set(statuses), new Set([200]));
      await cancelInFlight(s);
      // The proxy counts the reset, then the cancelled request once its upstream stream has closed too: scrape
      // until both show (the client session stays open).
      for (const deadline = Date.now() + 3000; Date.now() < deadline; await sleep(20)) {
        after = await scrape(metricsUrl);
        const d = proxyMetricsDelta(before, after);
        if (d.rst.downstream?.received?.CANCEL && d.requests.cancelled && d.streams.atEnd.upstream === 0) break;
      }
    });

    const delta = proxyMetricsDelta(before, after);
    t.diagnostic(JSON.stringify(delta));
    assert.equal(delta.streams.opened.downstream, REQUESTS + 1, 'every stream of the window, the reset one too');
    assert.ok((delta.streams.opened.upstream ?? 0) >= REQUESTS, `upstream streams ${delta.streams.opened.upstream}`);
    assert.equal(delta.sessions.opened.downstream, 1, 'the one client session of the window');
    assert.equal(delta.sessions.opened.upstream, undefined, 'the upstream session from before was reused');
    assert.equal(delta.sessions.atEnd.downstream, 1, 'scraped while the client was still connected');
    assert.equal(delta.sessions.atEnd.upstream, 1);
    assert.deepEqual(delta.streams.atEnd, { downstream: 0, upstream: 0 });
    assert.deepEqual(delta.requests, { '2xx': REQUESTS, cancelled: 1 });
    assert.deepEqual(delta.rst.downstream, { received: { CANCEL: 1 } });
    assert.deepEqual(delta.rst.upstream, { sent: { CANCEL: 1 } }, 'the reset was passed on to the endpoint');
    assert.deepEqual(delta.windowsAtEnd.downstream, { stream: PARAMS.streamWindow, connection: PARAMS.connWindow });
    assert.equal(delta.failFastS, 0);
    assert.deepEqual(delta.sheds, {});
    assert.deepEqual(delta.retries, {});
  } finally {
    await sup.stopAll();
  }
});

async function withSession<T>(url: string, use: (session: http2.ClientHttp2Session) => Promise<T>): Promise<T> {
  const session = http2.connect(url);
  session.on('error', () => undefined);
  try {
    return await use(session);
  } finally {
    await new Promise<void>((r) => session.close(() => r()));
  }
}

/** One GET; resolves with the status once the response has ended. */
function get(session: http2.ClientHttp2Session): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': '/' });
    let status = 0;
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('error', reject);
    stream.resume();
    stream.on('end', () => resolve(status));
  });
}

/** Opens a request and resets it with CANCEL while the backend is still holding it. */
async function cancelInFlight(session: http2.ClientHttp2Session): Promise<void> {
  const stream = session.request({ ':path': '/' });
  stream.on('error', () => undefined);
  await sleep(10);
  await new Promise<void>((r) => stream.close(http2.constants.NGHTTP2_CANCEL, () => r()));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
