// Prometheus file_sd target files: the harness's /metrics once, the current cell's proxy's metrics as each visit's
// processes come up (labelled with the cell, so proxy series filter by the dashboards' variables), none between
// visits. Each file is replaced atomically (Prometheus may read it at any moment).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchEvent } from '../orchestrator/orchestrator.js';
import { cellLabels, type CellLabels } from './cell-labels.js';

export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** host:port of an http://host:port URL. */
export function hostPort(url: string): string {
  return new URL(url).host;
}

/**
 * The labels that make Prometheus scrape `url` rather than host:port/metrics: `__metrics_path__` when its path is
 * another (HAProxy's exporter may sit elsewhere), `__param_NAME` for each query parameter (the first value of a
 * repeated one: file_sd cannot say more).
 */
export function scrapeLabels(url: string): Record<string, string> {
  const u = new URL(url);
  const labels: Record<string, string> = {};
  if (u.pathname !== '/metrics') labels['__metrics_path__'] = u.pathname;
  for (const key of new Set(u.searchParams.keys())) labels[`__param_${key}`] = u.searchParams.get(key) ?? '';
  return labels;
}

export class FileSdTargets {
  private labels: CellLabels | undefined;

  constructor(
    readonly dir: string,
    private readonly matrix: string,
  ) {
    mkdirSync(dir, { recursive: true });
    this.write('proxy.json', []);
  }

  /** The harness's own /metrics (`sluice_run_info` carries the run; no cell labels here: its series have them). */
  harness(url: string): void {
    this.write('harness.json', [{ targets: [hostPort(url)], labels: { matrix: this.matrix } }]);
  }

  /** A target of its own (the pushgateway that --prometheus starts). */
  pushgateway(url: string): void {
    this.write('pushgateway.json', [{ targets: [hostPort(url)], labels: {} }]);
  }

  readonly onEvent = (e: BenchEvent): void => {
    if (e.type === 'cell-start') this.labels = cellLabels(this.matrix, { id: e.id, params: e.params });
    else if (e.type === 'cell-targets' && this.labels && e.targets.proxyMetricsUrl) {
      this.write('proxy.json', [{ targets: [hostPort(e.targets.proxyMetricsUrl)], labels: { ...this.labels, ...scrapeLabels(e.targets.proxyMetricsUrl) } }]);
    } else if (e.type === 'cell-done' || e.type === 'run-done') this.write('proxy.json', []);
  };

  private write(name: string, groups: TargetGroup[]): void {
    const file = join(this.dir, name);
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, JSON.stringify(groups, null, 2) + '\n');
    renameSync(tmp, file);
  }
}
