// Runs as OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`: the pushed summaries' names and
// labels plus job and instance (which the pushgateway's grouping key adds when pushed), every sample stamped
// with its run's start, so backfilled history lines up with what the pushes left. Pure.
import type { RunResults } from '../results/model.js';
import { cellSummarySamples, SUMMARY_METRICS, type SummaryMetric } from './summary-metrics.js';

export interface OpenMetricsOptions {
  /** The instance label for every run (--host); otherwise each run's recorded host name, else `defaultHost`. */
  host?: string;
  /** For runs written before results.json recorded the host's name. */
  defaultHost: string;
}

export interface OpenMetricsExport {
  text: string;
  runs: number;
  cells: number;
  samples: number;
}

/**
 * OpenMetrics wants each family's samples together and each series' timestamps non-decreasing: families are
 * written in the contract's order and, within one, the runs oldest first. A run given twice is written once
 * (a repeated series at the same timestamp would be refused).
 */
export function formatOpenMetrics(runs: readonly RunResults[], opts: OpenMetricsOptions): OpenMetricsExport {
  const unique = [...new Map(runs.map((r) => [r.run.id, r])).values()].sort((a, b) => Date.parse(a.run.startedAt) - Date.parse(b.run.startedAt));
  const lines = new Map<SummaryMetric, string[]>();
  let cells = 0;
  let samples = 0;
  for (const results of unique) {
    // Numbers print in JS's shortest round-trip form, valid OpenMetrics; the samples are finite.
    const at = String(Date.parse(results.run.startedAt) / 1000);
    for (const group of cellSummarySamples(results, { host: opts.host ?? results.run.host.name ?? opts.defaultHost })) {
      cells++;
      for (const s of group.samples) {
        const labels = { job: group.grouping.job, instance: group.grouping.instance, ...s.labels };
        const family = lines.get(s.name) ?? [];
        family.push(`${s.name}{${formatLabels(labels)}} ${String(s.value)} ${at}`);
        lines.set(s.name, family);
        samples++;
      }
    }
  }
  const out: string[] = [];
  for (const name of Object.keys(SUMMARY_METRICS) as SummaryMetric[]) {
    const family = lines.get(name);
    if (!family) continue;
    out.push(`# TYPE ${name} gauge`, `# HELP ${name} ${escapeLabelValue(SUMMARY_METRICS[name])}`, ...family);
  }
  out.push('# EOF');
  return { text: out.join('\n') + '\n', runs: unique.length, cells, samples };
}

function formatLabels(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
    .join(',');
}

/** OpenMetrics label values (and HELP text) escape backslash, double quote and line feed, and nothing else. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
