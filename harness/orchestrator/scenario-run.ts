// A scenario's timeline, played during each measured window, and its outcome. At each step's moment (from the
// window's opening) the orchestrator changes the backends' faults, the control plane's endpoints or profiles,
// or rolls a service's pods; it records when each step was applied and, for discovery changes, when the
// proxy's /metrics first showed the change (its balancer's endpoints). After the repetition the scenario turns
// what was observed into its outcome (workloads/scenarios/).
import { performance } from 'node:perf_hooks';
import type { RepResult } from '../load/types.js';
import type { MeasuredRep } from '../results/model.js';
import type { ObservedEvent, Observations, UploadOutcomes, ScenarioDef, ScenarioOutcome, ScenarioParams, ScenarioSetup, TimelineStep } from '../../workloads/scenarios/types.js';
import { setBackendFaults } from './backend-admin.js';
import { applyControlSteps } from './control-plane.js';
import { scrape } from './metrics-scrape.js';
import type { ProcessWindow } from './process-sampler.js';
import type { Topology } from './topology.js';
import { UploadProbe } from './upload-probe.js';

/** How often the proxy's /metrics is read while waiting for it to apply a discovery change. */
const WATCH_EVERY_MS = 25;
/** The proxy's gauge of the endpoints its balancer knows (one series per address). */
const ENDPOINT_GAUGE = 'sluice_proxy_balancer_endpoint';

export class ScenarioRun {
  private timers: NodeJS.Timeout[] = [];
  private openedAt = 0;
  private events: Promise<ObservedEvent>[] = [];
  private watching = true;
  private uploads: Promise<UploadOutcomes> | undefined;
  private readonly probe: UploadProbe | undefined;

  constructor(
    private readonly def: ScenarioDef,
    private readonly setup: ScenarioSetup,
    private readonly topology: Topology,
    /** The faulty set's latency when healthy (the backends' --slow-latency, else --latency), to restore it. */
    private readonly healthyLatency: string,
  ) {
    if (setup.uploader) this.probe = new UploadProbe(topology.url, setup.uploader.bodyBytes);
  }

  /** Before each repetition: the initial state again (every endpoint healthy and known), so reps are alike. */
  async reset(): Promise<void> {
    const { topology, setup } = this;
    if (setup.timeline?.some((s) => s.action.kind === 'faults') && topology.backends.adminUrl) {
      await setBackendFaults(topology.backends.adminUrl, { down: false, latency: this.healthyLatency, stallRead: false, refuse: null, resetShare: 0, failShare: 0 });
    }
    if (setup.controlPlane && topology.controlPlane) {
      await applyControlSteps(topology.controlPlane.adminUrl, [{ service: setup.controlPlane.service, set: topology.upstream }]);
    }
  }

  /** The window opened now: every step is scheduled from here. */
  windowOpened(): void {
    this.openedAt = performance.now();
    this.events = [];
    this.watching = true;
    this.probe?.start();
    for (const s of this.setup.timeline ?? []) {
      // Only a step that came due is awaited by outcome(): one the window's end dropped never settles.
      const due = (): void =>
        void this.events.push(
          this.apply(s).catch((err: unknown) => ({ name: `${s.name} (failed: ${err instanceof Error ? err.message : String(err)})`, appliedMs: this.since() })),
        );
      this.timers.push(setTimeout(due, Math.max(0, s.atMs)));
    }
  }

  /** The window closed: steps not yet due are dropped (a timeline longer than the window is the matrix's error). */
  windowClosed(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.uploads = this.probe?.stop();
  }

