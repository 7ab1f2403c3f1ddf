// A Prometheus histogram fed with bucket counts, not single values: the generator counts its latencies into
// fixed buckets in its own thread (load/statistic/live.ts) and posts them once a second, so the exporter adds
// counts. prom-client's Histogram only observes one value at a time; this one keeps its own counts and
// renders them in the same exposition (cumulative `_bucket{le}`, `_sum`, `_count`).
import { Histogram, type LabelValues, type MetricObjectWithValues, type MetricType, type MetricValueWithName, type Registry } from 'prom-client';

interface Series<L extends string> {
  labels: LabelValues<L>;
  /** Non-cumulative counts per bound, plus +Inf last. */
  counts: number[];
  sum: number;
}

export class BucketHistogram<L extends string> extends Histogram<L> {
  private readonly series = new Map<string, Series<L>>();

  constructor(
    private readonly spec: { name: string; help: string; labelNames: readonly L[]; bounds: readonly number[]; registry: Registry },
  ) {
    super({ name: spec.name, help: spec.help, labelNames: spec.labelNames, buckets: [...spec.bounds], registers: [spec.registry] });
  }

  /** Adds `counts` (one per bound, then +Inf) and `sum` to the series of `labels`. */
  add(labels: LabelValues<L>, counts: readonly number[], sum: number): void {
    if (counts.length !== this.spec.bounds.length + 1) throw new Error(`${this.spec.name}: ${counts.length} counts for ${this.spec.bounds.length} bounds + Inf`);
    const key = JSON.stringify(this.spec.labelNames.map((n) => labels[n]));
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, counts: new Array<number>(counts.length).fill(0), sum: 0 }));
    for (let i = 0; i < counts.length; i++) s.counts[i]! += counts[i]!;
    s.sum += sum;
  }

  override get(): Promise<MetricObjectWithValues<MetricValueWithName<L>>> {
    return Promise.resolve(this.render());
  }

  // The registry renders text from this one when a metric has it.
  getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<L>>> {
    return Promise.resolve(this.render());
  }

  override reset(): void {
    // prom-client's constructor calls reset() before this class's fields exist.
    (this.series as Map<string, Series<L>> | undefined)?.clear();
  }

  private render(): MetricObjectWithValues<MetricValueWithName<L>> {
    const values: MetricValueWithName<L>[] = [];
    const { name, bounds } = this.spec;
    for (const s of this.series.values()) {
      let cumulative = 0;
      s.counts.forEach((n, i) => {
        cumulative += n;
        const le = i < bounds.length ? String(bounds[i]) : '+Inf';
        values.push({ metricName: `${name}_bucket`, labels: { ...s.labels, le } as LabelValues<L>, value: cumulative });
      });
      values.push({ metricName: `${name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${name}_count`, labels: s.labels, value: cumulative });
    }
    // prom-client's MetricType is a declared enum with no runtime value; its members are these strings.
    return { name, help: this.spec.help, type: 'histogram' as unknown as MetricType, values, aggregator: 'sum', collect: () => undefined };
  }
}
