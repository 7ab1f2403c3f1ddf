// Nightly trends: the per-cell summaries each nightly pushes to the pushgateway (job sluice, grouping key
// instance/matrix/cell), over weeks, with the gate's thresholds drawn next to the values they gate.
import { DashboardBuilder, DashboardCursorSync, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { dashedLine, labelTable, labelVariable, matchVariables, query, selector, tableQuery, timeSeries } from './common.js';

export const NIGHTLY_TRENDS_UID = 'sluice-nightly-trends';

/** The labels this dashboard's variables filter on (the pushed grouping key's). */
export const NIGHTLY_VARIABLES = ['matrix', 'instance', 'cell'] as const;
const HALF = { w: 12, h: 9 };

function pushed(metric: string, ...extra: string[]): string {
  return selector(metric, [...extra, ...matchVariables(NIGHTLY_VARIABLES)]);
}

/**
 * The pushgateway re-stamps each pushed value at every scrape, so a series is a flat run of identical samples
 * while the pushgateway is up and nothing between runs (the local Prometheus may only run with the bench).
 * Counting or rating those samples would measure the scrapes, not the runs: the gauge is plotted as is, through
 * last_over_time over a day, so a nightly's value carries on to the next nightly instead of leaving a gap, and a
 * run of a few minutes is not lost between two points of a month-wide graph (whose step is about 45 minutes).
 */
function latest(series: string): string {
  return `last_over_time(${series}[1d])`;
}

const GATE_REF = 'B';

/** A trend of one pushed gauge (A) with the gate's limit on it (B), drawn as a dashed red line. */
function gated(title: string, unit: string, description: string, series: string, gateMetric: string): ReturnType<typeof timeSeries> {
  return timeSeries(title, unit, `${description} Dashed: the gate's ${gateMetric} limit (sluice_cell_gate_limit).`, HALF)
    .withTarget(query('A', latest(series), '{{cell}} ({{instance}})'))
    .withTarget(query(GATE_REF, latest(pushed('sluice_cell_gate_limit', `metric="${gateMetric}"`)), '{{cell}} gate {{bound}}'))
    .overrideByQuery(GATE_REF, dashedLine('red'));
}

export function nightlyTrends(): Dashboard {
  return new DashboardBuilder('sluice: Nightly trends')
    .uid(NIGHTLY_TRENDS_UID)
    .description("Each nightly's per-cell summaries as pushed to the pushgateway, against the gate's thresholds.")
    .tags(['sluice'])
    .time({ from: 'now-30d', to: 'now' })
    .refresh('1h')
    .timezone('browser')
    .tooltip(DashboardCursorSync.Crosshair)
    .variables([
      labelVariable('matrix', 'matrix', 'label_values(sluice_cell_rps, matrix)'),
      labelVariable('instance', 'host', 'label_values(sluice_cell_rps{matrix=~"$matrix"}, instance)'),
      labelVariable('cell', 'cell', 'label_values(sluice_cell_rps{matrix=~"$matrix", instance=~"$instance"}, cell)'),
    ])
    .withPanel(gated('RPS', 'reqps', 'Goodput: successes per second, mean over repetitions.', pushed('sluice_cell_rps'), 'rps'))
    .withPanel(
      gated('Latency P99', 's', 'P99 of all requests (merged histogram).', pushed('sluice_cell_latency_seconds', 'quantile="0.99"'), 'p99_seconds'),
    )
    .withPanel(gated('RST_STREAM ratio', 'percentunit', 'RST_STREAM received / requests.', pushed('sluice_cell_rst_ratio'), 'rst_ratio'))
    .withPanel(gated('Error ratio', 'percentunit', 'Failed requests / requests.', pushed('sluice_cell_error_ratio'), 'error_ratio'))
    .withPanel(
      gated(
        'Proxy CPU per request',
        's',
        'Proxy CPU seconds per request (proxy cells only).',
        pushed('sluice_cell_proxy_cpu_seconds_per_request'),
        'proxy_cpu_seconds_per_request',
      ),
    )
    .withPanel(
      timeSeries('Scenario headlines', 'short', "Each scenario cell's headline value (units differ: see the legend).", HALF)
        .withTarget(query('A', latest(pushed('sluice_cell_headline')), '{{cell}} {{name}} ({{unit}})')),
    )
    .withPanel(
      labelTable(
        'Scenario headlines (latest)',
        'The newest headline of each scenario cell in the time range, and which way is better.',
        HALF,
        ['instance', 'cell', 'scenario', 'name', 'unit', 'better'],
        'value',
      ).withTarget(tableQuery('A', `last_over_time(${pushed('sluice_cell_headline')}[$__range])`)),
    )
    .withPanel(
      labelTable('Runs (latest)', 'The newest run that pushed each cell in the time range.', HALF, [
        'instance', 'matrix', 'cell', 'run_id', 'git_revision',
      ]).withTarget(tableQuery('A', `last_over_time(${pushed('sluice_nightly_run_info')}[$__range])`)),
    )
    .build();
}
