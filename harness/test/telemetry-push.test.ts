// `--push`: a run's summaries pushed to Debian's prometheus-pushgateway and read back from its /metrics; a newer
// run of a cell replaces that cell's group whole, another cell or another instance is left alone. Then the
// errors a push can meet, against a small HTTP server that answers 400 or never answers.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { test } from 'node:test';
import { scrape, type Sample } from '../orchestrator/metrics-scrape.js';
import { freePort } from '../orchestrator/ports.js';
import { pushSummaries } from '../telemetry/push.js';
import { cellSummarySamples, type CellSamples } from '../telemetry/summary-metrics.js';
import { isAlive } from './helpers/processes.js';
import { PUSHGATEWAY, startDaemon, type Daemon } from './helpers/prometheus-daemons.js';
import { telemetryRun } from './helpers/telemetry-fixture.js';

/** metrics-scrape keeps label values as written; the fixture's headline name has escaped quotes. */
function unescaped(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, v.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c))]));
}

function groupSeries(got: Sample[], g: CellSamples): Sample[] {
  const key = g.grouping;
  return got
    .map((s) => ({ ...s, labels: unescaped(s.labels) }))
    .filter((s) => s.name.startsWith('sluice_') && s.labels.job === key.job && s.labels.instance === key.instance && s.labels.matrix === key.matrix && s.labels.cell === key.cell);
}

/** The group as the pushgateway serves it is exactly the pushed samples: each one's value under its labels plus job and instance, nothing else. */
function assertGroup(got: Sample[], g: CellSamples): void {
  const series = groupSeries(got, g);
  const want = g.samples.map((s) => ({ name: s.name, labels: { ...s.labels, job: g.grouping.job, instance: g.grouping.instance }, value: s.value }));
  const norm = (xs: { name: string; labels: Record<string, string>; value: number }[]) =>
    xs.map((x) => JSON.stringify([x.name, Object.entries(x.labels).sort(([a], [b]) => (a < b ? -1 : 1)), x.value])).sort();
  assert.deepEqual(norm(series), norm(want), `group ${JSON.stringify(g.grouping)}`);
}

test('pushgateway: every cell pushed reads back; a newer run replaces its cell’s group whole, not other cells or instances', { timeout: 60_000 }, async () => {
  let gw: Daemon | undefined;
  try {
    // In memory: Debian's default --persistence.file is /var/lib/prometheus/pushgateway.data, shared with
    // whatever else runs one, whose groups would be read back here and would receive ours.
    gw = await startDaemon(PUSHGATEWAY, (address) => [`--web.listen-address=${address}`, '--persistence.file=']);
    const baseline = await telemetryRun('base', '2025-12-01T00:00:00.000Z', 2);
    const a = cellSummarySamples(await telemetryRun('run-a', '2026-01-01T00:00:00.000Z'), { host: 'bench-1', baseline });
    assert.deepEqual(await pushSummaries(gw.url, a, { timeoutMs: 5000 }), { pushed: a.length });
    let got = await scrape(`${gw.url}/metrics`);
    for (const g of a) assertGroup(got, g);

    // Run B of the first cell only, without a baseline: its group loses A's relative gate lines too (PUT).
    const runB = await telemetryRun('run-b', '2026-01-02T00:00:00.000Z', 1.5);
    const b = cellSummarySamples(runB, { host: 'bench-1' });
    assert.equal(b[0]!.grouping.cell, a[0]!.grouping.cell);
    assert.ok(a[0]!.samples.length > b[0]!.samples.length, 'A has gate lines B has not');
    await pushSummaries(gw.url, b.slice(0, 1), { timeoutMs: 5000 });
    got = await scrape(`${gw.url}/metrics`);
    assertGroup(got, b[0]!);
    for (const g of a.slice(1)) assertGroup(got, g);
    const runIds = groupSeries(got, b[0]!).filter((s) => s.name === 'sluice_nightly_run_info').map((s) => s.labels.run_id);
    assert.deepEqual(runIds, ['run-b']);

    // The same run from another host (its name has a `/`, so it travels base64-encoded): bench-1 keeps its groups.
    const other = cellSummarySamples(runB, { host: 'rack/7' });
    assert.deepEqual(await pushSummaries(gw.url, other, { timeoutMs: 5000 }), { pushed: other.length });
    got = await scrape(`${gw.url}/metrics`);
    for (const g of other) assertGroup(got, g);
    assertGroup(got, b[0]!);
    for (const g of a.slice(1)) assertGroup(got, g);
  } finally {
    await gw?.stop();
  }
  assert.ok(gw.pid !== undefined && !isAlive(gw.pid), 'the pushgateway is stopped');
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { server, url: `http://127.0.0.1:${address.port}` };
}

test('push errors: one line naming --push URL, the group, and the status and body, a timeout, or the refused connection', { timeout: 20_000 }, async () => {
  const groups = cellSummarySamples(await telemetryRun('run-a', '2026-01-01T00:00:00.000Z'), { host: 'bench-1' });
  const group = `group job=sluice,instance=bench-1,matrix=fixture,cell=${groups[0]!.grouping.cell}`;

  const refusing = await listen((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(400).end('text format parsing error in line 3\n'));
  });
  try {
    await assert.rejects(pushSummaries(refusing.url, groups, { timeoutMs: 2000 }), {
      name: 'PushError',
      message: `--push ${refusing.url}: pushgateway answered 400 (text format parsing error in line 3) for ${group}`,
    });
  } finally {
    refusing.server.close();
  }

  const silent = await listen((req) => req.resume());
  try {
    const started = Date.now();
    await assert.rejects(pushSummaries(silent.url, groups, { timeoutMs: 300 }), { message: `--push ${silent.url}: no answer within 300 ms for ${group}` });
    assert.ok(Date.now() - started < 3000);
  } finally {
    silent.server.closeAllConnections();
    silent.server.close();
  }

  const nobody = `http://127.0.0.1:${await freePort()}`;
  await assert.rejects(pushSummaries(nobody, groups, { timeoutMs: 2000 }), new RegExp(`^PushError: --push ${nobody}: cannot reach the pushgateway \\(ECONNREFUSED`));
  await assert.rejects(pushSummaries('pushgateway:9091', groups, { timeoutMs: 2000 }), /--push pushgateway:9091: expected an http:\/\/ or https:\/\/ URL/);
  await assert.rejects(pushSummaries('not a url', groups, { timeoutMs: 2000 }), /--push not a url: not a URL/);
});
