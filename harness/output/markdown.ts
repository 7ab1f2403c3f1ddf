// report.md: a pure function of results.json. One row per cell; values are medians over repetitions.
import type { CellResult, RunResults } from '../results/model.js';
import { fmtBytes, fmtErrors, fmtInt, fmtMs, fmtRate } from './format-number.js';

export function formatMarkdown(r: RunResults): string {
  const out: string[] = [];
  const ok = r.cells.filter((c) => c.status === 'ok').length;
  const failed = r.cells.length - ok;
  const spec = r.run.matrix.spec;
  out.push(`# sluice run ${r.run.id}`, '');
  out.push(`- matrix: **${spec.name}** (${r.run.matrix.file}, sha256 ${r.run.matrix.sha256.slice(0, 12)})`);
  if (spec.description) out.push(`- ${spec.description}`);
  out.push(`- status: ${r.run.status}; ${ok} cells ok, ${failed} failed, ${r.excluded.length} excluded`);
  out.push(
    `- each cell: ${r.run.options.warmupMs} ms warm-up, ${r.run.options.reps} x ${r.run.options.durationMs} ms measured; protocol ${spec.protocol} unless swept`,
  );
  const h = r.run.host;
  out.push(`- host: ${h.cpuModel}, ${h.cores} cores, ${fmtBytes(h.memoryBytes)}, Linux ${h.kernel}, Node ${h.node}`);
  if (r.run.git) out.push(`- git: ${r.run.git.commit.slice(0, 12)}${r.run.git.dirty ? ' (uncommitted changes)' : ''}`);
  if (r.run.overheadMs) out.push(`- per-cell overhead: start ${r.run.overheadMs.start} ms, stop ${r.run.overheadMs.stop} ms`);
  out.push('');
  out.push(...warnings(r.cells));
  out.push(...table(r.cells));
  if (r.excluded.length > 0) {
    out.push('', '## Excluded cells', '');
    const byReason = new Map<string, number>();
    for (const e of r.excluded) byReason.set(e.reason, (byReason.get(e.reason) ?? 0) + 1);
    for (const [reason, n] of byReason) out.push(`- ${n} cells: ${reason}`);
  }
  out.push('', LEGEND);
  return out.join('\n') + '\n';
}

function warnings(cells: CellResult[]): string[] {
  const lines: string[] = [];
  const saturated = cells.filter((c) => (c.summary?.generatorSaturatedReps ?? 0) > 0);
  if (saturated.length > 0) {
    lines.push(
      `- **generator saturated** in ${saturated.length} cells (it used over 90% of a core): their RPS and latency bound the generator, not the proxy: ${saturated.map((c) => c.id).join('; ')}`,
    );
  }
  for (const c of cells.filter((c) => c.status === 'failed')) lines.push(`- **failed** ${c.id}: ${c.error ?? 'unknown error'}`);
  return lines.length ? ['## Warnings', '', ...lines, ''] : [];
}

function table(cells: CellResult[]): string[] {
  if (cells.length === 0) return ['No cells measured yet.'];
  const axes = [...new Set(cells.flatMap((c) => Object.keys(c.axes)))];
  const head = [...axes, 'RPS', 'RPS 95% CI', 'P50 ms', 'P99 ms', 'P99.9 ms', 'RST rate', 'errors', 'proxy CPU s', 'status'];
  const rows = cells.map((c) => {
    const s = c.summary;
    const cpu = c.reps.length ? c.reps.reduce((a, r) => a + (r.proxy?.cpuS ?? 0), 0) / c.reps.length : NaN;
    return [
      ...axes.map((a) => String(c.axes[a] ?? '')),
      s ? fmtInt(s.rps.median) : '-',
      s ? `${fmtInt(s.rps.ci95[0])}-${fmtInt(s.rps.ci95[1])}` : '-',
      s ? fmtMs(s.p50Ms.median) : '-',
      s ? fmtMs(s.p99Ms.median) : '-',
      s ? fmtMs(s.p999Ms.median) : '-',
      s ? fmtRate(s.rstRate.median) : '-',
      s ? fmtErrors(s.errors) : '-',
      Number.isFinite(cpu) ? cpu.toFixed(2) : '-',
      c.status + ((s?.generatorSaturatedReps ?? 0) > 0 ? ' (generator saturated)' : ''),
    ];
  });
  return ['## Cells', '', `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

const LEGEND = `## What the numbers mean

- **RPS**: completed requests per second of measured time, median over repetitions; **RPS 95% CI**: the 95% confidence interval of the mean over repetitions (Student's t).
- **P50 / P99 / P99.9 ms**: latency percentiles from the generator's HdrHistogram, from request start to the last byte of the response, median over repetitions.
- **RST rate**: RST_STREAM frames received by the generator / requests sent.
- **errors**: failed requests by class (rst:<code>, goaway:<code>, ECONNRESET, ECONNREFUSED, timeout, status:5xx, grpc:<status>, ...), summed over repetitions.
- **proxy CPU s**: CPU seconds the proxy process used per repetition (user + system).`;
