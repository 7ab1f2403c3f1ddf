// `--prometheus`: Debian's prometheus and prometheus-pushgateway on 127.0.0.1 for one run, with the committed
// config (grafana/prometheus/prometheus.yml) copied beside the run's results and Prometheus's data folder kept
// there, so the run's every series can be looked at later. Both go through the Supervisor: stopped on success,
// error and Ctrl-C.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireBinary } from '../../common/binaries.js';
import { freePort } from '../orchestrator/ports.js';
import { Supervisor, waitForHttpReady, type Child } from '../orchestrator/supervisor.js';

export const PROMETHEUS_CONFIG = fileURLToPath(new URL('../../../grafana/prometheus/prometheus.yml', import.meta.url));

/**
 * Blocks older than Prometheus's retention are deleted when it opens a data folder (default 15 days): a run's
 * folder opened a year later must say a longer one.
 */
export const RETENTION = '10y';

const READY_TIMEOUT_MS = 20_000;

export { MissingToolError, requireBinary } from '../../common/binaries.js';

export interface PrometheusStack {
  /** The folder holding prometheus.yml, targets/ and data/. */
  dir: string;
  targetsDir: string;
  dataDir: string;
  prometheusUrl: string;
  pushgatewayUrl: string;
  /** Resolves once every active target has been scraped after `sinceMs` (epoch ms), or rejects after `timeoutMs`. */
  waitForScrape(sinceMs: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the pushgateway then Prometheus, each ready, in `dir`. The caller writes the targets (file-sd.ts). */
/** Both binaries on PATH, or a MissingToolError naming the Debian package. */
export async function requirePrometheusTools(): Promise<void> {
  await requireBinary('prometheus', 'prometheus');
  await requireBinary('prometheus-pushgateway', 'prometheus-pushgateway');
}

export async function startPrometheusStack(dir: string): Promise<PrometheusStack> {
  await requirePrometheusTools();
  if (!existsSync(PROMETHEUS_CONFIG)) throw new Error(`${PROMETHEUS_CONFIG}: missing (the Prometheus config sluice ships)`);
  const targetsDir = join(dir, 'targets');
  const dataDir = join(dir, 'data');
  mkdirSync(targetsDir, { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  const config = join(dir, 'prometheus.yml');
  copyFileSync(PROMETHEUS_CONFIG, config);
  const sup = new Supervisor();
  try {
    const pgPort = await freePort();
    const pushgateway = sup.startExecutable('prometheus-pushgateway', 'prometheus-pushgateway', [
      `--web.listen-address=127.0.0.1:${pgPort}`,
      // Debian's default persists to a file every pushgateway on the machine shares; the run's own keeps the
      // run's groups only (another's untyped group would make it refuse ours).
      `--persistence.file=${join(dir, 'pushgateway.data')}`,
    ]);
    const pushgatewayUrl = `http://127.0.0.1:${pgPort}`;
    await waitForHttpReady(`${pushgatewayUrl}/-/ready`, pushgateway, READY_TIMEOUT_MS);
    const promPort = await freePort();
    const prometheus = sup.startExecutable('prometheus', 'prometheus', [
      `--config.file=${config}`,
      `--storage.tsdb.path=${dataDir}`,
      `--storage.tsdb.retention.time=${RETENTION}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ]);
    const prometheusUrl = `http://127.0.0.1:${promPort}`;
    await waitForHttpReady(`${prometheusUrl}/-/ready`, prometheus, READY_TIMEOUT_MS);
    return {
      dir,
      targetsDir,
      dataDir,
      prometheusUrl,
      pushgatewayUrl,
      waitForScrape: (sinceMs, timeoutMs = 15_000) => waitForScrape(prometheusUrl, prometheus, sinceMs, timeoutMs),
      stop: () => sup.stopAll(10_000),
    };
  } catch (err) {
    const tails = sup.stderrTails();
    await sup.stopAll();
    throw new Error(`--prometheus: ${(err as Error).message}${tails ? `\n${tails}` : ''}`);
  }
}

interface TargetsAnswer {
  data: { activeTargets: { scrapeUrl: string; lastScrape: string; health: string }[] };
}

async function waitForScrape(prometheusUrl: string, prometheus: Child, sinceMs: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let waiting = 'no answer';
  while (Date.now() < deadline) {
    if (prometheus.hasExited()) throw new Error(`${await prometheus.exited} while waiting for a scrape`);
    try {
      const res = await fetch(`${prometheusUrl}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(1000) });
      const { data } = (await res.json()) as TargetsAnswer;
      const late = data.activeTargets.filter((t) => Date.parse(t.lastScrape) <= sinceMs || t.health !== 'up');
      if (data.activeTargets.length > 0 && late.length === 0) return;
      waiting = late.map((t) => `${t.scrapeUrl} (${t.health})`).join(', ') || 'no active target';
    } catch (err) {
      waiting = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Prometheus did not scrape every target within ${timeoutMs} ms: ${waiting}`);
}
