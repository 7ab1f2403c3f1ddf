// gate's report (Markdown, readable in a terminal and in a CI job summary): a pure function of a GateResult.
// Every failing cell, metric, change and interval by name; then what could not be told, and what was not gated.
import type { GateCheck, GateResult } from '../compare/gate.js';
import { metricDef } from '../compare/metrics.js';
import type { Gates } from '../matrix/gates.js';
import { minimumPValue } from '../stats/mann-whitney.js';
import { fmtChange, fmtMetric, fmtP } from './compare-format.js';
import { fmtRate } from './format-number.js';

const TITLE: Record<GateResult['outcome'], string> = { pass: 'PASS', fail: 'FAIL', 'not enough repetitions': 'NOT ENOUGH REPETITIONS' };

export function formatGateReport(g: GateResult): string {
  const failed = g.checks.filter((c) => c.outcome === 'fail');
  const unsure = g.checks.filter((c) => c.outcome === 'not enough repetitions');
  const cells = (list: GateCheck[]) => plural(new Set(list.map((c) => c.cell)).size, 'cell');
  const pct = Math.round(g.confidence * 100);
  const out: string[] = [];
  const what =
    g.outcome === 'fail'
      ? ` (${plural(failed.length, 'check')} failed in ${cells(failed)})`
      : g.outcome === 'pass'
        ? ` (${plural(g.checks.length, 'check')} in ${cells(g.checks)})`
        : ` (${plural(unsure.length, 'check')} in ${cells(unsure)} could not be decided)`;
  out.push(`# sluice gate: ${TITLE[g.outcome]}${what}`, '');
  const c = g.comparison;
  out.push(`- baseline: ${c.a.file} (run ${c.a.runId}, ${c.a.reps} x ${c.a.durationMs} ms)`);
  out.push(`- candidate: ${c.b.file} (run ${c.b.runId}, ${c.b.reps} x ${c.b.durationMs} ms)`);
  for (const d of c.differences) out.push(`- differs: ${d}`);
  out.push(
    `- gates: ${describeGates(g.gates)}; confidence ${g.confidence}: a relative change fails when its whole ${pct}% interval lies past the limit ` +
      `and the Mann-Whitney p < ${fmtP(1 - g.confidence)}, which needs at least ${g.minReps} repetitions per side`,
    '',
  );
  if (failed.length > 0) out.push('## Failed', '', ...failed.map((ch) => `- ${checkLine(ch, pct)}`), '');
  if (unsure.length > 0) {
    out.push('## Not enough repetitions', '');
    const sizes = new Set(unsure.map((ch) => `${ch.comparison!.a.n}/${ch.comparison!.b.n}`));
    for (const s of sizes) {
      const [na, nb] = s.split('/').map(Number) as [number, number];
      const list = unsure.filter((ch) => `${ch.comparison!.a.n}/${ch.comparison!.b.n}` === s);
      out.push(
        `- ${cells(list)} with ${na} repetitions in the baseline and ${nb} in the candidate: the smallest p-value they can give is ` +
          `${fmtP(minimumPValue(na, nb))}, not below ${fmtP(1 - g.confidence)}; run at least ${g.minReps} per side (\`--reps ${Math.max(g.minReps, 5)}\`) and update the baseline`,
      );
    }
    out.push('');
  }
  if (g.notGated.length > 0) out.push('## Not gated', '', ...g.notGated.map((n) => `- ${n}`), '');
  const passed = g.checks.filter((ch) => ch.outcome === 'pass');
  out.push(`${passed.length} checks passed, ${failed.length} failed, ${unsure.length} undecided.`);
  return out.join('\n') + '\n';
}

/** One check as a line: the cell, the metric, the values, the change with its interval and p, the limit. */
export function checkLine(ch: GateCheck, pct: number): string {
  if (ch.kind === 'status') return `${ch.cell}: the cell failed in the candidate${ch.error ? `: ${ch.error}` : ''}`;
  if (ch.kind === 'absolute') {
    const base = ch.baseline !== undefined ? ` (baseline ${fmtRate(ch.baseline)})` : '';
    return `${ch.cell} ${ch.metric}: ${fmtRate(ch.candidate ?? NaN)} over all requests, above the limit ${fmtRate(ch.limit?.max ?? NaN)}${base}`;
  }
  const m = ch.comparison!;
  const limit = ch.limit?.maxDrop !== undefined ? `limit -${(ch.limit.maxDrop * 100).toFixed(1)}%` : `limit +${((ch.limit?.maxRise ?? 0) * 100).toFixed(1)}%`;
  return (
    `${ch.cell} ${metricDef(m.metric).label}: ${fmtMetric(m.metric, m.a.mean)} -> ${fmtMetric(m.metric, m.b.mean)} ` +
    `(${fmtChange(m.ratio)}, ${pct}% interval ${fmtChange(m.ci[0])} .. ${fmtChange(m.ci[1])}, p = ${fmtP(m.p)}), ${limit}`
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function describeGates(g: Gates): string {
  const parts: string[] = [];
  if (g.rps) parts.push(`RPS drop <= ${(g.rps.maxDrop * 100).toFixed(1)}%`);
  for (const k of ['p50', 'p99', 'p999', 'cpuPerRequest'] as const) {
    const r = g[k];
    if (r) parts.push(`${metricDef(k).label} rise <= ${(r.maxRise * 100).toFixed(1)}%`);
  }
  if (g.errorRate) parts.push(`error rate <= ${g.errorRate.max}`);
  if (g.rstRate) parts.push(`RST rate <= ${g.rstRate.max}`);
  return parts.join(', ');
}
