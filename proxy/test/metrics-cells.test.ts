// The cell metrics (metrics-cells.ts) read exactly as prom-client's Counter and Histogram fed the same values:
// the same text, byte for byte, in either exposition format, the same JSON, and the same after a reset. Then the
// session metrics counted in plain numbers (session/metrics.ts): open streams and sessions, resets by code.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Counter, Gauge, Histogram, Registry, type RegistryContentType } from 'prom-client';
import { H2_CODE } from '../src/h2-codes.js';
import { CellCounter, CellHistogram, ReadGauge } from '../src/metrics-cells.js';
import { ProxyMetrics } from '../src/metrics.js';
import { H2SessionMetrics } from '../src/session/metrics.js';
import { metricValue } from './support.js';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LABELS = ['protocol', 'route', 'status_class'] as const;

/** A prom-client registry and a cells one, with one counter and one histogram each of the same names. */
function pair(openMetrics = false) {
  const ours = new Registry<RegistryContentType>();
  const theirs = new Registry<RegistryContentType>();
  if (openMetrics) for (const r of [ours, theirs]) r.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const config = { name: 'x_requests_total', help: 'Requests "by" protocol\\route.', labelNames: LABELS };
  const histogram = { name: 'x_duration_seconds', help: 'Durations.', labelNames: ['protocol', 'route'] as const, buckets: BUCKETS };
  return {
    ours,
    theirs,
    counter: new CellCounter({ ...config, registers: [ours] }),
    promCounter: new Counter({ ...config, registers: [theirs] }),
    histogram: new CellHistogram({ ...histogram, registers: [ours] }),
    promHistogram: new Histogram({ ...histogram, registers: [theirs] }),
  };
}

/** Feeds both the same observations: values on bucket bounds, between them, over the last, zero. */
function feed(p: ReturnType<typeof pair>, seed: number): void {
  let x = seed;
  const random = (): number => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const sets = [
    { protocol: 'h2', route: 'default' },
    { protocol: 'grpc', route: 'svc.ns' },
    { protocol: 'h1', route: 'a"b\\c\nd' },
  ];
  const values = [...BUCKETS, 0, 11, 1e9, ...Array.from({ length: 200 }, () => random() ** 4 * 3)];
  for (const [i, value] of values.entries()) {
    const labels = sets[(i * 7 + seed) % sets.length]!;
    const statusClass = ['2xx', '5xx', 'reset', 'cancelled'][i % 4]!;
    p.counter.cell({ ...labels, status_class: statusClass }).value++;
    p.promCounter.inc({ ...labels, status_class: statusClass });
    p.histogram.cell(labels).observe(value);
    p.promHistogram.observe(labels, value);
  }
}

