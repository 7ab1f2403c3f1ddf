// `npm run load` without --json: one RepResult as a human summary. A pure function that returns a string
// (autocannon's printResult): throughput, latency percentiles, the histogram, errors by class, RST_STREAM
// and GOAWAY by code, open-loop keeping-up, streamed messages, the ramp of each connection's first calls, an
// attacker's record, stalled streams and the connections the target closed, a short account of the trace, and
// a loud warning when the generator was the bottleneck.
import type { LatencySummaryMs, PercentileName, RepResult } from '../load/types.js';
import { LITTLES_LAW_BAND } from '../load/worker/merge.js';
import { fmtInt, fmtMs, fmtPercent } from './format-number.js';
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
  const failed = r.requests - r.successes;
  out.push(
    `Goodput    ${fmtInt(r.rps)} rps: successful responses per second (${fmtInt(r.successes)} of ${fmtInt(r.requests)} requests sent in ${r.durationS.toFixed(2)} s)`,
    `Completed  ${fmtInt(r.completedRps)} rps: every outcome, successes and failures; error rate ${fmtPercent(r.errorRate)} (${fmtInt(failed)} failed)` +
      (r.bodyBytesPerS !== undefined ? `; ${(r.bodyBytesPerS / 1e6).toFixed(2)} MB/s of response bodies` : ''),
    `Generator  ${generator}, CPU ${r.generatorCpu.toFixed(2)} per measured second` +
      (r.connect ? `; ${r.connect.ready} of ${r.connect.connections} connections opened in ${fmtMs(r.connect.ms)} ms before the window` : '') +
      (r.drainMs !== undefined ? `; drained ${fmtMs(r.drainMs)} ms after it` : ''),
    '',
  );
  const bound = r.latencyLowerBounds.length > 0 ? "; '>=' marks a lower bound: timeouts, recorded at the timeout, reached it" : '';
  out.push(`Latency (ms, every request of the window, from its ${r.openLoop ? 'intended ' : ''}send to its outcome${bound})`);
  out.push(...latencyTable([['all', r.latencyMs, r.latencyLowerBounds], ['successes', r.successLatencyMs, []], ...(r.uncorrectedLatencyMs ? [['uncorrected', r.uncorrectedLatencyMs, []] as LatencyRow] : [])]));
  if (r.uncorrectedLatencyMs) out.push('  (uncorrected: from the real send, as wrk2 prints it beside the corrected figures)');
  out.push('');
  out.push('Latency histogram (all)', formatTextHistogram(r.histogram, { width: options.histogramWidth ?? 40 }).trimEnd(), '');
  if (r.streaming) out.push(streaming(r.streaming));
  if (r.ramp && r.ramp.length > 0) out.push(ramp(r.ramp));
  if (r.streaming || (r.ramp && r.ramp.length > 0)) out.push('');
  out.push(...errorTable(r), '');
  out.push(...resets(r));
  if (r.attack) out.push(attack(r.attack));
  if (r.stalled) out.push(stalled(r.stalled));
  // An attacker's line already says what became of its connections.
  if (!r.attack && r.connections && (r.connections.closedByPeer > 0 || r.connections.opened > 0)) out.push(connections(r.connections));
  if (r.trace) out.push(...trace(r.trace));
  if (r.openLoop) out.push(openLoop(r.openLoop));
  if (r.littlesLaw) {
    const { concurrency, estimate, ratio } = r.littlesLaw;
    const [lo, hi] = LITTLES_LAW_BAND;
    out.push(
      `Little     ${concurrency} in flight; throughput x mean latency ${estimate.toFixed(1)} (${ratio.toFixed(2)})` +
        (ratio < lo || ratio > hi ? '   NOT A STEADY STATE: the window is short against the latency, or slots were held' : ''),
    );
  }
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
    ...(r.attack && r.openLoop === undefined ? ['(An attacker in closed loop sends as fast as it can: for it, a full core is expected.)'] : []),
  ];
  const width = Math.max(...lines.map((l) => l.length));
  const bar = '!'.repeat(width + 6);
  return [bar, ...lines.map((l) => `!! ${l.padEnd(width)} !!`), bar];
}

type LatencyRow = [string, LatencySummaryMs, readonly PercentileName[]];

const COLUMNS: [string, keyof LatencySummaryMs][] = [
  ['p50', 'p50'],
  ['p90', 'p90'],
  ['p95', 'p95'],
  ['p99', 'p99'],
  ['p99.9', 'p999'],
  ['max', 'max'],
  ['mean', 'mean'],
];

function latencyTable(rows: LatencyRow[]): string[] {
  const cells = rows.map(([, l, lower]) =>
    COLUMNS.map(([, key]) => {
      const v = l[key];
      if (v === undefined) return '-';
      return ((lower as readonly string[]).includes(key) ? '>=' : '') + fmtMs(v);
    }),
  );
  const label = Math.max(...rows.map(([name]) => name.length));
  const width = Math.max(...COLUMNS.map(([name]) => name.length), ...cells.flat().map((c) => c.length)) + 2;
  return [
    `  ${''.padEnd(label)}${COLUMNS.map(([name]) => name.padStart(width)).join('')}`,
    ...rows.map(([name], i) => `  ${name.padEnd(label)}${cells[i]!.map((c) => c.padStart(width)).join('')}`),
  ];
}



