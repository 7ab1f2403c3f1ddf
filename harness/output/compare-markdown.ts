// compare's Markdown: a pure function of a RunComparison. The changes first (what a reader looks for), then every
// matched cell with every metric, then the cells only one side has.
import type { CellComparison, MetricComparison, RunComparison, RunRef, Verdict } from '../compare/compare-runs.js';
import { METRICS, metricDef } from '../compare/metrics.js';
import { minimumPValue } from '../stats/mann-whitney.js';
import { fmtChange, fmtMetric, fmtP, fmtRatio } from './compare-format.js';

const MARK: Record<Verdict, string> = { better: 'better', worse: '**worse**', 'no change': '=', 'not enough repetitions': 'reps?' };

export function formatCompareMarkdown(c: RunComparison): string {
  const pct = Math.round(c.options.confidence * 100);
  const out: string[] = ['# sluice compare', ''];
  out.push(`- A: ${runLine(c.a)}`, `- B: ${runLine(c.b)}`);
  for (const d of c.differences) out.push(`- differs: ${d}`);
  out.push(
    `- each ratio is B/A of the means over repetitions, with its ${pct}% bootstrap interval (${c.options.resamples} resamples, seed ${c.options.seed}) ` +
      `and a two-sided Mann-Whitney U p-value; a metric changed when p < ${fmtP(1 - c.options.confidence)} and the interval excludes 1. ` +
      `At least ${c.minReps} repetitions per side are needed (3 and 3 give p >= ${fmtP(minimumPValue(3, 3))} whatever the data).`,
    '',
  );
  const all = c.cells.flatMap((cell) => cell.metrics.map((m) => ({ cell, m })));
  const count = (v: Verdict) => all.filter((x) => x.m.verdict === v).length;
  out.push(
    `Matched cells: ${c.cells.length}; only in A: ${c.onlyInA.length}; only in B: ${c.onlyInB.length}. ` +
      `Metrics: ${count('worse')} worse, ${count('better')} better, ${count('no change')} no change, ${count('not enough repetitions')} not enough repetitions.`,
    '',
  );
  const failed = c.cells.filter((cell) => cell.status !== 'compared');
  if (failed.length > 0) {
    out.push('## Failed cells', '');
    for (const cell of failed) out.push(`- ${cell.id}: ${cell.status}${cell.error ? ` (${cell.error})` : ''}`);
    out.push('');
  }
  const changes = all.filter((x) => x.m.verdict === 'better' || x.m.verdict === 'worse');
  if (changes.length > 0) {
    out.push('## Changes', '', `| cell | metric | A | B | B/A | ${pct}% interval | p | |`, '|---|---|---:|---:|---:|---|---:|---|');
    for (const { cell, m } of changes) {
      out.push(
        `| ${cell.id} | ${metricDef(m.metric).label} | ${fmtMetric(m.metric, m.a.mean)} | ${fmtMetric(m.metric, m.b.mean)} | ` +
          `${fmtRatio(m.ratio)} (${fmtChange(m.ratio)}) | ${interval(m)} | ${fmtP(m.p)} | ${MARK[m.verdict]} |`,
      );
    }
    out.push('');
  }
  if (c.cells.some((cell) => cell.status === 'compared')) {
    out.push('## Every matched cell', '', `B/A [${pct}% interval] and the verdict.`, '');
    out.push(`| cell | ${METRICS.map((m) => m.label).join(' | ')} |`, `|---|${METRICS.map(() => '---').join('|')}|`);
    for (const cell of c.cells.filter((x) => x.status === 'compared')) out.push(row(cell));
    out.push('');
  }
  if (c.onlyInA.length > 0) out.push('## Only in A', '', ...c.onlyInA.map((id) => `- ${id}`), '');
  if (c.onlyInB.length > 0) out.push('## Only in B', '', ...c.onlyInB.map((id) => `- ${id}`), '');
  out.push(`Verdicts: better / **worse** (significant and the interval excludes 1), = (no significant change), reps? (too few repetitions to tell).`);
  return out.join('\n') + '\n';
}

function runLine(r: RunRef): string {
  return `${r.file} (run ${r.runId}, matrix ${r.matrix}, ${r.status}, ${r.reps} x ${r.durationMs} ms${r.commit ? `, git ${r.commit.slice(0, 12)}` : ''})`;
}

function interval(m: MetricComparison): string {
  return `[${fmtRatio(m.ci[0])}, ${fmtRatio(m.ci[1])}]`;
}

function row(cell: CellComparison): string {
  const cols = METRICS.map((def) => {
    const m = cell.metrics.find((x) => x.metric === def.name);
    if (!m) return '-';
    // Both zero (no errors either side) is the common case of a rate: say so rather than print 1 [1, 1].
    return m.a.mean === 0 && m.b.mean === 0 ? `0 both ${MARK[m.verdict]}` : `${fmtRatio(m.ratio)} ${interval(m)} ${MARK[m.verdict]}`;
  });
  return `| ${cell.id} | ${cols.join(' | ')} |`;
}
