// The table bench:micro prints: pure, so it is tested without running a benchmark.
export interface MicroRow {
  name: string;
  medianNs: number;
  meanNs: number;
  p99Ns: number;
  opsPerS: number;
  samples: number;
}

function ns(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} ms`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(2)} µs`;
  return `${value.toFixed(0)} ns`;
}

/** A Markdown table of the rows, then one line per [measured, baseline] pair: the difference of their medians
 *  (what `measured` adds per call; the median, because a GC pause or a neighbour's burst moves the mean) and
 *  their ratio. A pair naming an unknown row is an error, not a blank. */
export function formatMicroTable(rows: readonly MicroRow[], pairs: readonly (readonly [string, string])[] = []): string {
  const lines = ['| hot path | median | mean | p99 | ops/s | samples |', '|---|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    lines.push(`| ${r.name} | ${ns(r.medianNs)} | ${ns(r.meanNs)} | ${ns(r.p99Ns)} | ${Math.round(r.opsPerS).toLocaleString('en-US')} | ${r.samples} |`);
  }
  const byName = new Map(rows.map((r) => [r.name, r]));
  for (const [measured, baseline] of pairs) {
    const m = byName.get(measured);
    const b = byName.get(baseline);
    if (!m || !b) throw new Error(`formatMicroTable: no row named ${JSON.stringify(m ? baseline : measured)}`);
    lines.push('', `${measured}: +${ns(m.medianNs - b.medianNs)} per request over "${baseline}" (${(m.medianNs / b.medianNs).toFixed(1)}x, medians)`);
  }
  return `${lines.join('\n')}\n`;
}