function errorTable(r: RepResult): string[] {
  const entries = Object.entries(r.errors).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const failed = entries.reduce((a, [, n]) => a + n, 0);
  const share = (n: number): string => (r.requests > 0 ? fmtPercent(n / r.requests) : '-');
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

function attack(a: NonNullable<RepResult['attack']>): string {
  return (
    `Attack     ${a.kind}: ${fmtInt(a.streams)} streams opened and reset in the window (no latency outcome); ` +
    `GOAWAY ${byCode(a.goaway)}; ${fmtInt(a.connectionsClosed)} connections closed by the target, ${fmtInt(a.reconnects)} reconnects`
  );
}

function stalled(s: NonNullable<RepResult['stalled']>): string {
  return `Stalled    ${fmtInt(s.streams)} streams sent in the window never read their responses; reset by the target: ${byCode(s.resetByPeer)}`;
}

function connections(c: NonNullable<RepResult['connections']>): string {
  return `Connections ${fmtInt(c.closedByPeer)} closed by the target, ${fmtInt(c.opened)} new ones opened (window and drain)`;
}

/** Where the trace's errors began and ended, who answered, and its worst bucket: the shape of an incident in two lines. */
function trace(t: NonNullable<RepResult['trace']>): string[] {
  const { bucketMs, buckets } = t;
  const span = buckets.length > 0 ? `0-${fmtInt(buckets.length * bucketMs)} ms` : 'empty';
  const endpoints = new Map<string, number>();
  for (const b of buckets) for (const [e, n] of Object.entries(b.endpoints)) endpoints.set(e, (endpoints.get(e) ?? 0) + n);
  const answered = [...endpoints].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const lines = [
    `Trace      ${fmtInt(buckets.length)} bucket${buckets.length === 1 ? '' : 's'} of ${fmtInt(bucketMs)} ms by arrival (${span}, window and drain)` +
      (answered.length > 0 ? `; successes by endpoint: ${answered.map(([e, n]) => `${e} ${fmtInt(n)}`).join(', ')}` : ''),
  ];
  const failing = buckets.filter((b) => Object.values(b.errors).some((n) => n > 0));
  const worst = buckets.reduce<(typeof buckets)[number] | undefined>((w, b) => (w === undefined || b.maxLatencyMs > w.maxLatencyMs ? b : w), undefined);
  const slowest = worst && worst.maxLatencyMs > 0 ? `; largest latency ${fmtMs(worst.maxLatencyMs)} ms at ${fmtInt(worst.t)} ms` : '';
  if (failing.length === 0) {
    lines.push(`           no errors${slowest}`);
  } else {
    const first = failing[0]!;
    const last = failing[failing.length - 1]!;
    lines.push(
      `           errors from ${fmtInt(first.t)} ms (${byCode(first.errors)}) to ${fmtInt(last.t)} ms (${byCode(last.errors)}), ` +
        `in ${fmtInt(failing.length)} of ${fmtInt(buckets.length)} buckets${slowest}`,
    );
  }
  return lines;
}

function openLoop(o: NonNullable<RepResult['openLoop']>): string {
  const lag = [
    o.lagP50Ms !== undefined ? `p50 ${fmtMs(o.lagP50Ms)}` : undefined,
    o.lagP99Ms !== undefined ? `p99 ${fmtMs(o.lagP99Ms)}` : undefined,
    `max ${fmtMs(o.maxLagMs)}`,
    `mean ${fmtMs(o.meanLagMs)}`,
  ].filter((x) => x !== undefined);
  return (
    `Open loop  target ${fmtInt(o.targetRps)} rps, sent ${fmtInt(o.sentRps)} rps; send lag (real - intended send) ${lag.join(', ')} ms` +
    (o.pacerCpu !== undefined ? `; pacer CPU ${o.pacerCpu.toFixed(2)}` : '') +
    (o.capped ? `; ${fmtInt(o.capped)} not sent (in-flight cap)` : '') +
    (o.behind ? '   BEHIND: the generator could not keep the rate' : '')
  );
}

function streaming(s: NonNullable<RepResult['streaming']>): string {
  const l = s.messageLatencyMs;
  return (
    `Streaming  ${fmtInt(s.messagesPerS)} messages/s (${fmtInt(s.messages)} messages on the window's streams); ` +
    `message latency (backend stamp to arrival) p50 ${fmtMs(l.p50)}, p99 ${fmtMs(l.p99)}, max ${fmtMs(l.max)} ms`
  );
}

/** How many of a connection's first calls the summary shows (the record keeps up to 20). */
const RAMP_SHOWN = 5;

function ramp(entries: NonNullable<RepResult['ramp']>): string {
  const shown = entries.slice(0, RAMP_SHOWN);
  const last = entries[entries.length - 1]!;
  if (entries.length > RAMP_SHOWN) shown.push(last);
  const cells = shown.map((e, i) => `${i === RAMP_SHOWN ? '... ' : ''}#${e.call} ${fmtMs(e.ttfbMs)}/${fmtMs(e.totalMs)}`);
  const connections = Math.max(...entries.map((e) => e.connections));
  return `Ramp       each connection's first calls, TTFB/total ms (call #0 its first ever; up to ${fmtInt(connections)} connections): ${cells.join(', ')}`;
}

function notesOf(r: WithNotes): string[] {
  return Array.isArray(r.generatorNotes) ? r.generatorNotes.filter((n): n is string => typeof n === 'string') : [];
}
