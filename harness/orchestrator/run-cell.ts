// One matrix cell: start backends and proxy, open the generator's connections once, warm up, measure each
// repetition on those same connections (reading the proxy's CPU and memory over each window and its /metrics
// around each repetition), stop everything. Failures become a failed cell with the proxy's stderr, never an
// exception out of here.
import type { Cell } from '../matrix/cells.js';
import type { MatrixSpec } from '../matrix/schema.js';
import type { LoadOptions } from '../load/types.js';
import { openGeneratorSession, type LoadSession } from '../load/generate.js';
import type { CellResult, MeasuredRep } from '../results/model.js';
import { summarize } from '../results/summary.js';
import { startBackends, startProxy, DEFAULT_BACKENDS_MAIN, DEFAULT_PROXY_MAIN } from './launch.js';
import { scrape } from './metrics-scrape.js';
import { ProcessSampler } from './process-sampler.js';
import { proxyMetricsDelta } from './proxy-metrics.js';
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
  const reps: MeasuredRep[] = [];
  let startMs = 0;
  let error: string | undefined;
  let stderrTail: string | undefined;
  let session: LoadSession | undefined;
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
    const opened = (session = await abortable(openGeneratorSession(options), hooks.signal));
    const run = (rep: number, durationMs: number, onPhase?: (phase: 'measure' | 'done') => void): Promise<MeasuredRep> =>
      abortable(
        opened.run({ warmupMs: 0, durationMs }, { onTick: (t) => hooks.onTick?.(rep, t), ...(hooks.signal ? { signal: hooks.signal } : {}), ...(onPhase ? { onPhase } : {}) }),
        hooks.signal,
      );
    if (plan.warmupMs > 0) {
      // Its own run, not recorded, on the connections the repetitions then use.
      hooks.onRepStart?.(-1);
      await run(-1, plan.warmupMs);
    }
    const sampler = new ProcessSampler(proxy?.child.pid);
    const metricsUrl = proxy ? `${proxy.adminUrl}/metrics` : undefined;
    for (let rep = 0; rep < plan.reps; rep++) {
      hooks.onRepStart?.(rep);
      const before = metricsUrl ? await scrape(metricsUrl) : [];
      // The proxy's CPU and memory over the measured window only (not the drain nor the gap between repetitions).
      let window: ReturnType<ProcessSampler['stop']> | undefined;
      const result = await run(rep, plan.durationMs, (phase) => {
        if (phase === 'measure') sampler.start();
        else window = sampler.stop();
      });
      window ??= sampler.stop();
      if (proxy) {
        const after = metricsUrl ? await scrape(metricsUrl) : [];
        // An unanswered scrape reads as no samples: a delta against it would be the proxy's whole life.
        const metrics = before.length > 0 && after.length > 0 ? proxyMetricsDelta(before, after) : undefined;
        result.proxy = { cpuS: window.cpuS, peakRssBytes: window.peakRssBytes, endRssBytes: window.endRssBytes, ...(metrics ? { metrics } : {}) };
      }
      for (const child of proxy ? [proxy.child, backends.child] : [backends.child]) {
        if (child.hasExited()) throw new Error(`${await child.exited} during repetition ${rep + 1}`);
      }
      reps.push(result);
    }
  } catch (err) {
    if (err instanceof InterruptedError) {
      await session?.close();
      await sup.stopAll();
      throw err;
    }
    error = (err as Error).message;
    stderrTail = sup.stderrTails() || undefined;
  }
  await session?.close();
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
    ...(session?.connect ? { connect: session.connect } : {}),
    reps,
    ...(reps.length > 0 ? { summary: await summarize(reps, plan.timeoutMs) } : {}),
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
