// Reading a scenario's clock: the well-behaved client's outcomes by the time they arrived (trace buckets), the
// timeline's events, and the proxy's memory over the window. Pure functions the scenarios' outcomes share.
import type { ObservedEvent, Observations, ScenarioOutcome, TraceBucket } from './types.js';

/** The event named `name`, or undefined when the timeline did not get to it. */
export function eventNamed(observed: Observations, name: string): ObservedEvent | undefined {
  return observed.events.find((e) => e.name === name);
}

/** The first bucket at or after `fromMs` that satisfies `test`. */
export function firstBucket(trace: readonly TraceBucket[], fromMs: number, test: (b: TraceBucket) => boolean): TraceBucket | undefined {
  return trace.find((b) => b.t >= fromMs && test(b));
}

/** The last bucket in [fromMs, toMs) that satisfies `test`. */
export function lastBucket(trace: readonly TraceBucket[], fromMs: number, toMs: number, test: (b: TraceBucket) => boolean): TraceBucket | undefined {
  let found: TraceBucket | undefined;
  for (const b of trace) if (b.t >= fromMs && b.t < toMs && test(b)) found = b;
  return found;
}

export const errorCount = (b: TraceBucket): number => Object.values(b.errors).reduce((a, n) => a + n, 0);

/** Outcomes (successes and failures) that arrived in [fromMs, toMs). */
export function outcomesBetween(trace: readonly TraceBucket[], fromMs: number, toMs: number): { ok: number; failed: number } {
  let ok = 0;
  let failed = 0;
  for (const b of trace) {
    if (b.t < fromMs || b.t >= toMs) continue;
    ok += b.ok;
    failed += errorCount(b);
  }
  return { ok, failed };
}

/** The largest resident set size the proxy had in [fromMs, toMs) (0 when not sampled). */
export function peakMemory(observed: Observations, fromMs = -Infinity, toMs = Infinity): number {
  let peak = 0;
  for (const s of observed.proxyMemory) if (s.t >= fromMs && s.t < toMs && s.rssBytes > peak) peak = s.rssBytes;
  return peak;
}

/** Successes / requests of the well-behaved client, 0..1 (1 when nothing was sent: nothing failed). */
export function successShare(observed: Observations): number {
  return observed.requests > 0 ? observed.successes / observed.requests : 1;
}

/** Failed requests of the well-behaved client per 10 000. */
export function failuresPer10k(observed: Observations): number {
  return observed.requests > 0 ? ((observed.requests - observed.successes) / observed.requests) * 10_000 : 0;
}

/** The outcome of an adversarial scenario: the well-behaved client's P99 as headline, its failures, the proxy's peak memory, the attacker's record. */
export function besideAttacker(o: Observations): ScenarioOutcome {
  return {
    headline: { name: 'well-behaved P99', value: o.latencyMs.p99, unit: 'ms', better: 'lower' },
    wellBehavedFailures: o.requests - o.successes,
    peakRssBytes: peakMemory(o),
    attacker: o.attacker,
  };
}
