// Counters and histograms whose hot path is a plain number: the request and stream paths keep the cell of their
// label set and add to it (`cell.value++`, `cell.observe(seconds)`), and the registry reads the cells at each
// scrape. prom-client's own Counter.inc and Histogram.observe hash the label set, validate it and search the
// buckets through an object on every call, a few percent of the proxy's CPU per request. These register on the
// prom-client Registry as metrics of their own (a registry formats whatever a metric's get() returns, as for its
// JSON), so /metrics reads exactly as a prom-client Counter or Histogram fed the same values would: the same
// series in the same order (first counted first), the same HELP, TYPE, buckets and values
// (test/metrics-cells.test.ts holds them to that, side by side with prom-client's).
import type { Metric, Registry, RegistryContentType } from 'prom-client';

type Labels<L extends string> = Readonly<Record<L, string>>;

interface Config<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: Registry<RegistryContentType>[];
}

/** One sample as a registry formats it (prom-client's MetricValue with a name). */
interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** The cells of one metric by label set, in the order first asked for. */
abstract class CellMetric<L extends string, C> {
  /** Not readonly: an OpenMetrics registry renames counters in place, as it does prom-client's. */
  name: string;
  readonly help: string;
  readonly aggregator = 'sum';
  private readonly labelNames: readonly L[];
  protected readonly cells = new Map<string, { labels: Labels<L>; cell: C }>();

  constructor({ name, help, labelNames, registers }: Config<L>) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
    // Registry.registerMetric types its argument as one of prom-client's classes; it reads only name, type,
    // get() and reset() (registry.metrics(), getMetricsAsJSON(), resetMetrics()).
    for (const registry of registers) registry.registerMetric(this as unknown as Metric);
  }

  /** The cell of `labels`, the same one for the same label values: keep it, a lookup here builds a key. */
  cell(labels: Labels<L>): C {
    const key = JSON.stringify(this.labelNames.map((name) => labels[name]));
    let entry = this.cells.get(key);
    if (!entry) {
      const ordered = {} as Record<L, string>;
      for (const name of this.labelNames) ordered[name] = labels[name];
      this.cells.set(key, (entry = { labels: ordered, cell: this.newCell() }));
    }
    return entry.cell;
  }

  protected abstract newCell(): C;
  abstract get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }>;
  abstract reset(): void;
}

/** A label set's count: add to `value` (never subtract). */
export interface CounterCell {
  value: number;
  /** Shown at 0 before it is counted (zero()); cleared by a reset, like prom-client's series. */
  shown: boolean;
}

/** A counter with labels, counted in cells. A label set's series appears once counted, or zero()ed. */
export class CellCounter<L extends string> extends CellMetric<L, CounterCell> {
  readonly type = 'counter';

  protected newCell(): CounterCell {
    return { value: 0, shown: false };
  }

  /** Shows `labels` at 0 until counted (a known label value, so a dashboard reads 0 rather than no data). */
  zero(labels: Labels<L>): CounterCell {
    const cell = this.cell(labels);
    cell.shown = true;
    return cell;
  }

  async get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    const values: Sample[] = [];
    for (const { labels, cell } of this.cells.values()) {
      if (cell.shown || cell.value !== 0) values.push({ labels: { ...labels }, value: cell.value });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    for (const { cell } of this.cells.values()) {
      cell.value = 0;
      cell.shown = false;
    }
  }
}

/** A label set's observations: `observe(value)`; the series appears once observed. */
export class HistogramCell {
  count = 0;
  sum = 0;
  /** Observations per bucket (not cumulative); the last one: above every bound (+Inf only). */
  readonly counts: Float64Array;

  constructor(private readonly bounds: Float64Array) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`); // as prom-client
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++; // a bucket holds the values up to its bound, inclusive
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  clear(): void {
    this.count = 0;
    this.sum = 0;
    this.counts.fill(0);
  }
}

/** A histogram with labels, observed in cells. */
export class CellHistogram<L extends string> extends CellMetric<L, HistogramCell> {
  readonly type = 'histogram';
  private readonly bounds: Float64Array;

  /** `buckets`: the upper bounds, ascending (no +Inf: it is always there). */
  constructor(config: Config<L> & { buckets: readonly number[] }) {
    if (config.labelNames.includes('le' as L)) throw new Error('le is a reserved label keyword'); // as prom-client
    super(config);
    this.bounds = Float64Array.from(config.buckets);
  }

  protected newCell(): HistogramCell {
    return new HistogramCell(this.bounds);
  }

  async get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, cell } of this.cells.values()) {
      if (cell.count === 0) continue;
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += cell.counts[i]!;
        values.push({ labels: { le: this.bounds[i]!, ...labels }, value: cumulative, metricName: bucket });
      }
      values.push({ labels: { le: '+Inf', ...labels }, value: cell.count, metricName: bucket });
      values.push({ labels: { ...labels }, value: cell.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...labels }, value: cell.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    for (const { cell } of this.cells.values()) cell.clear();
  }
}

/**
 * A gauge without labels whose value is read at the scrape and that has no sample at all while `read()` gives
 * undefined (prom-client's label-less Gauge always has one, 0 after a reset: for a window, 0 reads as exhausted,
 * which "not connected" is not).
 */
export class ReadGauge {
  name: string;
  readonly help: string;
  readonly aggregator = 'sum';

  constructor({ name, help, registers, read }: { name: string; help: string; registers: Registry<RegistryContentType>[]; read: () => number | undefined }) {
    this.name = name;
    this.help = help;
    this.read = read;
    for (const registry of registers) registry.registerMetric(this as unknown as Metric);
  }

  private readonly read: () => number | undefined;

  async get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    const value = this.read();
    return { name: this.name, help: this.help, type: 'gauge', values: value === undefined ? [] : [{ labels: {}, value }], aggregator: this.aggregator };
  }

  reset(): void {}
}
