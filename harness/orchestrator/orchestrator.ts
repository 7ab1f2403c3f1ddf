// The run loop: visits of cells (schedule.ts: interleaved repetitions by default), each measured by runCell,
// merged into its cell and written at once. It emits events and never prints; the progress display, the
// results writer and anything else listen (autocannon's engine/tracker split).
import { EventEmitter } from 'node:events';
import type { Cell, CellParams, Expansion } from '../matrix/cells.js';
import type { LiveDelta } from '../load/statistic/live.js';
import type { MatrixSpec } from '../matrix/schema.js';
import { RESULTS_SCHEMA, type CellResult, type Component, type Pinning, type RepOrder, type RunResults } from '../results/model.js';
import { sluiceComponents } from '../results/components.js';
import type { ResultsWriter } from '../results/writer.js';
import { mergeVisit } from './merge-visit.js';
import type { ChildCpus } from './pinning.js';
import { runCell, InterruptedError, type CellPlan, type CellHooks, type CellTargets } from './run-cell.js';
import { scheduleVisits, type Visit } from './schedule.js';

/** What a visit costs beyond its load: starting and stopping processes (backends, links, proxy: ~0.5-1 s), the
 *  generator's worker and connections, and each repetition's drain and refill. Measured: the 168-cell h2 sweep over
 *  emulated links took 1430 s for 6.5 s of load per cell, 8.5 s a cell. The ETA shown during a run is refined by
 *  measurement as visits finish. */
export const ASSUMED_OVERHEAD_MS = 2000;

export type BenchEvent =
  | { type: 'run-start'; runId: string; dir: string; cells: number; todo: number; done: number; excluded: number; estimateMs: number; order: RepOrder }
  | { type: 'cell-start'; index: number; todo: number; id: string; params: CellParams }
  /** The visit's processes are up: where their metrics answer (live /metrics, Prometheus targets). */
  | { type: 'cell-targets'; id: string; targets: CellTargets }
  /** The generator's outcomes since the last 'live', whatever their window (warm-up and drain too). */
  | { type: 'live'; id: string; delta: LiveDelta }
  | { type: 'rep-start'; id: string; rep: number; reps: number; warmupMs: number }
  | { type: 'tick'; id: string; rep: number; elapsedS: number; requests: number; errors: number; phase: string }
  /** A visit ended: `index` and `todo` count visits; `cell` is the cell so far (every repetition it has), of `reps`. */
  | { type: 'cell-done'; index: number; todo: number; cell: CellResult; reps: number; etaMs: number }
  | { type: 'run-done'; results: RunResults; interrupted: boolean };

export interface OrchestratorOptions {
  results: RunResults;
  expansion: Expansion;
  plan: CellPlan;
  writer: ResultsWriter;
  signal?: AbortSignal;
  proxyMain?: string;
  backendsMain?: string;
  /** The CPUs of each child process (--pin; the harness itself is pinned by the caller). */
  cpus?: ChildCpus;
}

/** Every visit's start, warm-up and repetitions. */
export function estimateRunMs(visits: readonly Visit[], plan: CellPlan, overheadMs = ASSUMED_OVERHEAD_MS): number {
  return visits.reduce((acc, v) => acc + overheadMs + plan.warmupMs + v.reps * plan.durationMs, 0);
}

/**
 * The visits a run still owes: a cell that is ok and has every repetition is done; one that is ok with fewer
 * (an interleaved run interrupted) gets the rest; a failed cell starts over.
 */
export function pendingVisits(results: RunResults, expansion: Expansion, reps: number): Visit[] {
  const have = new Map(results.cells.filter((c) => c.status === 'ok').map((c) => [c.id, c.reps.length]));
  const cells = expansion.cells.map((cell) => ({ cell, done: have.get(cell.id) ?? 0 }));
  return scheduleVisits(cells, reps, results.run.options.order);
}

export class Orchestrator extends EventEmitter<{ event: [BenchEvent] }> {
  constructor(private readonly opts: OrchestratorOptions) {
    super();
  }

  private emitEvent(e: BenchEvent): void {
    this.emit('event', e);
  }

