// report.html: one self-contained page (opens offline: uPlot and the data are inlined, nothing is fetched) with
// the run's warnings first, then goodput and P99 against the swept load, the P99 heat map over the proxy's
// windows, RST_STREAM by code, the scenario headlines, the latency distributions and the cells at a glance.
// A pure function of the results and the chart library's text (chart-assets.ts).
import type { RunResults } from '../results/model.js';
import type { ChartAssets } from './chart-assets.js';
import { PALETTE, type ChartSpec } from './chart-spec.js';
import { fmtBytes } from './format-number.js';
import { heatMaps, renderHeatMap } from './heat-map.js';
import { escapeHtml, jsonForScript, scriptText } from './html-escape.js';
import { DRAW_SCRIPT } from './report-browser.js';
import { distributionCharts, headlineCharts, measured, rstChart, sweepCharts } from './report-charts.js';
import { axisRoles } from './report-plan.js';
import { findWarnings, type ReportWarning } from './report-warnings.js';
import { SUMMARY_COLUMNS, summaryRow } from './summary-table.js';

/** The sections every report has, by id: a chart or a sentence saying why there is none. */
export const REPORT_SECTIONS = ['warnings', 'sweep', 'heatmap', 'rst', 'headlines', 'distributions', 'cells'] as const;

