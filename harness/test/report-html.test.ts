// report.html as text: self-contained (nothing fetched), its data inside, every section there, and each chart
// or the sentence that stands for it. Drawing is tested in Chromium (report-chromium.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readChartAssets } from '../output/chart-assets.js';
import type { ChartSpec } from '../output/chart-spec.js';
import { percentileCurve } from '../output/percentile-curve.js';
import { formatHtmlReport, REPORT_SECTIONS } from '../output/report-html.js';
import type { RunResults } from '../results/model.js';
import { reportFixture } from './helpers/report-fixture.js';

function chartsOf(html: string): ChartSpec[] {
  const m = /<script type="application\/json" id="sluice-charts">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'the chart data is embedded as JSON');
  return (JSON.parse(m[1]!) as { charts: ChartSpec[] }).charts;
}

test('report.html is self-contained: no URL to fetch, the chart library and the data inlined', async () => {
  const html = formatHtmlReport(await reportFixture(), readChartAssets());
  assert.doesNotMatch(html, /\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i, 'no http(s) or protocol-relative src/href');
  assert.doesNotMatch(html, /<script[^>]*\ssrc=/i, 'no external script');
  assert.doesNotMatch(html, /<link[^>]*stylesheet/i, 'no external stylesheet');
  assert.doesNotMatch(html, /@import|url\(\s*["']?https?:/i, 'no CSS fetch');
  assert.ok(html.includes(readChartAssets().js.slice(0, 200)), 'uPlot is inlined');
  assert.match(html, /var uPlot=/);
  assert.doesNotMatch(html, /decodeFromCompressedBase64|hdr-histogram/i, 'the histogram decoder stays in Node');
  assert.doesNotMatch(html, /<script>window\.pwned/, 'text from results cannot open a script');
});

test('report.html holds its data: cells, percentile curves from the histograms, and each chart section', async () => {
  const results = await reportFixture();
  const html = formatHtmlReport(results, readChartAssets());
  for (const id of REPORT_SECTIONS) assert.match(html, new RegExp(`<section id="${id}">`), `section ${id}`);
  const charts = chartsOf(html);
  for (const c of charts) assert.match(html, new RegExp(`data-chart="${c.id}"`), `a place for ${c.id}`);

  // Goodput and P99 against concurrency, one line per window setting (2 x 2).
  const sweep = charts.filter((c) => c.id.startsWith('sweep-'));
  assert.deepEqual(sweep.map((c) => c.kind), ['line', 'line']);
  const rps = sweep[0]!;
  assert.ok(rps.kind === 'line');
  assert.deepEqual(rps.x.values, [1, 8, 64]);
  assert.equal(rps.x.scale, 'log2');
  assert.equal(rps.series.length, 4);
  const cell = results.cells.find((c) => c.id === 'concurrency=8,connWindow=1048576,streamWindow=65535')!;
  const line = rps.series.find((s) => s.label === 'streamWindow=64KiB, connWindow=1MiB')!;
  assert.equal(line.values[1], cell.summary!.rps.mean);
  assert.equal(line.values.length, 3);

  // The heat map: one table per concurrency, 2 x 2, with the P99 values written in.
  assert.equal((html.match(/<figure class="heatmap">/g) ?? []).length, 3);
  assert.match(html, /<figcaption>concurrency=8<\/figcaption>/);

  // RST_STREAM by code: the cells that received any, stacked by code.
  const rst = charts.find((c) => c.id === 'rst');
  assert.ok(rst && rst.kind === 'bar' && rst.stacked);
  assert.deepEqual(rst.series.map((s) => s.label), ['CANCEL', 'REFUSED_STREAM']);
  assert.equal(rst.categories.length, 2);

  // Headlines: one bar per scenario cell.
  const headlines = charts.filter((c) => c.id.startsWith('headline-'));
  assert.equal(headlines.length, 1);
  assert.ok(headlines[0]!.kind === 'bar');
  assert.equal(headlines[0]!.categories.length, 2, 'the two scenario cells (concurrency 8, connection window 4 MiB)');

  // Distributions: a percentile plot per concurrency, curves from the merged histogram.
  const dists = charts.filter((c) => c.id.startsWith('dist-'));
  assert.equal(dists.length, 3);
  const d = dists[1]!;
  assert.ok(d.kind === 'line' && d.x.scale === 'percentile');
  const curve = percentileCurve(cell.summary!.histogram);
  assert.ok(curve.length > 20, `HdrHistogram's percentile steps: ${curve.length}`);
  assert.ok(curve.every((p, i) => i === 0 || (p.x >= curve[i - 1]!.x && p.latencyMs >= curve[i - 1]!.latencyMs)), 'monotonic');
  assert.ok(Math.abs(curve[0]!.x - 1) < 1e-9, 'starts at the 0th percentile');
  const series = d.series.find((s) => s.label === 'streamWindow=64KiB, connWindow=1MiB')!;
  assert.deepEqual(
    series.values.filter((v): v is number => v !== null),
    curve.map((p) => p.latencyMs),
  );
  for (const c of results.cells) assert.ok(html.includes(c.id), `cell ${c.id} is in the page`);
});

test('report.html puts the warnings first: failed cell, saturated generator, saturated link, Little\'s law', async () => {
  const html = formatHtmlReport(await reportFixture(), readChartAssets());
  const warnings = html.slice(html.indexOf('<section id="warnings">'), html.indexOf('<section id="sweep">'));
  assert.ok(html.indexOf('<section id="warnings">') < html.indexOf('<section id="sweep">'));
  for (const kind of ['failed', 'generator-saturated', 'link-saturated', 'not-steady']) assert.match(warnings, new RegExp(`class="warning-${kind}"`), kind);
  assert.match(warnings, /proxy exited with code 3 before \/ready: &lt;\/script&gt;/);
});

test('report.html says what it cannot draw: no window axes, no RST, no scenario', async () => {
  const full = await reportFixture();
  // Only concurrency swept, plain unary cells, nothing reset.
  const cells = full.cells
    .filter((c) => c.status === 'ok' && c.params.streamWindow === 65535 && c.params.connWindow === 1048576)
    .map((c) => ({ ...c, axes: { concurrency: c.axes['concurrency']! }, params: { ...c.params, scenario: 'unary' as const }, reps: c.reps.map((r) => ({ ...r, rst: { received: {}, sent: {} } })) }));
  const r: RunResults = { ...full, cells };
  const html = formatHtmlReport(r, readChartAssets());
  for (const id of REPORT_SECTIONS) assert.match(html, new RegExp(`<section id="${id}">`));
  assert.match(html, /does not sweep streamWindow and connWindow/);
  assert.match(html, /No RST_STREAM was received/);
  assert.match(html, /No scenario cell/);
  const charts = chartsOf(html);
  assert.equal(charts.filter((c) => c.id.startsWith('sweep-')).length, 2);
  assert.equal(charts.filter((c) => c.id.startsWith('dist-')).length, 3, 'one percentile plot per concurrency');
});

test('report.html with no load axis swept draws a bar per cell', async () => {
  const full = await reportFixture();
  const cells = full.cells.filter((c) => c.status === 'ok' && c.params.concurrency === 1).map((c) => ({ ...c, axes: { streamWindow: c.axes['streamWindow']!, connWindow: c.axes['connWindow']! } }));
  const html = formatHtmlReport({ ...full, cells }, readChartAssets());
  const charts = chartsOf(html);
  const sweep = charts.filter((c) => c.id.startsWith('sweep-'));
  assert.deepEqual(sweep.map((c) => c.kind), ['bar', 'bar']);
  assert.ok(sweep[0]!.kind === 'bar' && sweep[0]!.categories.length === 4);
  assert.match(html, /Goodput and P99 against each cell/);
  assert.equal((html.match(/<figure class="heatmap">/g) ?? []).length, 1);
});