  /** Runs every visit still owed (a resumed run keeps what it has). Resolves when done or interrupted. */
  async run(): Promise<RunResults> {
    const { results, expansion, plan, writer, signal } = this.opts;
    const visits = pendingVisits(results, expansion, plan.reps);
    const touched = new Set(visits.map((v) => v.cell.id));
    // A failed cell starts over: its old repetitions were measured before whatever broke it.
    results.cells = results.cells.filter((c) => c.status === 'ok' || !touched.has(c.id));
    results.run.status = 'running';
    delete results.run.finishedAt;
    writer.write(results);
    this.emitEvent({
      type: 'run-start',
      runId: results.run.id,
      dir: writer.dir,
      cells: touched.size,
      todo: visits.length,
      done: expansion.cells.length - touched.size,
      excluded: expansion.excluded.length,
      estimateMs: estimateRunMs(visits, plan),
      order: results.run.options.order,
    });
    const startedAt = Date.now();
    const failed = new Set<string>();
    let interrupted = false;
    for (const [index, visit] of visits.entries()) {
      if (signal?.aborted) {
        interrupted = true;
        break;
      }
      // A cell that failed is not visited again in this run (--resume retries it whole).
      if (failed.has(visit.cell.id)) continue;
      const { cell } = visit;
      this.emitEvent({ type: 'cell-start', index, todo: visits.length, id: cell.id, params: cell.params });
      let measured: CellResult;
      try {
        measured = await runCell(cell, results.run.matrix.spec, { ...plan, reps: visit.reps }, this.hooksFor(cell), visit.firstRep);
      } catch (err) {
        if (!(err instanceof InterruptedError)) throw err;
        interrupted = true;
        break;
      }
      const merged = await mergeVisit(results.cells.find((c) => c.id === cell.id), measured, plan.timeoutMs);
      if (merged.status === 'failed') failed.add(cell.id);
      this.record(results, merged, expansion);
      writer.write(results);
      const perVisit = (Date.now() - startedAt) / (index + 1);
      this.emitEvent({ type: 'cell-done', index, todo: visits.length, cell: merged, reps: plan.reps, etaMs: perVisit * (visits.length - index - 1) });
    }
    results.run.status = interrupted ? 'interrupted' : 'complete';
    results.run.finishedAt = new Date().toISOString();
    writer.write(results);
    this.emitEvent({ type: 'run-done', results, interrupted });
    return results;
  }

  private hooksFor(cell: Cell): CellHooks {
    const { plan, signal, proxyMain, backendsMain, cpus } = this.opts;
    return {
      signal,
      proxyMain,
      backendsMain,
      cpus,
      // rep -1 is the warm-up
      onRepStart: (rep) =>
        this.emitEvent({ type: 'rep-start', id: cell.id, rep, reps: plan.reps, warmupMs: rep < 0 ? plan.warmupMs : 0 }),
      onTick: (rep, t) => this.emitEvent({ type: 'tick', id: cell.id, rep, ...t }),
      onLive: (delta) => this.emitEvent({ type: 'live', id: cell.id, delta }),
      onTargets: (targets) => this.emitEvent({ type: 'cell-targets', id: cell.id, targets }),
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
  /** The generator and the proxy (default: ours, at the checkout's commit). */
  components?: { generator: Component; proxy: Component };
  pinning?: Pinning;
  order?: RepOrder;
}): RunResults {
  const components = args.components ?? sluiceComponents(args.spec, args.git);
  return {
    schema: RESULTS_SCHEMA,
    run: {
      id: args.id,
      startedAt: new Date().toISOString(),
      status: 'running',
      git: args.git,
      host: args.host,
      matrix: { name: args.spec.name, file: args.file, sha256: args.sha256, spec: args.spec },
      ...components,
      pinning: args.pinning ?? {},
      options: { only: args.only, durationMs: args.plan.durationMs, warmupMs: args.plan.warmupMs, reps: args.plan.reps, order: args.order ?? 'interleave' },
    },
    cells: [],
    excluded: args.excluded,
  };
}
