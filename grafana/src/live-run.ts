// Live run: one bench while it runs, scraped every second from the harness's /metrics (job sluice-harness) and
// the proxy's admin /metrics (job sluice-proxy, whose file_sd target carries the running cell's labels).
import { DashboardBuilder, DashboardCursorSync, RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { labelTable, labelVariable, lastValueStat, matchVariables, query, selector, tableQuery, timeSeries } from './common.js';

export const LIVE_RUN_UID = 'sluice-live-run';

/** The labels of every live series, each a variable of this dashboard. */
export const CELL_LABELS = [
  'matrix',
  'cell',
  'protocol',
  'stream_window',
  'conn_window',
  'adaptive',
  'concurrency',
  'endpoints',
  'rtt_ms',
] as const;
const NUMERIC = new Set<string>(['stream_window', 'conn_window', 'concurrency', 'endpoints', 'rtt_ms']);

/** A live series of the selected cells: every query goes through here, so all nine variables filter it. */
export function cellSelector(metric: string, ...extra: string[]): string {
  return selector(metric, [...extra, ...matchVariables(CELL_LABELS)]);
}

/** Run-level series (sluice_run_info, sluice_cells) describe the run, not a cell: only the matrix filters them,
 *  so choosing a cell does not blank the progress. */
function runSelector(metric: string): string {
  return selector(metric, matchVariables(['matrix']));
}

const proxy = (metric: string): string => cellSelector(metric, 'job="sluice-proxy"');
const rate = (series: string): string => `rate(${series}[$__rate_interval])`;

const THIRD = { w: 8, h: 8 };
const QUARTER = { w: 6, h: 8 };
const HALF = { w: 12, h: 8 };

function variables(): ReturnType<typeof labelVariable>[] {
  const matrix = labelVariable('matrix', 'matrix', 'label_values(sluice_run_info, matrix)');
  const cellInfo = 'sluice_cell_info{matrix=~"$matrix"}';
  const rest = CELL_LABELS.filter((l) => l !== 'matrix').map((label) =>
    labelVariable(label, label, `label_values(${cellInfo}, ${label})`, NUMERIC.has(label)),
  );
  return [matrix, ...rest];
}

export function liveRun(): Dashboard {
  const latency = (q: string): string =>
    `histogram_quantile(${q}, sum by (le, cell) (${rate(cellSelector('sluice_request_duration_seconds_bucket'))}))`;
  return new DashboardBuilder('sluice: Live run')
    .uid(LIVE_RUN_UID)
    .description('One bench run as it happens: load, latency, failures, the proxy and the emulated link, by cell.')
    .tags(['sluice'])
    .time({ from: 'now-15m', to: 'now' })
    .refresh('5s')
    .timezone('browser')
    .tooltip(DashboardCursorSync.Crosshair)
    .variables(variables())
    .withRow(new RowBuilder('Run'))
    .withPanel(
      lastValueStat('Progress (cells)', 'short', 'Cells of the run: total, and done so far.', { w: 6, h: 5 })
        .withTarget(query('A', `max by (state) (${runSelector('sluice_cells')})`, '{{state}}')),
    )
    .withPanel(
      labelTable('Runs', 'The runs in the time range: id, git revision and host (sluice_run_info).', { w: 8, h: 5 }, [
        'matrix', 'run_id', 'git_revision', 'host',
      ]).withTarget(tableQuery('A', `last_over_time(${runSelector('sluice_run_info')}[$__range])`)),
    )
    .withPanel(
      // Instant, at the end of the range: the cell running then (sluice_cell_info is on the current cell only).
      labelTable('Current cell', 'The cell running at the end of the time range and what it runs against (sluice_cell_info).', { w: 10, h: 5 }, [
        'cell', 'scenario', 'target', 'link', 'bandwidth_mbps',
      ]).withTarget(tableQuery('A', cellSelector('sluice_cell_info'))),
    )
    .withRow(new RowBuilder('Load'))
    .withPanel(
      timeSeries('RPS', 'reqps', 'Requests settled per second, by outcome (warm-up included).', THIRD)
        .withTarget(query('A', `sum by (cell, outcome) (${rate(cellSelector('sluice_requests_total'))})`, '{{cell}} {{outcome}}')),
    )
    .withPanel(
      timeSeries('Latency P50 / P99', 's', 'Latency of settled requests from their intended send time (the harness histogram).', THIRD)
        .withTarget(query('A', latency('0.5'), '{{cell}} p50'))
        .withTarget(query('B', latency('0.99'), '{{cell}} p99')),
    )
    .withPanel(
      timeSeries('In flight', 'short', 'Requests started and not settled.', THIRD)
        .withTarget(query('A', `sum by (cell) (${cellSelector('sluice_requests_in_flight')})`, '{{cell}}')),
    )
    .withRow(new RowBuilder('Failures'))
    .withPanel(
      timeSeries('Errors by class', 'reqps', 'Failed requests per second by class (timeout, rst:CODE, goaway:CODE, status:5xx, ...).', THIRD)
        .withTarget(query('A', `sum by (cell, class) (${rate(cellSelector('sluice_request_errors_total'))})`, '{{cell}} {{class}}')),
    )
    .withPanel(
      timeSeries('RST_STREAM received by code', 'cps', 'RST_STREAM frames the generator received per second, by RFC 9113 code.', THIRD)
        .withTarget(query('A', `sum by (cell, code) (${rate(cellSelector('sluice_rst_stream_received_total'))})`, '{{cell}} {{code}}')),
    )
    .withPanel(
      timeSeries('GOAWAY received by code', 'cps', 'GOAWAY frames the generator received per second, by code.', THIRD)
        .withTarget(query('A', `sum by (cell, code) (${rate(cellSelector('sluice_goaway_received_total'))})`, '{{cell}} {{code}}')),
    )
    .withRow(new RowBuilder('Proxy'))
    .withPanel(
      timeSeries('Proxy CPU', 'percentunit', "The proxy process's CPU time per second (100% = one core), read by the harness from /proc: any proxy (sluice, nghttpx, haproxy).", QUARTER)
        .withTarget(query('A', `sum by (cell, proxy) (${rate(cellSelector('sluice_proxy_process_cpu_seconds_total'))})`, '{{cell}} {{proxy}}')),
    )
    .withPanel(
      timeSeries('Proxy memory (RSS)', 'bytes', "The proxy process's resident memory, read by the harness from /proc: any proxy.", QUARTER)
        .withTarget(query('A', `sum by (cell, proxy) (${cellSelector('sluice_proxy_process_resident_memory_bytes')})`, '{{cell}} {{proxy}}')),
    )
    .withPanel(
      timeSeries('Flow-control windows', 'bytes', "The largest local window over the proxy's open HTTP/2 sessions, by side and kind.", QUARTER)
        .withTarget(query('A', `max by (cell, side, kind) (${proxy('sluice_proxy_window_bytes')})`, '{{cell}} {{side}} {{kind}}')),
    )
    .withPanel(
      timeSeries('Adaptive window changes', 'cps', 'Times per second a session grew its window (adaptive flow control), by side and kind.', QUARTER)
        .withTarget(query('A', `sum by (cell, side, kind) (${rate(proxy('sluice_proxy_adaptive_window_changes_total'))})`, '{{cell}} {{side}} {{kind}}')),
    )
    .withPanel(
      timeSeries('Balancer endpoints by state', 'short', "The balancer's endpoints: pending, ready, failed.", THIRD)
        .withTarget(query('A', `sum by (cell, state) (${proxy('sluice_proxy_balancer_endpoints')})`, '{{cell}} {{state}}')),
    )
    .withPanel(
      timeSeries('Fail-fast', 'percentunit', 'A: 100% while the proxy is in fail-fast (answering 503 at once). B: the share of each interval spent in fail-fast.', THIRD)
        .withTarget(query('A', `max by (cell) (${proxy('sluice_proxy_failfast')})`, '{{cell}} in fail-fast'))
        .withTarget(query('B', `sum by (cell) (${rate(proxy('sluice_proxy_failfast_seconds_total'))})`, '{{cell}} time in fail-fast')),
    )
    .withPanel(
      timeSeries('Proxy RST_STREAM', 'cps', 'RST_STREAM frames per second at the proxy, by side (downstream: clients, upstream: endpoints), direction and code.', THIRD)
        .withTarget(query('A', `sum by (cell, side, direction, code) (${rate(proxy('sluice_proxy_rst_stream_total'))})`, '{{cell}} {{side}} {{direction}} {{code}}')),
    )
    .withRow(new RowBuilder('Link'))
    .withPanel(
      timeSeries('Link settings', 's', "The cell's emulated link: RTT and jitter (left, seconds), bandwidth (right, bytes/s); 0: none or unlimited.", HALF)
        .withTarget(query('A', `max by (cell, link) (${cellSelector('sluice_link_rtt_seconds')})`, '{{cell}} {{link}} RTT'))
        .withTarget(query('B', `max by (cell, link) (${cellSelector('sluice_link_jitter_seconds')})`, '{{cell}} {{link}} jitter'))
        .withTarget(query('C', `max by (cell, link) (${cellSelector('sluice_link_bandwidth_bytes_per_second')})`, '{{cell}} {{link}} bandwidth'))
        .overrideByQuery('C', [
          { id: 'unit', value: 'Bps' },
          { id: 'custom.axisPlacement', value: 'right' },
        ]),
    )
    .withPanel(
      timeSeries('Link queue', 'bytes', "Bytes queued in the link process, by path and direction.", HALF)
        .withTarget(query('A', `max by (cell, path, direction) (${cellSelector('sluice_link_queue_bytes')})`, '{{cell}} {{path}} {{direction}}')),
    )
    .build();
}