describe('cell metrics', () => {
  test('nothing observed: HELP and TYPE only, as prom-client', async () => {
    const p = pair();
    assert.equal(await p.ours.metrics(), await p.theirs.metrics());
  });

  test('the same text as prom-client, in first-seen order, after every round of observations', async () => {
    const p = pair();
    for (const seed of [1, 2, 3]) {
      feed(p, seed);
      const text = await p.ours.metrics();
      assert.equal(text, await p.theirs.metrics());
    }
    assert.match(await p.ours.metrics(), /^x_duration_seconds_bucket\{le="\+Inf",protocol="h1",route="a\\"b\\\\c\\nd"\} \d+$/m);
  });

  test('the same in the OpenMetrics format and as JSON', async () => {
    const p = pair(true);
    feed(p, 5);
    assert.equal(await p.ours.metrics(), await p.theirs.metrics());
    // prom-client's own samples carry an empty exemplar (null, or undefined); ours none.
    const plain = (json: unknown): unknown => JSON.parse(JSON.stringify(json, (k, v: unknown) => (k === 'exemplar' ? undefined : v)));
    assert.deepEqual(plain(await p.ours.getMetricsAsJSON()), plain(await p.theirs.getMetricsAsJSON()));
  });

  test('a reset empties the series as prom-client does; counting starts again from 0', async () => {
    const p = pair();
    feed(p, 7);
    p.ours.resetMetrics();
    p.theirs.resetMetrics();
    assert.equal(await p.ours.metrics(), await p.theirs.metrics());
    feed(p, 8);
    // The same lines; a label set keeps its place from before the reset (prom-client's goes last).
    const lines = async (r: Registry<RegistryContentType>): Promise<string[]> => (await r.metrics()).split('\n').sort();
    assert.deepEqual(await lines(p.ours), await lines(p.theirs));
  });

  test('a zeroed label set shows at 0 until counted; the same cell for the same labels', async () => {
    const p = pair();
    const labels = { protocol: 'h2', route: 'r', status_class: '4xx' };
    p.counter.zero(labels);
    p.promCounter.inc(labels, 0);
    assert.equal(await p.ours.metrics(), await p.theirs.metrics());
    p.counter.cell({ status_class: '4xx', route: 'r', protocol: 'h2' }).value += 2;
    p.promCounter.inc(labels, 2);
    assert.equal(await p.ours.metrics(), await p.theirs.metrics());
  });

  test('a value that is not a number, or a label named le, is refused as prom-client does', () => {
    const p = pair();
    const cell = p.histogram.cell({ protocol: 'h2', route: 'r' });
    assert.throws(() => cell.observe(NaN), TypeError);
    assert.throws(() => cell.observe(Infinity), TypeError);
    assert.equal(cell.count, 0);
    const registers = [new Registry<RegistryContentType>()];
    assert.throws(() => new CellHistogram({ name: 'x_seconds', help: 'x', labelNames: ['le'], buckets: [1], registers }), /le is a reserved/);
  });
});

describe('session metrics counted in numbers', () => {
  test('open streams and sessions: each closer counts once; the gauges read at the scrape', async () => {
    const registry = new Registry();
    const h2 = new H2SessionMetrics(registry);
    const read = async (name: string, side: string): Promise<number> => metricValue(await registry.metrics(), name, { side });
    const session = h2.sessionOpened('downstream');
    const streams = Array.from({ length: 5 }, () => h2.streamOpened('downstream'));
    const upstream = h2.streamOpened('upstream');
    assert.equal(await read('sluice_proxy_streams', 'downstream'), 5);
    assert.equal(await read('sluice_proxy_streams', 'upstream'), 1);
    assert.equal(await read('sluice_proxy_sessions', 'downstream'), 1);
    streams[0]!();
    streams[0]!(); // a second call does nothing
    streams[1]!();
    upstream();
    session();
    session();
    assert.equal(await read('sluice_proxy_streams', 'downstream'), 3);
    assert.equal(await read('sluice_proxy_streams', 'upstream'), 0);
    assert.equal(await read('sluice_proxy_sessions', 'downstream'), 0);
    assert.equal(await read('sluice_proxy_sessions', 'upstream'), 0, 'both sides show from the start');
    assert.equal(await read('sluice_proxy_streams_opened_total', 'downstream'), 5, 'opened stays counted');
    assert.equal(await read('sluice_proxy_sessions_opened_total', 'downstream'), 1);
  });

  test('resets and GOAWAYs by code name: the common codes at 0 first, others once seen', async () => {
    const registry = new Registry();
    const h2 = new H2SessionMetrics(registry);
    const before = await registry.metrics();
    assert.match(before, /^sluice_proxy_rst_stream_total\{side="downstream",direction="sent",code="NO_ERROR"\} 0$/m);
    assert.match(before, /^sluice_proxy_goaway_total\{side="upstream",direction="received",code="ENHANCE_YOUR_CALM"\} 0$/m);
    h2.rst('upstream', 'sent', H2_CODE.CANCEL);
    h2.rst('upstream', 'sent', H2_CODE.CANCEL);
    h2.rst('downstream', 'received', 0xff);
    h2.goaway('downstream', 'sent', H2_CODE.NO_ERROR);
    const text = await registry.metrics();
    assert.equal(metricValue(text, 'sluice_proxy_rst_stream_total', { side: 'upstream', direction: 'sent', code: 'CANCEL' }), 2);
    assert.equal(metricValue(text, 'sluice_proxy_rst_stream_total', { side: 'downstream', direction: 'received' }), 1);
    assert.equal(metricValue(text, 'sluice_proxy_goaway_total', { side: 'downstream', direction: 'sent', code: 'NO_ERROR' }), 1);
    // The unknown code comes after the common ones, as prom-client orders a label set first counted later.
    const rst = text.split('\n').filter((line) => line.startsWith('sluice_proxy_rst_stream_total{'));
    assert.equal(rst.length, 4 * 7 + 1);
    assert.doesNotMatch(rst.at(-1)!, /code="(NO_ERROR|CANCEL)"/);
  });
});

test('ReadGauge: no sample while read() gives undefined (not a 0), else the same text as a prom-client Gauge set to the value', async () => {
  const ours = new Registry<RegistryContentType>();
  const theirs = new Registry<RegistryContentType>();
  let value: number | undefined;
  const config = { name: 'x_window_bytes', help: 'A window (absent while not connected).' };
  new ReadGauge({ ...config, registers: [ours], read: () => value });
  const gauge = new Gauge({ ...config, registers: [theirs] });
  const absent = await ours.metrics();
  assert.match(absent, /^# TYPE x_window_bytes gauge$/m);
  assert.doesNotMatch(absent, /^x_window_bytes /m, 'no sample while absent');
  value = 0; // an exhausted window is a 0, and reads as one
  gauge.set(0);
  assert.equal(await ours.metrics(), await theirs.metrics());
  value = 65_535;
  gauge.set(65_535);
  assert.equal(await ours.metrics(), await theirs.metrics());
});

test("the proxy's control-plane connection window is absent from /metrics while no control plane is connected", async () => {
  const text = await new ProxyMetrics().registry.metrics();
  assert.match(text, /^# HELP sluice_proxy_control_connection_window_bytes /m);
  assert.doesNotMatch(text, /^sluice_proxy_control_connection_window_bytes /m);
});
