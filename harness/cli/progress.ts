// Draws the orchestrator's events as progress on stderr: visits done / total (a cell once per repetition when
// they are interleaved, else once), ETA, current cell. On a TTY one status line is redrawn; elsewhere (CI logs)
// one line per finished visit. At the end, the summary table.
import type { BenchEvent } from '../orchestrator/orchestrator.js';
import { formatDuration } from '../../common/duration.js';
import { fmtErrors, fmtHeadline, fmtInt, fmtMs, fmtRps } from '../output/format-number.js';
import { formatSummaryTable } from '../output/summary-table.js';

export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (e: BenchEvent) => void {
  const tty = stream.isTTY === true;
  let total = 0;
  let done = 0;
  let eta = 0;
  let current = '';
  const status = (text: string) => {
    if (tty) stream.write(`\r\x1b[2K${text.slice(0, (stream.columns ?? 120) - 1)}`);
  };
  const line = (text: string) => stream.write(tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
  return (e) => {
    switch (e.type) {
      case 'run-start':
        total = e.todo;
        eta = e.estimateMs;
        line(
          `sluice: run ${e.runId}: ${e.cells} cells to measure` +
            (e.todo !== e.cells ? ` in ${e.todo} visits (repetitions interleaved)` : '') +
            (e.done ? ` (${e.done} already done)` : '') +
            (e.excluded ? `, ${e.excluded} excluded` : '') +
            `, estimated ${formatDuration(Math.round(e.estimateMs / 1000) * 1000)} -> ${e.dir}`,
        );
        break;
      case 'cell-start':
        current = e.id;
        status(`[${done}/${total}] ETA ${fmtEta(eta)}  starting ${current}`);
        break;
      case 'rep-start':
        status(`[${done}/${total}] ETA ${fmtEta(eta)}  ${current}  ${e.rep < 0 ? 'warm-up' : `rep ${e.rep + 1}/${e.reps}`}`);
        break;
      case 'tick':
        status(
          `[${done}/${total}] ETA ${fmtEta(eta)}  ${current}  ${e.rep < 0 ? 'warm-up' : `rep ${e.rep + 1}`} ${e.elapsedS.toFixed(0)}s  ${fmtInt(e.requests)} req  ${e.errors} err`,
        );
        break;
      case 'cell-done': {
        done = e.index + 1;
        eta = e.etaMs;
        const s = e.cell.summary;
        const what =
          e.cell.status === 'ok' && s
            ? (s.headline && e.cell.params.scenario !== 'unary' ? `${fmtHeadline(s.headline)}  ` : '') +
              `goodput ${fmtRps(s.rps.mean)} rps  p50 ${fmtMs(s.latencyMs.p50)} ms  p99 ${s.latencyLowerBounds.includes('p99') ? '>=' : ''}${fmtMs(s.latencyMs.p99)} ms  errors ${fmtErrors(s.errors, 2)}` +
              (s.generatorSaturatedReps ? '  GENERATOR SATURATED' : '')
            : `FAILED: ${e.cell.error ?? ''}`;
        const reps = e.reps > 1 ? `  rep ${e.cell.reps.length}/${e.reps}` : '';
        line(`[${done}/${total}] ETA ${fmtEta(eta)}  ${e.cell.id}${reps}  ${what}`);
        break;
      }
      case 'run-done':
        line(e.interrupted ? `sluice: interrupted; finished cells are saved` : `sluice: run complete`);
        // The run at a glance, as the last screen: the cells' goodput, latency, errors and headlines.
        stream.write('\n' + formatSummaryTable(e.results.cells) + '\n');
        break;
    }
  };
}

function fmtEta(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
