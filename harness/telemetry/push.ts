// `--push URL`: each cell's summary samples to a Prometheus pushgateway, one group per cell. PUT (prom-client's
// `push`) replaces the group whole, so a metric the newest run of the cell no longer has (a gate line removed)
// does not linger beside its values. The pushgateway refuses timestamps; the run's time travels as
// sluice_cell_measured_timestamp_seconds instead.
import { Gauge, Pushgateway, Registry } from 'prom-client';
import type { CellSamples, GroupingKey, SummarySample } from './summary-metrics.js';

/** A push that failed; the message is one line naming the URL, the group and what the pushgateway said. */
export class PushError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PushError';
  }
}

export interface PushOptions {
  /** Per group: the whole request, connect to answer. */
  timeoutMs: number;
}

/** Pushes the groups one after the other and stops at the first failure (a gateway that refuses one refuses the rest alike). */
export async function pushSummaries(url: string, groups: readonly CellSamples[], opts: PushOptions): Promise<{ pushed: number }> {
  checkUrl(url);
  let pushed = 0;
  for (const group of groups) {
    const registry = registryOf(group.samples);
    const gateway = new Pushgateway(url, { timeout: opts.timeoutMs, signal: AbortSignal.timeout(opts.timeoutMs) }, registry);
    const where = groupPath(group.grouping);
    try {
      await gateway.push({ jobName: group.grouping.job, groupings: groupingLabels(group.grouping) });
    } catch (err) {
      const done = pushed > 0 ? ` (${pushed} of ${groups.length} cells pushed before it)` : '';
      throw new PushError(`--push ${url}: ${describe(err, opts.timeoutMs)} for group ${where}${done}`);
    }
    pushed++;
  }
  return { pushed };
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PushError(`--push ${url}: not a URL (expected e.g. http://pushgateway:9091)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new PushError(`--push ${url}: expected an http:// or https:// URL`);
}

/** A fresh registry per group: a gauge per family, its label names those of its samples. */
function registryOf(samples: readonly SummarySample[]): Registry {
  const registry = new Registry();
  const families = new Map<string, SummarySample[]>();
  for (const s of samples) families.set(s.name, [...(families.get(s.name) ?? []), s]);
  for (const [name, members] of families) {
    const labelNames = [...new Set(members.flatMap((s) => Object.keys(s.labels)))];
    const gauge = new Gauge({ name, help: members[0]!.help, labelNames, registers: [registry] });
    for (const s of members) gauge.set(s.labels, s.value);
  }
  return registry;
}

/**
 * The grouping labels below the job in the URL. A value with a `/` (or an empty one) cannot be a path segment:
 * the pushgateway takes it base64url-encoded under `<label>@base64`.
 */
function groupingLabels(g: GroupingKey): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries({ instance: g.instance, matrix: g.matrix, cell: g.cell })) {
    if (v === '' || v.includes('/')) out[`${k}@base64`] = Buffer.from(v).toString('base64url') || '=';
    else out[k] = v;
  }
  return out;
}

function groupPath(g: GroupingKey): string {
  return `job=${g.job},instance=${g.instance},matrix=${g.matrix},cell=${g.cell}`;
}

/** prom-client's errors as one line: the status and body it read, a timeout, or the socket's error. */
function describe(err: unknown, timeoutMs: number): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const status = /^push failed with status (\d+), ([\s\S]*)$/.exec(e.message);
  if (status) return `pushgateway answered ${status[1]}${status[2]!.trim() ? ` (${status[2]!.trim().replace(/\s+/g, ' ')})` : ''}`;
  if (e.name === 'AbortError' || e.name === 'TimeoutError' || /timed out/.test(e.message)) return `no answer within ${timeoutMs} ms`;
  const code = (e as NodeJS.ErrnoException).code;
  return `cannot reach the pushgateway (${code ? `${code}: ` : ''}${e.message})`;
}
