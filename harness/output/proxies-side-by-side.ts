// report.md's "Proxies side by side": where a run sweeps the `proxy` axis, one row per setting of the other axes
// and, per proxy, its goodput, P99 and CPU per request, with each proxy's ratio to the first one's goodput. Pure.
import { metricDef, pooledRate } from '../compare/metrics.js';
import type { CellResult } from '../results/model.js';
import { fmtMicros, fmtMs, fmtRps } from './format-number.js';

const CPU = metricDef('cpuPerRequest');

/** The proxy's CPU µs per request over the repetitions that had a proxy (compare's metric, pooled by requests); undefined where none ran. */
export function cpuPerRequestUs(c: CellResult): number | undefined {
  const measured = c.reps.filter((r) => CPU.value(r) !== undefined);
  return measured.length === 0 ? undefined : pooledRate(measured, (r) => CPU.value(r)!);
}

/** A cell whose numbers bound the generator or the emulated link rather than the proxy (report-warnings.ts says which). */
function saturated(c: CellResult): boolean {
  return (c.summary?.generatorSaturatedReps ?? 0) > 0 || c.reps.some((r) => r.links?.some((l) => l.saturated));
}

/** The section's lines, or none when the run does not sweep `proxy` over two or more proxies. */
export function formatProxiesSideBySide(cells: readonly CellResult[]): string[] {
  const proxies = [...new Set(cells.map((c) => c.axes['proxy']).filter((p): p is string => typeof p === 'string'))];
  if (proxies.length < 2) return [];
  const others = [...new Set(cells.flatMap((c) => Object.keys(c.axes)))].filter((a) => a !== 'proxy');
  const rows = new Map<string, Map<string, CellResult>>();
  for (const c of cells) {
    if (typeof c.axes['proxy'] !== 'string') continue;
    const key = JSON.stringify(others.map((a) => c.axes[a] ?? null));
    if (!rows.has(key)) rows.set(key, new Map());
    rows.get(key)!.set(c.axes['proxy'], c);
  }
  const [first] = proxies;
  const head = [...others, ...proxies.flatMap((p) => [`${p} RPS`, `${p} P99 ms`, `${p} CPU µs/req`]), ...proxies.slice(1).map((p) => `${p} / ${first} RPS`)];
  const lines = [
    '## Proxies side by side',
    '',
    `Each row is one setting of the other axes; per proxy its goodput (mean over repetitions), P99 and CPU per request; then each proxy's goodput as a ratio to ${first}'s (measured in the same run, so the machine's drift is shared). '-': not run (excluded, failed, or no proxy). '†': the generator or the emulated link was saturated in that cell (Warnings above): its numbers bound them, not the proxy.`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
  ];
  for (const byProxy of rows.values()) {
    const any = [...byProxy.values()][0]!;
    const ok = (p: string): CellResult | undefined => {
      const c = byProxy.get(p);
      return c?.status === 'ok' && c.summary ? c : undefined;
    };
    const cellsOf = proxies.flatMap((p) => {
      const c = ok(p);
      const cpu = c ? cpuPerRequestUs(c) : undefined;
      return [c ? fmtRps(c.summary!.rps.mean) + (saturated(c) ? ' †' : '') : '-', c ? fmtMs(c.summary!.latencyMs.p99) : '-', cpu !== undefined ? fmtMicros(cpu) : '-'];
    });
    const base = ok(first!)?.summary!.rps.mean;
    const ratios = proxies.slice(1).map((p) => {
      const v = ok(p)?.summary!.rps.mean;
      return base && v !== undefined ? (v / base).toFixed(2) : '-';
    });
    lines.push(`| ${[...others.map((a) => String(any.axes[a] ?? '')), ...cellsOf, ...ratios].join(' | ')} |`);
  }
  lines.push('');
  return lines;
}
