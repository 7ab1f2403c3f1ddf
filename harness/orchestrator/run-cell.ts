// One matrix cell: start its processes (backends, links, control plane, proxy: topology.ts), open the
// generator's connections once (and an attacker's beside them, for scenarios with one), warm up, measure each
// repetition on those same connections while the scenario's timeline plays (scenario-run.ts), reading the
// proxy's and the links' CPU and memory over each window and the proxy's /metrics around each repetition;
// stop everything. Failures become a failed cell with the processes' stderr, never an exception out of here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cell } from '../matrix/cells.js';
import type { MatrixSpec } from '../matrix/schema.js';
import type { LoadOptions, RepResult } from '../load/types.js';
import { PROTOCOL_ENTRIES, streamsPerConnection } from '../load/protocols.js';
import type { LiveDelta } from '../load/statistic/live.js';
import { latencyFlag } from '../../workloads/backends/latency.js';
import { SCENARIOS } from '../../workloads/scenarios/index.js';
import type { BackendFaults, ClientSetup, ScenarioSetup } from '../../workloads/scenarios/types.js';
import { openGeneratorSession, type LoadSession } from '../load/generate.js';
import type { CellProxy, CellResult, LinkRepRecord, MeasuredRep } from '../results/model.js';
import { summarize } from '../results/summary.js';
import { readLinkStats } from './link-stats.js';
import { nativeDelta, scrape } from './metrics-scrape.js';
import { ProcessSampler, type ProcessWindow } from './process-sampler.js';
import { proxyMetricsDelta } from './proxy-metrics.js';
import { Supervisor } from './supervisor.js';
import type { ChildCpus } from './pinning.js';
import { ScenarioRun } from './scenario-run.js';
import { startTopology, type Mains, type Topology } from './topology.js';
import { isOurProxy, proxyVersion } from '../proxies/registry.js';

export interface CellPlan {
  durationMs: number;
  warmupMs: number;
  reps: number;
  timeoutMs: number;
}

export interface CellHooks extends Mains {
  onRepStart?(rep: number): void;
  onTick?(rep: number, t: { elapsedS: number; requests: number; errors: number; phase: string }): void;
  /** The generator's outcomes since the last call, whatever their window (live /metrics), about once a second. */
  onLive?(delta: LiveDelta): void;
  /** The cell's processes are up: where their metrics are read (live /metrics, Prometheus's file_sd targets). */
  onTargets?(targets: CellTargets): void;
  /** Aborted (Ctrl-C): the cell stops as soon as it can and is reported as interrupted. */
  signal?: AbortSignal;
  /** The CPUs of each child process (--pin). */
  cpus?: ChildCpus;
}

/** Where a running cell's processes answer: the proxy's Prometheus metrics (absent for direct cells and proxies without any) and each link's admin. */
export interface CellTargets {
  proxyMetricsUrl?: string;
  /** The proxy's process (any driver's: one process each), whose CPU and memory a live /metrics reads from /proc. */
  proxyPid?: number;
  links: { role: LinkRepRecord['role']; adminUrl: string }[];
}

export class InterruptedError extends Error {
  constructor() {
    super('interrupted');
  }
}

/**
 * The generator's options for a cell: its protocol and payload, its share of the concurrency, its windows; a
 * scenario's client settings (or its attacker's, `client`) over them.
 */
export function loadOptionsFor(cell: Cell, spec: MatrixSpec, plan: CellPlan, url: string, client: ClientSetup = {}, traceMs?: number): LoadOptions {
  const p = cell.params;
  const concurrency = client.concurrency ?? p.concurrency;
  // h1 has one request in flight per connection; h2 and gRPC multiplex concurrency over `connections`.
  const connections = !PROTOCOL_ENTRIES[p.protocol].multiplexed ? concurrency : Math.min(client.connections ?? p.connections, concurrency);
  // large-body sends as much as it asks for, unless the cell sizes the request itself.
  const bodyBytes = client.bodyBytes ?? (p.scenario === 'large-body' && p.requestBytes === 0 ? p.responseBytes : p.requestBytes);
  const method = client.method ?? (p.scenario === 'large-body' ? 'POST' : bodyBytes > 0 && spec.request.method === 'GET' ? 'POST' : spec.request.method);
  const payload = p.scenario === 'large-body' || p.scenario === 'server-streaming' ? p.scenario : 'unary';
  return {
    url,
    protocol: p.protocol,
    connections,
    streamsPerConnection: streamsPerConnection(p.protocol, Math.max(1, Math.round(concurrency / connections))),
    durationMs: plan.durationMs,
    warmupMs: 0,
    timeoutMs: client.timeoutMs ?? plan.timeoutMs,
    method,
    bodyBytes,
    responseBytes: client.responseBytes ?? p.responseBytes,
    scenario: payload,
    ...(payload === 'server-streaming' ? { streamMessages: p.streamMessages } : {}),
    h2StreamWindow: client.streamWindow ?? p.clientStreamWindow,
    h2ConnWindow: client.connWindow ?? p.clientConnWindow,
    ...(client.rate !== undefined ? { rate: client.rate } : {}),
    ...(client.receiver ? { receiver: client.receiver } : {}),
    ...(client.stallStreams !== undefined ? { stallStreams: client.stallStreams } : {}),
    ...(client.attack ? { attack: client.attack } : {}),
    ...(traceMs !== undefined ? { trace: { bucketMs: traceMs } } : {}),
    // Results written before the key existed have no generator: theirs was sluice.
    generator: spec.generator ?? 'sluice',
  };
}

