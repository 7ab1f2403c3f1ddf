// The bench's own /metrics while it runs: the generator's outcomes as they arrive (counters and a latency
// histogram with the current cell's labels), the cell's link settings and queue, progress. It listens to the
// orchestrator's events; it never changes what is measured (results.json comes from the recorder's window).
import { Counter, Gauge, Registry } from 'prom-client';
import type { CellParams } from '../matrix/cells.js';
import type { BenchEvent } from '../orchestrator/orchestrator.js';
import type { CellTargets } from '../orchestrator/run-cell.js';
import { parsePrometheusText } from '../orchestrator/metrics-scrape.js';
import { processCpuSeconds, rssBytes } from '../orchestrator/process-sampler.js';
import { LIVE_LATENCY_BUCKETS_S, type LiveDelta } from '../load/statistic/live.js';
import { BucketHistogram } from './bucket-histogram.js';
import { CELL_LABEL_NAMES, cellLabels, type CellLabels } from './cell-labels.js';
import { COMMON_H2_CODES } from '../../common/h2-codes.js';

export interface RunInfo {
  runId: string;
  matrix: string;
  gitRevision: string;
  host: string;
}

/** Error classes that exist from a cell's start at 0 (as COMMON_H2_CODES, common/h2-codes.ts). */
const KNOWN_ERROR_CLASSES = ['timeout', 'ECONNRESET', 'ECONNREFUSED', 'status:5xx', 'rst:REFUSED_STREAM', 'rst:CANCEL'];

/** A link's queue is read from its own /metrics at each scrape of ours; it must not hold the scrape up. */
const LINK_SCRAPE_TIMEOUT_MS = 300;

const cellNames = [...CELL_LABEL_NAMES];

export class LiveMetrics {
  readonly registry = new Registry();
  private labels: CellLabels | undefined;
  private links: CellTargets['links'] = [];
  private proxyPid: number | undefined;
  private readonly cellInfo: Gauge<string>;
  private readonly cells: Gauge<'state'>;
  private readonly requests: Counter<string>;
  private readonly errors: Counter<string>;
  private readonly rst: Counter<string>;
  private readonly goaway: Counter<string>;
  private readonly latency: BucketHistogram<string>;
  private readonly inFlight: Gauge<string>;
  private readonly linkGauges: Record<'rtt' | 'bandwidth' | 'jitter', Gauge<string>>;
  private visitsDone = 0;
  private proxy = 'none';

  constructor(private readonly run: RunInfo) {
    const registers = [this.registry];
    new Gauge({ name: 'sluice_run_info', help: 'The run: its id, matrix, git revision and host (value 1).', labelNames: ['run_id', 'matrix', 'git_revision', 'host'], registers }).set(
      { run_id: run.runId, matrix: run.matrix, git_revision: run.gitRevision, host: run.host },
      1,
    );
    this.cellInfo = new Gauge({
      name: 'sluice_cell_info',
      help: 'The cell running now (value 1), with its parameters as labels.',
      labelNames: [...cellNames, 'scenario', 'target', 'link', 'bandwidth_mbps'],
      registers,
    });
    this.cells = new Gauge({ name: 'sluice_cells', help: 'Visits of cells (a cell x its repetitions visited at once): total and done.', labelNames: ['state'], registers });
    this.requests = new Counter({
      name: 'sluice_requests_total',
      help: 'Requests the generator settled (warm-up, window and drain alike), by outcome.',
      labelNames: [...cellNames, 'outcome'],
      registers,
    });
    this.errors = new Counter({ name: 'sluice_request_errors_total', help: 'Failed requests by error class (rst:CODE, goaway:CODE, timeout, status:5xx, ...).', labelNames: [...cellNames, 'class'], registers });
    this.rst = new Counter({ name: 'sluice_rst_stream_received_total', help: 'RST_STREAM frames the generator received, by code.', labelNames: [...cellNames, 'code'], registers });
    this.goaway = new Counter({ name: 'sluice_goaway_received_total', help: 'GOAWAY frames the generator received, by code.', labelNames: [...cellNames, 'code'], registers });
    this.latency = new BucketHistogram({
      name: 'sluice_request_duration_seconds',
      help: 'Latency of settled requests from their intended send time (a timeout counts at the timeout).',
      labelNames: cellNames,
      bounds: LIVE_LATENCY_BUCKETS_S,
      registry: this.registry,
    });
    this.inFlight = new Gauge({ name: 'sluice_requests_in_flight', help: 'Requests the generator started and has not settled.', labelNames: cellNames, registers });
    const linkGauge = (name: string, help: string) => new Gauge({ name, help, labelNames: [...cellNames, 'link'], registers });
    this.linkGauges = {
      rtt: linkGauge('sluice_link_rtt_seconds', "The cell's emulated link: round-trip time (0: no link)."),
      bandwidth: linkGauge('sluice_link_bandwidth_bytes_per_second', "The cell's emulated link: bandwidth per direction (0: unlimited)."),
      jitter: linkGauge('sluice_link_jitter_seconds', "The cell's emulated link: one-way delay varies by +- this."),
    };
    const links = (): CellTargets['links'] => this.links;
    const current = (): CellLabels | undefined => this.labels;
    const proxyPid = (): number | undefined => this.proxyPid;
    const proxyName = (): string => this.proxy;
    // Any driver's proxy is one process: its CPU and memory from /proc at each scrape, so the dashboards show
    // nghttpx and HAProxy beside ours (their own metrics differ, or they have none).
    new Gauge({
      name: 'sluice_proxy_process_cpu_seconds_total',
      help: "The running cell's proxy process: user + system CPU seconds since it started (any proxy, from /proc).",
      labelNames: [...cellNames, 'proxy'],
      registers,
      collect() {
        this.reset();
        const labels = current();
        const cpu = processCpuSeconds(proxyPid());
        if (labels && cpu !== undefined) this.set({ ...labels, proxy: proxyName() }, cpu);
      },
    });
    new Gauge({
      name: 'sluice_proxy_process_resident_memory_bytes',
      help: "The running cell's proxy process: resident memory (any proxy, from /proc).",
      labelNames: [...cellNames, 'proxy'],
      registers,
      collect() {
        this.reset();
        const labels = current();
        const rss = rssBytes(proxyPid());
        if (labels && rss !== undefined) this.set({ ...labels, proxy: proxyName() }, rss);
      },
    });
    new Gauge({
      name: 'sluice_link_queue_bytes',
      help: "Bytes in the cell's emulated links' queues now, by path and direction (read from each link at scrape).",
      labelNames: [...cellNames, 'path', 'direction'],
      registers,
      async collect() {
        this.reset();
        const labels = current();
        if (!labels) return;
        await Promise.all(links().map(async (l) => {
          for (const { direction, bytes } of await readLinkQueue(l.adminUrl)) this.set({ ...labels, path: l.role, direction }, bytes);
        }));
      },
    });
  }

