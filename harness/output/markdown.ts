// report.md: a pure function of results.json. One row per cell; values are medians over repetitions.
import type { CellResult, RunResults } from '../results/model.js';
import { cpuPerRequestUs, formatProxiesSideBySide } from './proxies-side-by-side.js';
import { findWarnings, warningText } from './report-warnings.js';
import { fmtBytes, fmtErrors, fmtHeadline, fmtInterval, fmtMicros, fmtMs, fmtPercent, fmtRate, fmtRps } from './format-number.js';

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
  const sideBySide = formatProxiesSideBySide(r.cells);
  if (sideBySide.length > 0) out.push('', ...sideBySide);
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
  const lines = findWarnings(cells).map((w) => `- **${w.title}** ${warningText(w)}`);
  return lines.length ? ['## Warnings', '', ...lines, ''] : [];
}

function table(cells: CellResult[]): string[] {
  if (cells.length === 0) return ['No cells measured yet.'];
  const axes = [...new Set(cells.flatMap((c) => Object.keys(c.axes)))];
  // A scenario's own number gets its own column, where any cell has one beyond plain goodput.
  const headlines = cells.some((c) => c.summary?.headline && c.params.scenario !== 'unary');
  const head = [...axes, ...(headlines ? ['scenario headline'] : []), 'goodput RPS', 'RPS 95% CI', 'MB/s', 'error rate', 'P50 ms', 'P99 ms', 'P99.9 ms', 'RST rate', 'errors', 'proxy CPU µs/req', 'status'];
  const rows = cells.map((c) => {
    const s = c.summary;
    const lower = new Set<string>(s?.latencyLowerBounds ?? []);
    const ms = (key: 'p50' | 'p99' | 'p999'): string => (s ? (lower.has(key) ? '>=' : '') + fmtMs(s.latencyMs[key]) : '-');
    return [
      ...axes.map((a) => String(c.axes[a] ?? '')),
      ...(headlines ? [s?.headline ? fmtHeadline(s.headline) : '-'] : []),
      s ? fmtRps(s.rps.mean) : '-',
      s ? fmtInterval(s.rps.ci95, fmtRps) : '-',
      s?.bodyBytesPerS ? fmtRps(s.bodyBytesPerS.mean / 1e6) : '-',
      s ? fmtPercent(s.errorRate.mean) : '-',
      ms('p50'),
      ms('p99'),
      ms('p999'),
      s ? fmtRate(s.rstRate.mean) : '-',
      s ? fmtErrors(s.errors) : '-',
      ((us) => (us === undefined ? '-' : fmtMicros(us)))(cpuPerRequestUs(c)),
      c.status + ((s?.generatorSaturatedReps ?? 0) > 0 ? ' (generator saturated)' : ''),
    ];
  });
  return ['## Cells', '', `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

const LEGEND = `## What the numbers mean

- **goodput RPS**: successful responses per second of measured time, the mean over repetitions; **RPS 95% CI**: the 95% confidence interval of that mean (Student's t), never below 0. Failed requests are not in it: see **error rate** (failed / requests sent).
- **P50 / P99 / P99.9 ms**: percentiles of every request sent in the measured windows of all repetitions together (their histograms merged exactly), from its (intended) send to its outcome; a timed-out request counts at the timeout, and a percentile it reached is a lower bound, marked ">=".
- **MB/s**: response body bytes that arrived during the measured windows, per second (decimal MB), mean over repetitions: the byte rate, steady even where whole responses arrive in bursts longer than the window.
- **scenario headline** (scenario cells): the number the scenario measures (workloads/scenarios/, README "Scenarios"), the median over repetitions, and which way is better.
- **RST rate**: RST_STREAM frames received by the generator / requests sent in the window (mean over repetitions).
- **errors**: failed requests by class (rst:<code>, goaway:<code>, ECONNRESET, ECONNREFUSED, timeout, status:5xx, grpc:<status>, ...), summed over repetitions.
- **proxy CPU µs/req**: CPU the proxy process used during the measured windows / requests sent in them; "-" for cells without a proxy (target direct).`;
