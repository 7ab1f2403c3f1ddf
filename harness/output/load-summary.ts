// `npm run load` without --json: one RepResult as a human summary. A pure function that returns a string
// (autocannon's printResult): throughput, latency percentiles, the histogram, errors by class, RST_STREAM
// and GOAWAY by code, open-loop keeping-up, and a loud warning when the generator was the bottleneck.
import type { RepResult } from '../load/types.js';
import { fmtInt, fmtMs } from './format-number.js';
import { formatTextHistogram } from './text-histogram.js';

/** A RepResult as some generators fill it: notes on what they could not measure (h2load). */
type WithNotes = RepResult & { generatorNotes?: unknown };

export interface LoadSummaryOptions {
  /** First line, e.g. what was run against what. */
  title?: string;
  /** Width of the histogram bars. */
  histogramWidth?: number;
}

export function formatLoadSummary(r: RepResult, options: LoadSummaryOptions = {}): string {
  const out: string[] = [];
  if (options.title) out.push(options.title, '');
  if (r.generatorSaturated) out.push(...saturationWarning(r), '');
  const generator = r.generator ?? 'sluice';
  out.push(
    `Requests   ${fmtInt(r.requests)} in ${r.durationS.toFixed(2)} s   ${fmtInt(r.rps)} rps   ` +
      `(generator ${generator}, CPU ${r.generatorCpu.toFixed(2)} per measured second)`,
    '',
  );
  out.push('Latency (ms, successful requests, request start to end of response)', ...latencyTable(r), '');
  out.push('Latency histogram', formatTextHistogram(r.histogram, { width: options.histogramWidth ?? 40 }).trimEnd(), '');
  out.push(...errorTable(r), '');
  out.push(...resets(r));
  if (r.openLoop) out.push(openLoop(r.openLoop));
  if (r.workers && r.workers.length > 0) {
    out.push(`Workers    ${r.workers.length}: ` + r.workers.map((w, i) => `#${i} ELU ${w.elu.toFixed(2)} (${fmtInt(w.requests)} req)`).join(', '));
  }
  const notes = notesOf(r);
  if (notes.length > 0) out.push('', `Notes (${generator})`, ...notes.map((n) => `  - ${n}`));
  if (r.generatorSaturated) out.push('', `WARNING: GENERATOR SATURATED (CPU ${r.generatorCpu.toFixed(2)}): see the top of this summary.`);
  return out.join('\n') + '\n';
}

function saturationWarning(r: RepResult): string[] {
  const lines = [
    `GENERATOR SATURATED: the generator used ${r.generatorCpu.toFixed(2)} CPU seconds per measured second`,
    '(over 0.9 of a core per thread). These numbers measure the generator, not the target:',
    'add --workers, lower -c/-m, or run the generator on cores of its own.',
  ];
  const width = Math.max(...lines.map((l) => l.length));
  const bar = '!'.repeat(width + 6);
  return [bar, ...lines.map((l) => `!! ${l.padEnd(width)} !!`), bar];
}

function latencyTable(r: RepResult): string[] {
  const l = r.latencyMs;
  const cols: [string, number | undefined][] = [
    ['p50', l.p50],
    ['p90', l.p90],
    ['p95', l.p95],
    ['p99', l.p99],
    ['p99.9', l.p999],
    ['max', l.max],
    ['mean', l.mean],
  ];
  const cells = cols.map(([name, v]) => [name, v === undefined ? '-' : fmtMs(v)] as const);
  const width = Math.max(...cells.map(([a, b]) => Math.max(a.length, b.length))) + 2;
  return [`  ${cells.map(([a]) => a.padStart(width)).join('')}`, `  ${cells.map(([, b]) => b.padStart(width)).join('')}`];
}

function errorTable(r: RepResult): string[] {
  const entries = Object.entries(r.errors).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const failed = entries.reduce((a, [, n]) => a + n, 0);
  const share = (n: number): string => (r.requests > 0 ? `${((n / r.requests) * 100).toFixed(2)}%` : '-');
  if (failed === 0) return [`Errors     none of ${fmtInt(r.requests)} requests failed`];
  const classWidth = Math.max('class'.length, ...entries.map(([k]) => k.length));
  const countWidth = Math.max('count'.length, ...entries.map(([, n]) => fmtInt(n).length));
  return [
    `Errors     ${fmtInt(failed)} of ${fmtInt(r.requests)} requests failed (${share(failed)})`,
    `  ${'class'.padEnd(classWidth)}  ${'count'.padStart(countWidth)}  ${'share'.padStart(7)}`,
    ...entries.map(([k, n]) => `  ${k.padEnd(classWidth)}  ${fmtInt(n).padStart(countWidth)}  ${share(n).padStart(7)}`),
  ];
}

function byCode(counts: Record<string, number> | undefined): string {
  const entries = Object.entries(counts ?? {}).filter(([, n]) => n > 0);
  return entries.length === 0 ? 'none' : entries.map(([code, n]) => `${code} ${fmtInt(n)}`).join(', ');
}

function resets(r: RepResult): string[] {
  const lines: string[] = [];
  if (r.generator === 'h2load') {
    lines.push('RST_STREAM not reported by h2load (a reset stream is counted in h2load:errored)');
  } else {
    const rate = r.rstRate === 0 ? '0' : r.rstRate.toExponential(2);
    lines.push(`RST_STREAM received: ${byCode(r.rst.received)}; sent: ${byCode(r.rst.sent)}; rst rate ${rate}`);
  }
  if (r.goawayReceived !== undefined || r.goawayStreamsCut !== undefined) {
    lines.push(`GOAWAY     received: ${byCode(r.goawayReceived)}; streams cut: ${byCode(r.goawayStreamsCut)}`);
  }
  return lines;
}

function openLoop(o: NonNullable<RepResult['openLoop']>): string {
  return (
    `Open loop  target ${fmtInt(o.targetRps)} rps, sent ${fmtInt(o.sentRps)} rps; send lag max ${fmtMs(o.maxLagMs)} ms, mean ${fmtMs(o.meanLagMs)} ms` +
    (o.behind ? '   BEHIND: the generator could not keep the rate' : '')
  );
}

function notesOf(r: WithNotes): string[] {
  return Array.isArray(r.generatorNotes) ? r.generatorNotes.filter((n): n is string => typeof n === 'string') : [];
}