  /** The orchestrator's listener. */
  readonly onEvent = (e: BenchEvent): void => {
    switch (e.type) {
      case 'run-start':
        this.visitsDone = 0;
        this.cells.set({ state: 'total' }, e.todo);
        this.cells.set({ state: 'done' }, 0);
        return;
      case 'cell-start':
        return this.startCell(e.id, e.params);
      case 'cell-targets':
        this.links = e.targets.links;
        this.proxyPid = e.targets.proxyPid;
        return;
      case 'live':
        return this.add(e.delta);
      case 'cell-done':
        this.visitsDone++;
        this.cells.set({ state: 'done' }, this.visitsDone);
        this.links = [];
        this.proxyPid = undefined;
        if (this.labels) this.inFlight.set(this.labels, 0);
        return;
      default:
        return;
    }
  };

  /** The current cell's labels (undefined before the first cell). */
  get cellLabels(): CellLabels | undefined {
    return this.labels;
  }

  private startCell(id: string, params: CellParams): void {
    const labels = (this.labels = cellLabels(this.run.matrix, { id, params }));
    this.proxy = params.target === 'direct' ? 'none' : params.proxy;
    this.cellInfo.reset();
    this.cellInfo.set({ ...labels, scenario: params.scenario, target: params.target, link: params.link, bandwidth_mbps: String(params.bandwidthMbps) }, 1);
    const link = { ...labels, link: params.link };
    this.linkGauges.rtt.set(link, params.rttMs / 1000);
    this.linkGauges.bandwidth.set(link, (params.bandwidthMbps * 1e6) / 8);
    this.linkGauges.jitter.set(link, params.jitterMs / 1000);
    for (const outcome of ['success', 'failure']) this.requests.inc({ ...labels, outcome }, 0);
    for (const code of COMMON_H2_CODES) {
      this.rst.inc({ ...labels, code }, 0);
      this.goaway.inc({ ...labels, code }, 0);
    }
    for (const c of KNOWN_ERROR_CLASSES) this.errors.inc({ ...labels, class: c }, 0);
    this.latency.add(labels, new Array<number>(LIVE_LATENCY_BUCKETS_S.length + 1).fill(0), 0);
    this.inFlight.set(labels, 0);
  }

  private add(d: LiveDelta): void {
    const labels = this.labels;
    if (!labels) return;
    if (d.successes > 0) this.requests.inc({ ...labels, outcome: 'success' }, d.successes);
    if (d.failures > 0) this.requests.inc({ ...labels, outcome: 'failure' }, d.failures);
    for (const [c, n] of Object.entries(d.errors)) this.errors.inc({ ...labels, class: c }, n);
    for (const [code, n] of Object.entries(d.rstReceived)) this.rst.inc({ ...labels, code }, n);
    for (const [code, n] of Object.entries(d.goawayReceived)) this.goaway.inc({ ...labels, code }, n);
    if (d.successes + d.failures > 0) this.latency.add(labels, d.buckets, d.latencySumS);
    if (d.inFlight !== undefined) this.inFlight.set(labels, d.inFlight);
  }
}

/** A link's queue by direction, from its /metrics; nothing when it does not answer in time. */
async function readLinkQueue(adminUrl: string): Promise<{ direction: string; bytes: number }[]> {
  try {
    const res = await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(LINK_SCRAPE_TIMEOUT_MS) });
    const samples = parsePrometheusText(await res.text());
    return samples.filter((s) => s.name === 'sluice_link_queue_bytes').map((s) => ({ direction: s.labels.direction ?? '', bytes: s.value }));
  } catch {
    return [];
  }
}