  /** The outcome of one repetition, from what the well-behaved client, the attacker and the proxy showed. */
  async outcome(rep: MeasuredRep, proxyWindow: ProcessWindow | undefined, attacker: RepResult | undefined, params: ScenarioParams): Promise<ScenarioOutcome & { events: ObservedEvent[] }> {
    this.watching = false;
    // A step that came due in the window settles soon (each waits at most a few seconds); later ones were dropped.
    const events = await Promise.race([Promise.all(this.events), new Promise<ObservedEvent[]>((r) => setTimeout(() => r([]), 6000).unref())]);
    const observed: Observations = {
      params,
      durationMs: rep.durationS * 1000,
      requests: rep.requests,
      successes: rep.successes,
      errors: rep.errors,
      latencyMs: { p50: rep.latencyMs.p50, p99: rep.latencyMs.p99, max: rep.latencyMs.max },
      rps: rep.rps,
      ...(rep.bodyBytesPerS !== undefined ? { bodyBytesPerS: rep.bodyBytesPerS } : {}),
      ...(rep.streaming ? { messagesPerS: rep.streaming.messagesPerS, messageLatencyMs: rep.streaming.messageLatencyMs } : {}),
      trace: rep.trace?.buckets ?? [],
      traceMs: rep.trace?.bucketMs ?? this.setup.traceMs ?? 100,
      events,
      proxyMemory: (proxyWindow?.series ?? []).map((s) => ({ t: s.atMs - this.openedAt, rssBytes: s.rssBytes })),
      ...(attacker ? { attacker: attackerView(attacker) } : {}),
      ...(this.uploads ? { uploads: await this.uploads } : {}),
    };
    return { ...this.def.outcome(observed), events };
  }

  private since(): number {
    return performance.now() - this.openedAt;
  }

  private async apply(step: TimelineStep): Promise<ObservedEvent> {
    const { topology } = this;
    const action = step.action;
    switch (action.kind) {
      case 'faults': {
        if (!topology.backends.adminUrl) throw new Error('the backends have no admin listener');
        await setBackendFaults(topology.backends.adminUrl, action.faults);
        return { name: step.name, appliedMs: this.since() };
      }
      case 'flood': {
        await applyControlSteps(this.controlPlaneUrl(), [{ service: action.service, flood: { rate: action.rate, for: `${action.forMs}ms`, kind: action.what } }]);
        return { name: step.name, appliedMs: this.since() };
      }
      case 'endpoints': {
        const set = action.set === 'initial' ? topology.upstream : [];
        await applyControlSteps(this.controlPlaneUrl(), [set.length > 0 ? { service: action.service, set } : { service: action.service, 'no-endpoints': true }]);
        const appliedMs = this.since();
        const proxyAppliedMs = await this.watchProxy(set);
        return { name: step.name, appliedMs, ...(proxyAppliedMs !== undefined ? { proxyAppliedMs } : {}) };
      }
      case 'roll': {
        const old = topology.backends.ports.map(String);
        const pods = await topology.morePods();
        await applyControlSteps(this.controlPlaneUrl(), [{ service: action.service, set: pods.upstream }]);
        const appliedMs = this.since();
        const proxyAppliedMs = await this.watchProxy(pods.upstream);
        return { name: step.name, appliedMs, newEndpoints: pods.ports.map(String), oldEndpoints: old, ...(proxyAppliedMs !== undefined ? { proxyAppliedMs } : {}) };
      }
    }
  }

  private controlPlaneUrl(): string {
    const url = this.topology.controlPlane?.adminUrl;
    if (!url) throw new Error('this scenario has no control plane');
    return url;
  }

  /** When the proxy's balancer knew exactly `addresses` (ms from the window's opening), while the repetition lasts. */
  private async watchProxy(addresses: string[]): Promise<number | undefined> {
    // Only our proxy runs scenarios with discovery (other proxies' cells of them are excluded), and it has metrics.
    const metricsUrl = this.topology.proxy?.metricsUrl;
    if (!metricsUrl) return undefined;
    const want = new Set(addresses);
    while (this.watching) {
      const samples = await scrape(metricsUrl);
      const known = new Set(samples.filter((s) => s.name === ENDPOINT_GAUGE && s.value > 0).map((s) => s.labels['address'] ?? ''));
      if (known.size === want.size && [...want].every((a) => known.has(a))) return this.since();
      await new Promise((r) => setTimeout(r, WATCH_EVERY_MS));
    }
    return undefined;
  }
}

function attackerView(r: RepResult): NonNullable<Observations['attacker']> {
  return {
    requests: r.requests,
    errors: r.errors,
    goaway: r.goawayReceived ?? {},
    ...(r.attack ? { streams: r.attack.streams, connectionsClosed: r.attack.connectionsClosed } : {}),
  };
}
