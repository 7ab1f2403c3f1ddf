// The run loop: cells in order, each measured by runCell and written at once. It emits events and never prints;
// the progress display, the results writer and anything else listen (autocannon's engine/tracker split).
import { EventEmitter } from 'node:events';
import type { Cell, Expansion } from '../matrix/cells.js';
import type { MatrixSpec } from '../matrix/schema.js';
import type { CellResult, RunResults } from '../results/model.js';
import type { ResultsWriter } from '../results/writer.js';
import { runCell, InterruptedError, type CellPlan, type CellHooks } from './run-cell.js';

/** What a cell costs beyond its load: starting and stopping processes (backends, links, proxy: ~0.5-1 s), the
 *  generator's worker and connections, and each repetition's drain and refill. Measured: the 168-cell h2 sweep over
 *  emulated links took 1430 s for 6.5 s of load per cell, 8.5 s a cell. The ETA shown during a run is refined by
 *  measurement as cells finish. */
export const ASSUMED_OVERHEAD_MS = 2000;

export type BenchEvent =
  | { type: 'run-start'; runId: string; dir: string; todo: number; done: number; excluded: number; estimateMs: number }
  | { type: 'cell-start'; index: number; todo: number; id: string }
  | { type: 'rep-start'; id: string; rep: number; reps: number; warmupMs: number }
  | { type: 'tick'; id: string; rep: number; elapsedS: number; requests: number; errors: number; phase: string }
  | { type: 'cell-done'; index: number; todo: number; cell: CellResult; etaMs: number }
  | { type: 'run-done'; results: RunResults; interrupted: boolean };

export interface OrchestratorOptions {
  results: RunResults;
  expansion: Expansion;
  plan: CellPlan;
  writer: ResultsWriter;
  signal?: AbortSignal;
  proxyMain?: string;
  backendsMain?: string;
}

export function estimateRunMs(cells: number, plan: CellPlan, overheadMs = ASSUMED_OVERHEAD_MS): number {
  return cells * (overheadMs + plan.warmupMs + plan.reps * plan.durationMs);
}

export class Orchestrator extends EventEmitter<{ event: [BenchEvent] }> {
  constructor(private readonly opts: OrchestratorOptions) {
    super();
  }

  private emitEvent(e: BenchEvent): void {
    this.emit('event', e);
  }

  /** Runs every cell not already ok in the results (a resumed run skips those). Resolves when done or interrupted. */
  async run(): Promise<RunResults> {
    const { results, expansion, plan, writer, signal } = this.opts;
    const done = new Set(results.cells.filter((c) => c.status === 'ok').map((c) => c.id));
    const todo = expansion.cells.filter((c) => !done.has(c.id));
    results.run.status = 'running';
    delete results.run.finishedAt;
    writer.write(results);
    this.emitEvent({
      type: 'run-start',
      runId: results.run.id,
      dir: writer.dir,
      todo: todo.length,
      done: done.size,
      excluded: expansion.excluded.length,
      estimateMs: estimateRunMs(todo.length, plan),
    });
    const startedAt = Date.now();
    let interrupted = false;
    for (const [index, cell] of todo.entries()) {
      if (signal?.aborted) {
        interrupted = true;
        break;
      }
      this.emitEvent({ type: 'cell-start', index, todo: todo.length, id: cell.id });
      let result: CellResult;
      try {
        result = await runCell(cell, results.run.matrix.spec, plan, this.hooksFor(cell));
      } catch (err) {
        if (!(err instanceof InterruptedError)) throw err;
        interrupted = true;
        break;
      }
      this.record(results, result, expansion);
      writer.write(results);
      const perCell = (Date.now() - startedAt) / (index + 1);
      this.emitEvent({ type: 'cell-done', index, todo: todo.length, cell: result, etaMs: perCell * (todo.length - index - 1) });
    }
    results.run.status = interrupted ? 'interrupted' : 'complete';
    results.run.finishedAt = new Date().toISOString();
    writer.write(results);
    this.emitEvent({ type: 'run-done', results, interrupted });
    return results;
  }

  private hooksFor(cell: Cell): CellHooks {
    const { plan, signal, proxyMain, backendsMain } = this.opts;
    return {
      signal,
      proxyMain,
      backendsMain,
      // rep -1 is the warm-up
      onRepStart: (rep) =>
        this.emitEvent({ type: 'rep-start', id: cell.id, rep, reps: plan.reps, warmupMs: rep < 0 ? plan.warmupMs : 0 }),
      onTick: (rep, t) => this.emitEvent({ type: 'tick', id: cell.id, rep, ...t }),
    };
  }

  /** Replaces an earlier result of the same cell (a resumed failed cell), keeps cells in matrix order. */
  private record(results: RunResults, result: CellResult, expansion: Expansion): void {
    const order = new Map(expansion.cells.map((c, i) => [c.id, i]));
    results.cells = results.cells.filter((c) => c.id !== result.id);
    results.cells.push(result);
    results.cells.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
    const measured = results.cells.filter((c) => c.overheadMs.start > 0);
    if (measured.length > 0) {
      const mean = (f: (c: CellResult) => number) => Math.round(measured.reduce((a, c) => a + f(c), 0) / measured.length);
      results.run.overheadMs = { start: mean((c) => c.overheadMs.start), stop: mean((c) => c.overheadMs.stop) };
    }
  }
}

export function newRunResults(args: {
  id: string;
  spec: MatrixSpec;
  file: string;
  sha256: string;
  only: string[];
  plan: CellPlan;
  git: RunResults['run']['git'];
  host: RunResults['run']['host'];
  excluded: Expansion['excluded'];
}): RunResults {
  return {
    schema: 'sluice.results/v1',
    run: {
      id: args.id,
      startedAt: new Date().toISOString(),
      status: 'running',
      git: args.git,
      host: args.host,
      matrix: { name: args.spec.name, file: args.file, sha256: args.sha256, spec: args.spec },
      options: { only: args.only, durationMs: args.plan.durationMs, warmupMs: args.plan.warmupMs, reps: args.plan.reps },
    },
    cells: [],
    excluded: args.excluded,
  };
}
