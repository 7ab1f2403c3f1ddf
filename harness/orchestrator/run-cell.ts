// One matrix cell: start backends and proxy, warm up, measure each repetition (scraping the proxy around it),
// stop everything. Failures become a failed cell with the proxy's stderr, never an exception out of here.
import type { Cell } from '../matrix/cells.js';
import type { MatrixSpec } from '../matrix/schema.js';
import type { LoadOptions, RepResult } from '../load/types.js';
import { generate } from '../load/generate.js';
import type { CellResult } from '../results/model.js';
import { summarize } from '../results/summary.js';
import { startBackends, startProxy, DEFAULT_BACKENDS_MAIN, DEFAULT_PROXY_MAIN } from './launch.js';
import { cpuSeconds, peakRssBytes } from './metrics-scrape.js';
import { Supervisor } from './supervisor.js';

export interface CellPlan {
  durationMs: number;
  warmupMs: number;
  reps: number;
  timeoutMs: number;
}

export interface CellHooks {
  onRepStart?(rep: number): void;
  onTick?(rep: number, t: { elapsedS: number; requests: number; errors: number; phase: string }): void;
  /** Aborted (Ctrl-C): the cell stops as soon as it can and is reported as interrupted. */
  signal?: AbortSignal;
  proxyMain?: string;
  backendsMain?: string;
}

export class InterruptedError extends Error {
  constructor() {
    super('interrupted');
  }
}

export function loadOptionsFor(cell: Cell, spec: MatrixSpec, plan: CellPlan, url: string): LoadOptions {
  const p = cell.params;
  // h1 has one request in flight per connection; h2 and gRPC multiplex concurrency over `connections`.
  const connections = p.protocol === 'h1' ? p.concurrency : Math.min(p.connections, p.concurrency);
  return {
    url,
    protocol: p.protocol,
    connections,
    streamsPerConnection: p.protocol === 'h1' ? 1 : Math.max(1, Math.round(p.concurrency / connections)),
    durationMs: plan.durationMs,
    warmupMs: 0,
    timeoutMs: plan.timeoutMs,
    method: spec.request.method,
    bodyBytes: spec.request.bodyBytes,
    // Results written before the key existed have no generator: theirs was sluice.
    generator: spec.generator ?? 'sluice',
  };
}

export async function runCell(cell: Cell, spec: MatrixSpec, plan: CellPlan, hooks: CellHooks = {}): Promise<CellResult> {
  const sup = new Supervisor();
  const startedAt = new Date();
  const reps: RepResult[] = [];
  let startMs = 0;
  let error: string | undefined;
  let stderrTail: string | undefined;
  try {
    const backends = await abortable(
      startBackends(sup, cell.params, spec.backend, hooks.backendsMain ?? DEFAULT_BACKENDS_MAIN),
      hooks.signal,
    );
    // target direct: no proxy; the generator talks to the first backend endpoint, the baseline for the proxy's cost.
    const proxy =
      cell.params.target === 'direct'
        ? undefined
        : await abortable(startProxy(sup, cell.params, backends, hooks.proxyMain ?? DEFAULT_PROXY_MAIN), hooks.signal);
    startMs = Date.now() - startedAt.getTime();
    const url = proxy ? proxy.url : `http://${backends.host}:${backends.ports[0]}/`;
    const options = loadOptionsFor(cell, spec, plan, url);
    if (plan.warmupMs > 0) {
      // A separate, discarded run, so that the proxy's CPU time below covers the measured window only.
      hooks.onRepStart?.(-1);
      await abortable(generate({ ...options, durationMs: plan.warmupMs }, (t) => hooks.onTick?.(-1, t), hooks.signal), hooks.signal);
    }
    for (let rep = 0; rep < plan.reps; rep++) {
      hooks.onRepStart?.(rep);
      const cpuBefore = cpuSeconds(proxy?.child.pid);
      const result = await abortable(
        generate(options, (t) => hooks.onTick?.(rep, t), hooks.signal),
        hooks.signal,
      );
      if (proxy) result.proxy = { cpuS: cpuSeconds(proxy.child.pid) - cpuBefore, peakRssBytes: peakRssBytes(proxy.child.pid) };
      for (const child of proxy ? [proxy.child, backends.child] : [backends.child]) {
        if (child.hasExited()) throw new Error(`${await child.exited} during repetition ${rep + 1}`);
      }
      reps.push(result);
    }
  } catch (err) {
    if (err instanceof InterruptedError) {
      await sup.stopAll();
      throw err;
    }
    error = (err as Error).message;
    stderrTail = sup.stderrTails() || undefined;
  }
  const stopStart = Date.now();
  await sup.stopAll();
  const stopMs = Date.now() - stopStart;
  const failed = error !== undefined;
  return {
    id: cell.id,
    params: cell.params,
    axes: cell.axes as Record<string, string | number | boolean>,
    status: failed ? 'failed' : 'ok',
    ...(failed ? { error, stderrTail } : {}),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    overheadMs: { start: startMs, stop: stopMs },
    reps,
    ...(reps.length > 0 ? { summary: summarize(reps) } : {}),
  };
}

function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(new InterruptedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new InterruptedError());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
