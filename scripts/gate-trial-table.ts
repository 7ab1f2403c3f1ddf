// The gate trial's table (gate-trial.ts): pure, from the pairs' outcomes to Markdown.

export interface PairOutcome {
  kind: string;
  /** The gate's exit code for the pair: 0 pass, 1 fail, 3 not enough repetitions (2: unusable, should not happen). */
  exitCode: number;
  /** Metrics that failed in at least one cell. */
  failedMetrics: string[];
  /** Mean over cells of the ratio B/A of the mean RPS and P99. */
  rpsRatio: number;
  p99Ratio: number;
}

export interface TrialKind {
  kind: string;
  /** What B changes against A, in words. */
  change: string;
  /** The metric that should catch it (none for A/A: every alarm is false). */
  expected?: string;
}

export function formatTrialTable(kinds: readonly TrialKind[], pairs: readonly PairOutcome[]): string {
  const lines = [
    '| pairs | B against A | gate failed | share | caught by the expected metric | failing metrics | undecided (exit 3) | RPS B/A median | P99 B/A median |',
    '|---|---|---:|---:|---:|---|---:|---:|---:|',
  ];
  for (const k of kinds) {
    const mine = pairs.filter((p) => p.kind === k.kind);
    if (mine.length === 0) continue;
    const failed = mine.filter((p) => p.exitCode === 1);
    const byMetric = new Map<string, number>();
    for (const p of failed) for (const m of p.failedMetrics) byMetric.set(m, (byMetric.get(m) ?? 0) + 1);
    const caught = k.expected ? `${mine.filter((p) => p.exitCode === 1 && p.failedMetrics.includes(k.expected!)).length} (${k.expected})` : '-';
    lines.push(
      `| ${k.kind} | ${k.change} | ${failed.length} of ${mine.length}${k.expected ? '' : ' (false alarms)'} | ${pct(failed.length / mine.length)} | ${caught} | ` +
        `${[...byMetric].map(([m, n]) => `${m} ${n}`).join(', ') || '-'} | ${mine.filter((p) => p.exitCode === 3).length} | ` +
        `${median(mine.map((p) => p.rpsRatio)).toFixed(3)} | ${median(mine.map((p) => p.p99Ratio)).toFixed(3)} |`,
    );
  }
  return lines.join('\n') + '\n';
}

function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
