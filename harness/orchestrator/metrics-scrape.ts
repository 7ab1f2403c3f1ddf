// Reads the proxy's Prometheus /metrics before and after each repetition. Only sums and increases of samples by
// name and label are needed, so a ~20-line reader of the text format does; a full parser library buys nothing here.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

export function sumOf(samples: Sample[], name: string, filter: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(filter).every(([k, v]) => s.labels[k] === v))
    .reduce((acc, s) => acc + s.value, 0);
}

/** Each label set's increase of counter `name` from `before` to `after` (a label set missing before was 0). A
 *  counter lower after than before was restarted, so its increase is its value after, as in PromQL's increase(). */
export function increases(before: Sample[], after: Sample[], name: string): Sample[] {
  const was = new Map<string, number>();
  for (const s of before) if (s.name === name) was.set(labelKey(s.labels), s.value);
  return after
    .filter((s) => s.name === name)
    .map((s) => {
      const delta = s.value - (was.get(labelKey(s.labels)) ?? 0);
      return { ...s, value: delta < 0 ? s.value : delta };
    });
}

/** Counter-like by the Prometheus naming convention: a counter's `_total`, a histogram's or summary's parts. */
const COUNTER_NAME = /_(total|count|sum|bucket)$/;

/**
 * Another proxy's own exposition over one repetition, by metric name, its labels summed: a counter's increase
 * (named as Prometheus names counters: `_total`, or a histogram's `_count`, `_sum`, `_bucket`; a zero left out)
 * or a gauge's value at the end; a NaN or infinite one left out. Small enough to keep per repetition, and proxy-neutral: no name is interpreted.
 */
export function nativeDelta(before: Sample[], after: Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of [...new Set(after.map((s) => s.name))].sort()) {
    const counter = COUNTER_NAME.test(name);
    const value = counter ? increases(before, after, name).reduce((acc, s) => acc + s.value, 0) : sumOf(after, name);
    // NaN and infinities (which the text format allows) have no place in JSON.
    if (Number.isFinite(value) && !(counter && value === 0)) out[name] = value;
  }
  return out;
}

function labelKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export async function scrape(url: string): Promise<Sample[]> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return parsePrometheusText(await res.text());
  } catch {
    return [];
  }
}

// The /proc readers live with the sampler that measures a repetition's window; re-exported for run-cell.ts.
export { cpuSeconds, peakRssBytes } from './process-sampler.js';
