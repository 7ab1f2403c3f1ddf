// What a bench run tells Prometheus, composed in one place from the bench's flags: the live /metrics
// (--metrics-port), file_sd targets for it and the cell's proxy, a local Prometheus and pushgateway
// (--prometheus), and the cells' summaries pushed at the end (--push, and --prometheus's own pushgateway).
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { BenchEvent } from '../orchestrator/orchestrator.js';
import type { RunResults } from '../results/model.js';
import { FileSdTargets } from './file-sd.js';
import { LiveMetrics } from './live-metrics.js';
import { serveMetrics, type MetricsServer } from './metrics-server.js';
import { startPrometheusStack, type PrometheusStack } from './prometheus-stack.js';
import { cellSummarySamples } from './summary-metrics.js';
import { gitRevisionLabel } from './cell-labels.js';
import { pushSummaries } from './push.js';

export interface TelemetryFlags {
  /** Serve the live /metrics on this port (0: any free one). */
  metricsPort?: number;
  /** Where file_sd target files go when --metrics-port is given without --prometheus. */
  targetsDir?: string;
  /** Start Prometheus and the pushgateway for the run (implies a live /metrics). */
  prometheus?: boolean;
  /** Push each cell's summary here at the end. */
  pushUrl?: string;
  /** The gate's relative lines are drawn against this run (results/baselines/<matrix>.json by default). */
  baseline?: RunResults;
}

export interface BenchTelemetry {
  /** The orchestrator's listener (a no-op when nothing was asked). */
  onEvent(e: BenchEvent): void;
  /** Lines for the user: where the metrics and Prometheus are. */
  describe(): string[];
  /** After the run (also an interrupted one): push the finished cells, wait for a scrape, stop what was started. */
  finish(results: RunResults, log: (line: string) => void): Promise<void>;
  /** Stops everything without pushing (an error before the run ended). Idempotent. */
  close(): Promise<void>;
}

export async function startBenchTelemetry(flags: TelemetryFlags, results: RunResults, runDir: string): Promise<BenchTelemetry> {
  const listeners: ((e: BenchEvent) => void)[] = [];
  let server: MetricsServer | undefined;
  let stack: PrometheusStack | undefined;
  const host = results.run.host.name ?? hostname();
  try {
    if (flags.prometheus) stack = await startPrometheusStack(join(runDir, 'prometheus'));
    if (flags.metricsPort !== undefined || stack) {
      const live = new LiveMetrics({ runId: results.run.id, matrix: results.run.matrix.name, gitRevision: gitRevisionLabel(results.run.git), host });
      listeners.push(live.onEvent);
      server = await serveMetrics(live.registry, flags.metricsPort ?? 0);
      const sdDir = stack?.targetsDir ?? flags.targetsDir;
      if (sdDir) {
        const sd = new FileSdTargets(sdDir, results.run.matrix.name);
        sd.harness(server.url);
        if (stack) sd.pushgateway(stack.pushgatewayUrl);
        listeners.push(sd.onEvent);
      }
    }
  } catch (err) {
    await server?.close();
    await stack?.stop();
    throw err;
  }
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      await server?.close();
      await stack?.stop();
    })());
  return {
    onEvent: (e) => {
      for (const l of listeners) l(e);
    },
    describe: () => [
      ...(server ? [`live metrics: ${server.url}/metrics`] : []),
      ...(stack ? [`Prometheus: ${stack.prometheusUrl} (data in ${stack.dataDir}), pushgateway: ${stack.pushgatewayUrl}`] : []),
    ],
    finish: async (final, log) => {
      try {
        const samples = cellSummarySamples(final, { host, ...(flags.baseline ? { baseline: flags.baseline } : {}) });
        for (const url of [flags.pushUrl, stack?.pushgatewayUrl]) {
          if (!url) continue;
          const { pushed } = await pushSummaries(url, samples, { timeoutMs: 10_000 });
          log(`pushed ${pushed} cells' summaries to ${url}`);
        }
        if (stack) {
          // Every target (the pushgateway with the summaries, the live /metrics with the last counts) scraped once more.
          await stack.waitForScrape(Date.now());
          log(`Prometheus data: ${stack.dataDir} (open it with prometheus --storage.tsdb.path=... --storage.tsdb.retention.time=10y)`);
        }
      } finally {
        await close();
      }
    },
    close,
  };
}