export function formatHtmlReport(r: RunResults, assets: ChartAssets): string {
  const roles = axisRoles(r.cells);
  const sweep = sweepCharts(r.cells, roles);
  const rst = rstChart(r.cells, roles);
  const headlines = headlineCharts(r.cells, roles);
  const dists = distributionCharts(r.cells, roles);
  const maps = heatMaps(r.cells, roles);
  const charts: ChartSpec[] = [...sweep.charts, ...(rst.chart ? [rst.chart] : []), ...headlines, ...dists];
  const none = measured(r.cells).length === 0;

  const body = [
    header(r),
    section('warnings', 'Warnings', warningList(r)),
    section('sweep', `Goodput and P99 against ${sweep.against}`, none ? noData() : chartSlots(sweep.charts) + `<p class="note">Goodput: successful responses per second, the mean over repetitions. P99: of every request of every repetition (their histograms merged).</p>`),
    section(
      'heatmap',
      'P99 heat map: stream window x connection window',
      'missing' in maps ? `<p class="missing">${escapeHtml(maps.missing)}</p>` : none ? noData() : `<div class="heatmaps">${maps.map(renderHeatMap).join('')}</div><p class="note">P99 in ms; each table coloured on its own log scale, light is lower (better); "-": no measured cell.</p>`,
    ),
    section(
      'rst',
      'RST_STREAM by code',
      rst.chart
        ? chartSlots([rst.chart]) + (rst.without > 0 ? `<p class="note">The other ${rst.without} measured cells received no RST_STREAM.</p>` : '')
        : `<p class="missing">No RST_STREAM was received in any measured cell${r.run.matrix.spec.generator === 'h2load' ? ' (h2load does not report them)' : ''}.</p>`,
    ),
    section('headlines', 'Scenario headlines', headlines.length > 0 ? chartSlots(headlines) : `<p class="missing">No scenario cell in this run (every cell is plain unary load).</p>`),
    section(
      'distributions',
      'Latency distributions',
      dists.length > 0
        ? `<p class="note">HdrHistogram percentile plots: latency (every outcome, from its send) against the percentile on a log 1/(1-p) axis, so the tail gets the room.</p>` + chartSlots(dists)
        : noData(),
    ),
    section('cells', 'Cells', cellTable(r)),
    `<footer>Made by sluice from results.json (${escapeHtml(r.run.id)}); charts drawn with ${escapeHtml(assets.credit)}, inlined.</footer>`,
  ].join('\n');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sluice run ${escapeHtml(r.run.id)}</title>
<link rel="icon" href="data:,">
<style>${assets.css}
${PAGE_CSS}</style>
</head>
<body>
${body}
<script type="application/json" id="sluice-charts">${jsonForScript({ palette: PALETTE, charts })}</script>
<script>${scriptText(assets.js)}</script>
<script>${scriptText(DRAW_SCRIPT)}</script>
</body>
</html>
`;
}

function header(r: RunResults): string {
  const spec = r.run.matrix.spec;
  const ok = r.cells.filter((c) => c.status === 'ok').length;
  const h = r.run.host;
  const items = [
    `matrix <b>${escapeHtml(spec.name)}</b> (${escapeHtml(r.run.matrix.file)})${spec.description ? `: ${escapeHtml(spec.description)}` : ''}`,
    `status ${escapeHtml(r.run.status)}; ${ok} cells ok, ${r.cells.length - ok} failed, ${r.excluded.length} excluded`,
    `each cell: ${r.run.options.warmupMs} ms warm-up, ${r.run.options.reps} x ${r.run.options.durationMs} ms measured`,
    `host: ${escapeHtml(h.cpuModel)}, ${h.cores} cores, ${fmtBytes(h.memoryBytes)}, Linux ${escapeHtml(h.kernel)}, Node ${escapeHtml(h.node)}`,
    ...(r.run.git ? [`git ${escapeHtml(r.run.git.commit.slice(0, 12))}${r.run.git.dirty ? ' (uncommitted changes)' : ''}`] : []),
    `started ${escapeHtml(r.run.startedAt)}${r.run.finishedAt ? `, finished ${escapeHtml(r.run.finishedAt)}` : ''}`,
  ];
  return `<header><h1>sluice run ${escapeHtml(r.run.id)}</h1><ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul></header>`;
}

function section(id: (typeof REPORT_SECTIONS)[number], title: string, content: string): string {
  return `<section id="${id}"><h2>${escapeHtml(title)}</h2>\n${content}\n</section>`;
}

function chartSlots(charts: readonly ChartSpec[]): string {
  return `<div class="charts">${charts.map((c) => `<div class="chart" data-chart="${escapeHtml(c.id)}"></div>`).join('')}</div>`;
}

function noData(): string {
  return '<p class="missing">No cell was measured: nothing to draw.</p>';
}

function warningList(r: RunResults): string {
  const warnings = findWarnings(r.cells);
  if (warnings.length === 0) return '<p class="ok">None: no failed cell, the generator and the links kept up, every window was a steady state.</p>';
  // The cells a warning names fold away: a sweep can flag dozens, and the sentence is what to read first.
  const cells = (w: ReportWarning) =>
    w.cells ? `<details><summary>${w.cells.length} cell${w.cells.length === 1 ? '' : 's'}</summary><ul>${w.cells.map((c) => `<li>${escapeHtml(c)}</li>`).join('')}</ul></details>` : '';
  return `<ul class="warnings">${warnings.map((w) => `<li class="warning-${w.kind}"><strong>${escapeHtml(w.title)}</strong> ${escapeHtml(w.text)}${cells(w)}</li>`).join('')}</ul>`;
}

function cellTable(r: RunResults): string {
  if (r.cells.length === 0) return noData();
  const head = `<tr>${SUMMARY_COLUMNS.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr>`;
  const rows = r.cells.map((c) => `<tr class="cell-${c.status}">${summaryRow(c).map((v, i) => `<td${i > 0 && i < 4 ? ' class="num"' : ''}>${escapeHtml(v)}</td>`).join('')}</tr>`);
  return `<table class="cells">${head}${rows.join('')}</table><p class="note">Every figure, per repetition: results.csv; with the CI and proxy CPU: report.md.</p>`;
}

const PAGE_CSS = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin: 0 0 .3em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 1.6em; }
header ul { margin: 0; padding-left: 1.2em; color: #444; }
.warnings > li { margin: .3em 0; } .warnings details { font-size: .9em; color: #444; } .warnings strong { color: #b00; } .warning-failed strong { color: #fff; background: #b00; padding: 0 .3em; }
.ok { color: #175; } .missing { color: #666; font-style: italic; } .note { color: #555; font-size: .9em; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
.chart { flex: 1 1 520px; min-width: 360px; }
.heatmaps { display: flex; flex-wrap: wrap; gap: 1em; }
.heatmap { margin: 0; } .heatmap figcaption { font-weight: 600; margin-bottom: .2em; }
.heatmap table, table.cells { border-collapse: collapse; }
.heatmap td, .heatmap th, table.cells td, table.cells th { border: 1px solid #ccc; padding: .25em .6em; }
.heatmap td { text-align: right; min-width: 4em; } .heat-none { color: #999; background: #f4f4f4; text-align: center; }
table.cells td.num { text-align: right; font-variant-numeric: tabular-nums; } table.cells tr.cell-failed td { color: #b00; }
footer { margin-top: 2em; color: #777; font-size: .85em; }
`;
