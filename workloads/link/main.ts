// `npm run link -- FLAGS`: the emulated link, relaying every route until SIGTERM/SIGINT.
// stdout carries exactly one line, the ready event the orchestrator reads; diagnostics go to stderr.
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createAdmin } from './admin.js';
import { formatBandwidth } from './bandwidth.js';
import { calibrate, DELAYED_SHARE, type Calibration } from './calibrate.js';
import { ConfigError, helpText, parseLinkArgs, type LinkConfig } from './config.js';
import { LinkMetrics } from './link-metrics.js';
import { LinkStats } from './link-stats.js';
import { formatAddress, Relay } from './relay.js';
import { Wakes } from './wake.js';

/** After a stop signal, exit even if something will not close. */
const FORCE_EXIT_MS = 800;
const CPU_SAMPLE_MS = 1000;
const EXIT_BAD_FLAGS = 2;
const EXIT_START_FAILED = 1;

function log(message: string): void {
  process.stderr.write(`link: ${message}\n`);
}

async function main(): Promise<void> {
  let config: LinkConfig;
  try {
    const command = parseLinkArgs(process.argv.slice(2));
    if (command.kind === 'help') {
      process.stdout.write(helpText());
      return;
    }
    config = command.config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    log(`${err.message}\n(see --help)`);
    process.exit(EXIT_BAD_FLAGS);
  }

  const closers: Array<() => Promise<void>> = [];
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}, closing`);
    setTimeout(() => {
      log(`still closing after ${FORCE_EXIT_MS} ms; exiting anyway`);
      process.exit(0);
    }, FORCE_EXIT_MS).unref();
    Promise.all(closers.map((close) => close())).then(
      () => process.exit(0),
      (err: unknown) => {
        log(`error while closing: ${String(err)}`);
        process.exit(0);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  const { settings } = config;
  let calibration: Calibration | null = null;
  let warning: string | null = null;
  if (settings.bandwidthBps > 0) {
    calibration = await calibrate().catch((err: unknown) => {
      log(`calibration failed, going on without it: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    });
  }
  if (calibration) {
    const capacityBps = calibration.relayBps * DELAYED_SHARE;
    if (settings.bandwidthBps > capacityBps) {
      warning =
        `--bandwidth ${formatBandwidth(settings.bandwidthBps)} is above what this process can relay with delay ` +
        `(~${formatBandwidth(Math.round(capacityBps))}: ${DELAYED_SHARE} of the ${formatBandwidth(Math.round(calibration.relayBps))} ` +
        `it copied at start without delay): a transfer at full rate may fall behind the link's schedule; /stats says whether it did`;
      log(`warning: ${warning}`);
    }
  }
  if (stopping) return;

  const metrics = new LinkMetrics(settings);
  const stats = new LinkStats(metrics.observeLateness);
  metrics.bind(stats);
  const wakes = new Wakes(config.wake);
  closers.push(() => wakes.close());
  if (settings.rttMs > 0 || settings.bandwidthBps > 0) await wakes.warm();
  const relay = await Relay.start(config.routes, { settings, wakes, stats });
  closers.push(() => relay.close());

  const startedMs = performance.now();
  const cpuUs = (): number => {
    const { user, system } = process.cpuUsage();
    return user + system;
  };
  stats.sampleCpu(startedMs, cpuUs());
  setInterval(() => stats.sampleCpu(performance.now(), cpuUs()), CPU_SAMPLE_MS).unref();

  const routes = relay.routes.map((r) => ({ listen: formatAddress(r.listen), to: formatAddress(r.to) }));
  const admin = createAdmin({
    registry: metrics.registry,
    stats: () => {
      const now = performance.now();
      return {
        settings: { ...settings, bandwidth: formatBandwidth(settings.bandwidthBps), queueRule: config.queueRule, wake: config.wake },
        routes,
        uptimeS: Math.round(now - startedMs) / 1000,
        ...stats.snapshot(now),
        cpuS: Math.round(cpuUs() / 1000) / 1000,
        busiestCpuShare: Math.round(stats.busiestCpuShare * 1000) / 1000,
        wakeups: wakes.wakeups,
        calibration: calibration && { relayBps: Math.round(calibration.relayBps), tookMs: Math.round(calibration.tookMs) },
        warning,
        ...stats.saturation(),
      };
    },
  });
  await new Promise<void>((resolve, reject) => {
    admin.once('error', reject);
    admin.listen({ host: config.admin.host, port: config.admin.port, exclusive: true }, () => resolve());
  });
  closers.push(() => {
    const closed = new Promise<void>((resolve) => admin.close(() => resolve()));
    admin.closeAllConnections();
    return closed;
  });
  const adminAddress = formatAddress({ host: config.admin.host, port: (admin.address() as AddressInfo).port });

  const ready = { event: 'ready', routes, admin: adminAddress, ...(warning ? { warning } : {}) };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
}

main().catch((err: unknown) => {
  log(err instanceof Error ? err.message : String(err));
  process.exit(EXIT_START_FAILED);
});