/** The backends' faults of a cell: the matrix's `backend:` keys, and the scenario's on top. */
function faultsOf(spec: MatrixSpec, setup: ScenarioSetup): BackendFaults {
  const { latency: _latency, responseBytes: _bytes, ...matrix } = spec.backend;
  return { ...matrix, ...setup.backend };
}

/**
 * One visit of a cell: its processes started, warmed up, `plan.reps` repetitions measured, stopped. `firstRep`
 * numbers them within the cell when a run visits it once per repetition (interleaved).
 */
export async function runCell(cell: Cell, spec: MatrixSpec, plan: CellPlan, hooks: CellHooks = {}, firstRep = 0): Promise<CellResult> {
  const sup = new Supervisor(hooks.cpus);
  const startedAt = new Date();
  const reps: MeasuredRep[] = [];
  let startMs = 0;
  let error: string | undefined;
  let stderrTail: string | undefined;
  let session: LoadSession | undefined;
  let attackerSession: LoadSession | undefined;
  let topology: Topology | undefined;
  let proxyRecord: CellProxy | undefined;
  // The proxy's config files (another proxy's driver writes them), removed with the cell's processes.
  const workDir = mkdtempSync(join(tmpdir(), 'sluice-cell-'));
  const ours = isOurProxy(cell.params.proxy);
  try {
    const step = <T>(work: Promise<T>): Promise<T> => abortable(work, hooks.signal);
    const scenario = SCENARIOS[cell.params.scenario];
    const setup = scenario.setup(cell.params);
    const faults = faultsOf(spec, setup);
    // Asked once per run (cached by the registry); a proxy that is not installed fails the cell here, before any start.
    const name = cell.params.proxy;
    const version = cell.params.target === 'direct' ? undefined : await step(proxyVersion(name));
    const onProxyConfig = (config: CellProxy['config']): void => {
      if (version !== undefined) proxyRecord = { name, version, config };
    };
    topology = await startTopology(sup, cell.params, { latency: spec.backend.latency, faults }, setup, { mains: hooks, step, workDir, onProxyConfig });
    startMs = Date.now() - startedAt.getTime();
    const { proxy, links } = topology;
    hooks.onTargets?.({
      ...(proxy?.metricsUrl ? { proxyMetricsUrl: proxy.metricsUrl } : {}),
      ...(proxy?.child.pid !== undefined ? { proxyPid: proxy.child.pid } : {}),
      links: links.map((l) => ({ role: l.role, adminUrl: l.link.adminUrl })),
    });
    const options = loadOptionsFor(cell, spec, plan, topology.url, setup.client, setup.traceMs);
    const opened = (session = await step(openGeneratorSession(options)));
    const attacker = setup.attacker ? (attackerSession = await step(openGeneratorSession(loadOptionsFor(cell, spec, plan, topology.url, setup.attacker)))) : undefined;
    const timeline = new ScenarioRun(scenario, setup, topology, faults.slowLatency ?? latencyFlag(spec.backend.latency));
    const run = (rep: number, durationMs: number, onPhase?: (phase: 'measure' | 'done') => void): Promise<MeasuredRep> =>
      // Each repetition opens its window on a refilled pipeline when the cell warms up at all (the previous run
      // drained it); a cell without warm-up measures cold on purpose (the ramp of a connection's first calls).
      step(opened.run({ warmupMs: 0, durationMs, turnover: plan.warmupMs > 0 }, { onTick: (t) => hooks.onTick?.(rep, t), ...(hooks.onLive ? { onLive: hooks.onLive } : {}), ...(hooks.signal ? { signal: hooks.signal } : {}), ...(onPhase ? { onPhase } : {}) }));
    if (plan.warmupMs > 0) {
      // Its own run, not recorded, on the connections the repetitions then use.
      hooks.onRepStart?.(-1);
      await run(-1, plan.warmupMs);
    }
    const proxySampler = new ProcessSampler(proxy?.child.pid);
    const linkSamplers = links.map((l) => new ProcessSampler(l.link.child.pid));
    const metricsUrl = proxy?.metricsUrl;
    for (let rep = firstRep; rep < firstRep + plan.reps; rep++) {
      hooks.onRepStart?.(rep);
      await step(timeline.reset());
      const before = metricsUrl ? await scrape(metricsUrl) : [];
      // CPU and memory over the measured window only (not the drain nor the gap between repetitions).
      let window: ProcessWindow | undefined;
      let linkWindows: ProcessWindow[] = [];
      let attacking: Promise<RepResult> | undefined;
      const result = await run(rep, plan.durationMs, (phase) => {
        if (phase === 'measure') {
          proxySampler.start();
          for (const s of linkSamplers) s.start();
          timeline.windowOpened();
          // The attacker's window runs beside the well-behaved client's, started as it opens.
          attacking = attacker?.run({ warmupMs: 0, durationMs: plan.durationMs, turnover: false }, hooks.signal ? { signal: hooks.signal } : {});
        } else {
          window = proxySampler.stop();
          linkWindows = linkSamplers.map((s) => s.stop());
          timeline.windowClosed();
        }
      });
      window ??= proxySampler.stop();
      const attackerRep = attacking ? await step(attacking) : undefined;
      if (attackerRep) result.attacker = attackerRep;
      result.scenario = await timeline.outcome(result, window, attackerRep, cell.params);
      if (proxy) {
        const after = metricsUrl ? await scrape(metricsUrl) : [];
        // An unanswered scrape reads as no samples: a delta against it would be the proxy's whole life.
        const read = before.length > 0 && after.length > 0;
        // Ours by the names it documents; another proxy by its own names, summed (metrics-scrape.ts nativeDelta).
        const metrics = read && ours ? proxyMetricsDelta(before, after) : undefined;
        const native = read && !ours ? nativeDelta(before, after) : undefined;
        result.proxy = { cpuS: window.cpuS, peakRssBytes: window.peakRssBytes, endRssBytes: window.endRssBytes, ...(metrics ? { metrics } : {}), ...(native ? { native } : {}) };
      }
      if (links.length > 0) result.links = await Promise.all(links.map(async (l, i) => linkRecord(l.role, l.link.adminUrl, linkWindows[i])));
      for (const child of [topology.backends.child, ...(proxy ? [proxy.child] : []), ...links.map((l) => l.link.child)]) {
        if (child.hasExited()) throw new Error(`${await child.exited} during repetition ${rep + 1}`);
      }
      reps.push(result);
    }
  } catch (err) {
    if (err instanceof InterruptedError) {
      await session?.close();
      await attackerSession?.close();
      await sup.stopAll();
      rmSync(workDir, { recursive: true, force: true });
      throw err;
    }
    error = (err as Error).message;
    stderrTail = sup.stderrTails() || undefined;
  }
  await session?.close();
  await attackerSession?.close();
  const stopStart = Date.now();
  await sup.stopAll();
  const stopMs = Date.now() - stopStart;
  rmSync(workDir, { recursive: true, force: true });
  const failed = error !== undefined;
  const linkWarnings = (topology?.links ?? []).flatMap((l) => (l.link.warning ? [`${l.role}: ${l.link.warning}`] : []));
  return {
    id: cell.id,
    params: cell.params,
    axes: cell.axes as Record<string, string | number | boolean>,
    ...(proxyRecord ? { proxy: proxyRecord } : {}),
    status: failed ? 'failed' : 'ok',
    ...(failed ? { error, stderrTail } : {}),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    overheadMs: { start: startMs, stop: stopMs },
    visits: 1,
    ...(session?.connect ? { connect: session.connect } : {}),
    ...(topology && topology.links.length > 0 ? { links: topology.links.map((l) => ({ role: l.role, routes: l.link.listen.length, ...(l.link.warning ? { warning: l.link.warning } : {}) })) } : {}),
    ...(linkWarnings.length > 0 ? { warnings: linkWarnings } : {}),
    reps,
    ...(reps.length > 0 ? { summary: await summarize(reps, plan.timeoutMs) } : {}),
  };
}

/** A link's part of a repetition: its CPU over the window, and whether it kept up (its own /stats). */
async function linkRecord(role: LinkRepRecord['role'], adminUrl: string, window: ProcessWindow | undefined): Promise<LinkRepRecord> {
  const stats = await readLinkStats(adminUrl);
  return {
    role,
    cpuS: window?.cpuS ?? 0,
    saturated: stats?.saturated ?? false,
    ...(stats?.reason ? { reason: stats.reason } : {}),
    ...(stats ? { stats: stats.raw } : {}),
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
