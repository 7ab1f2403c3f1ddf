// nghttpx (nghttp2's reverse proxy, Debian's nghttp2-proxy) as the proxy under test. A cell becomes flags only
// (no config file: --conf=/dev/null so /etc/nghttpx/nghttpx.conf is never read); nghttpx runs as one process
// (--single-process), so the Supervisor's child is the process whose CPU and memory a cell samples. The cell's
// windows go to both sides, as ours; what nghttpx cannot express (adaptive windows, sluice's own switches, the
// control plane, a scenario's sluice flags) excludes the cell with the reason. README.md: ## nghttpx.
import http2 from 'node:http2';
import { execa } from 'execa';
import { findBinary, missingBinaryMessage } from '../../common/binaries.js';
import { AXES, axesOf, type AxisName } from '../matrix/axes.js';
import type { CellParams } from '../matrix/axes.js';
import { ExitedBeforeReadyError, type Child, type Supervisor } from '../orchestrator/supervisor.js';
import type { ProxyCellSpec, ProxyConfig, ProxyDriver, RunningProxy } from './driver.js';

export const NGHTTPX_MISSING = missingBinaryMessage('nghttpx', 'nghttp2-proxy');

/** What our proxy advertises (proxy/src/flags.ts --max-concurrent-streams), so no proxy's limit is what a cell measures. */
export const NGHTTPX_MAX_CONCURRENT_STREAMS = 1024;

/** Every read, write and keep-alive timeout a cell could run into, as our proxy's --downstream-idle-timeout (1h). */
export const NGHTTPX_LONG_TIMEOUT = '1h';

/** The environment variable that sets nghttpx's worker threads (--workers); 1 when unset. */
export const NGHTTPX_WORKERS_ENV = 'SLUICE_NGHTTPX_WORKERS';
const MAX_WORKERS = 256;

const READY_TIMEOUT_MS = 15_000;

export interface NghttpxOptions {
  /** nghttpx's --workers: event-loop threads, each with its own backend connections and balancer state. */
  workers: number;
}

/** The driver's options from the environment: SLUICE_NGHTTPX_WORKERS (default 1). Throws on a value that is not a count. */
export function nghttpxOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): NghttpxOptions {
  const raw = env[NGHTTPX_WORKERS_ENV]?.trim();
  if (raw === undefined || raw === '') return { workers: 1 };
  const workers = Number(raw);
  if (!/^\d+$/.test(raw) || workers < 1 || workers > MAX_WORKERS) {
    throw new Error(`${NGHTTPX_WORKERS_ENV} must be a whole number from 1 to ${MAX_WORKERS} (nghttpx's --workers), not '${raw}'`);
  }
  return { workers };
}

/** The proxy axes this driver translates; every other proxy axis runs only at its default. */
const TRANSLATED = new Set<AxisName>(['streamWindow', 'connWindow', 'adaptive', 'h1PoolIdleTimeoutMs']);

/** What each of sluice's own settings is, for the exclusion reason (nghttpx has no switch for any of them). */
const SLUICE_ONLY: Partial<Record<AxisName, string>> = {
  h1ReuseGuard: "sluice's guard against reusing an HTTP/1.1 connection in the turn it was released",
  h1Reissue: "sluice's reissue of an idempotent request reset on a reused HTTP/1.1 connection",
  delayedCloseMs: "sluice's delayed close after an early response",
  failfastMs: "sluice's fail-fast timeout",
  absorbCancels: "sluice's absorbing of cancelled requests (rapid reset)",
  controlConnWindow: "the window of sluice's control-plane client",
};

/** Why nghttpx cannot run the cell as it says, or undefined. Pure. */
export function nghttpxUnsupported(params: CellParams, scenario: { discovery: boolean; extraFlags: readonly string[] }): string | undefined {
  if (scenario.discovery) return 'nghttpx: this scenario runs on sluice only: it needs the control plane (Destination discovery)';
  if (scenario.extraFlags.length > 0) {
    return `nghttpx: this scenario runs on sluice only: it needs its flags for sluice (${scenario.extraFlags.join(' ')})`;
  }
  if (params.adaptive) return 'nghttpx: no adaptive flow control';
  for (const axis of axesOf('proxy')) {
    if (TRANSLATED.has(axis) || params[axis] === AXES[axis].default) continue;
    const what = SLUICE_ONLY[axis] ?? 'a proxy setting the nghttpx driver does not translate';
    return `nghttpx: cannot set ${axis}=${String(params[axis])} (sluice only: ${what}; nghttpx has no switch for it)`;
  }
  return undefined;
}

/** HOST:PORT or [V6]:PORT as nghttpx's HOST,PORT (an IPv6 address without brackets). */
export function nghttpxAddress(hostPort: string): string {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(hostPort);
  if (!m) throw new Error(`nghttpx: not a HOST:PORT address: '${hostPort}'`);
  return `${m[1] ?? m[2]},${m[3]}`;
}

/** A duration in ms as nghttpx reads it (0: nghttpx arms no timer, i.e. never). */
const ms = (n: number): string => `${n}ms`;

/** nghttpx's flags for one cell. Pure: the same spec and options always give the same list. Throws for a cell it cannot run. */
export function nghttpxArgs(spec: ProxyCellSpec, options: NghttpxOptions): string[] {
  const why = nghttpxUnsupported(spec.params, { discovery: !('endpoints' in spec.discovery), extraFlags: spec.extraFlags });
  if (why) throw new Error(why);
  if (!('endpoints' in spec.discovery) || spec.discovery.endpoints.length === 0) throw new Error('nghttpx: a cell needs at least one endpoint');
  const proto = spec.upstreamProtocol === 'h2' ? 'h2' : 'http/1.1';
  const { params } = spec;
  return [
    '--conf=/dev/null',
    '--single-process',
    `--workers=${options.workers}`,
    '--no-ocsp',
    `--frontend=${nghttpxAddress(spec.listen)};no-tls`,
    // One pattern-less group: the endpoints are balanced together (weighted round robin, equal weights).
    ...spec.discovery.endpoints.map((e) => `--backend=${nghttpxAddress(e)};;proto=${proto}`),
    `--frontend-http2-window-size=${params.streamWindow}`,
    `--frontend-http2-connection-window-size=${params.connWindow}`,
    `--backend-http2-window-size=${params.streamWindow}`,
    `--backend-http2-connection-window-size=${params.connWindow}`,
    `--frontend-http2-max-concurrent-streams=${NGHTTPX_MAX_CONCURRENT_STREAMS}`,
    `--backend-http2-max-concurrent-streams=${NGHTTPX_MAX_CONCURRENT_STREAMS}`,
    `--backend-keep-alive-timeout=${ms(params.h1PoolIdleTimeoutMs)}`,
    `--frontend-http2-read-timeout=${NGHTTPX_LONG_TIMEOUT}`,
    `--frontend-read-timeout=${NGHTTPX_LONG_TIMEOUT}`,
    `--frontend-write-timeout=${NGHTTPX_LONG_TIMEOUT}`,
    `--frontend-keep-alive-timeout=${NGHTTPX_LONG_TIMEOUT}`,
    '--stream-write-timeout=0',
    `--backend-read-timeout=${NGHTTPX_LONG_TIMEOUT}`,
    `--backend-write-timeout=${NGHTTPX_LONG_TIMEOUT}`,
    '--errorlog-file=/dev/stderr',
    '--log-level=WARN',
  ];
}

/** Where nghttpx is: on PATH, or in an sbin folder a user's PATH may lack (Debian installs /usr/sbin/nghttpx). */
export function findNghttpx(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return findBinary('nghttpx', env);
}

/** What the frontend must advertise once nghttpx runs with the cell's flags. */
interface Expected {
  streamWindow: number;
  connWindow: number;
}

type Probe = { ok: true } | { ok: false; retry: boolean; why: string };

/**
 * One look at the frontend: an h2c connection whose SETTINGS carry the cell's stream window and our
 * concurrency limit, and whose connection window (read after a PING round trip, so nghttpx's WINDOW_UPDATE
 * has arrived) is the cell's. No request is sent: a backend that is slow, refuses or counts requests in a
 * scenario must neither delay readiness nor see an extra request.
 */
function probe(url: string, expected: Expected, timeoutMs: number): Promise<Probe> {
  return new Promise<Probe>((resolve) => {
    const session = http2.connect(url);
    const timer = setTimeout(() => done({ ok: false, retry: true, why: 'no SETTINGS within the probe timeout' }), timeoutMs);
    function done(result: Probe): void {
      clearTimeout(timer);
      session.destroy();
      resolve(result);
    }
    session.on('error', (err: Error) => done({ ok: false, retry: true, why: err.message }));
    session.once('remoteSettings', (settings: http2.Settings) => {
      session.ping((err) => {
        if (err) return done({ ok: false, retry: true, why: err.message });
        const got = {
          initialWindowSize: settings.initialWindowSize,
          maxConcurrentStreams: settings.maxConcurrentStreams,
          connWindow: session.state.remoteWindowSize,
        };
        const want = { initialWindowSize: expected.streamWindow, maxConcurrentStreams: NGHTTPX_MAX_CONCURRENT_STREAMS, connWindow: expected.connWindow };
        if (got.initialWindowSize === want.initialWindowSize && got.maxConcurrentStreams === want.maxConcurrentStreams && got.connWindow === want.connWindow) {
          return done({ ok: true });
        }
        done({ ok: false, retry: false, why: `nghttpx advertised ${JSON.stringify(got)}, its flags say ${JSON.stringify(want)}` });
      });
    });
  });
}

/** Polls the frontend until nghttpx answers as configured; fails if it exits first, advertises other settings, or time runs out. */
async function waitForNghttpx(child: Child, url: string, expected: Expected, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.hasExited()) throw new ExitedBeforeReadyError(`${await child.exited} before ${url} was ready`, child.stderrTail());
    const result = await probe(url, expected, Math.min(1000, Math.max(1, deadline - Date.now())));
    if (result.ok) return;
    if (!result.retry) throw new Error(result.why);
    last = result.why;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`nghttpx at ${url} was not ready within ${timeoutMs} ms (${last})`);
}

/**
 * The driver with its options and binary found by the functions given (tests); `nghttpxDriver` reads the
 * options from the environment at each use and finds nghttpx on PATH or in /usr/sbin.
 */
export function createNghttpxDriver(options: () => NghttpxOptions, locate: () => string | undefined = () => findNghttpx()): ProxyDriver {
  const configure = (spec: ProxyCellSpec): ProxyConfig => ({ command: ['nghttpx', ...nghttpxArgs(spec, options())] });
  return {
    name: 'nghttpx',
    unsupported: nghttpxUnsupported,
    configure,
    async start(sup: Supervisor, spec: ProxyCellSpec): Promise<RunningProxy> {
      const config = configure(spec);
      const file = locate();
      if (!file) throw new Error(NGHTTPX_MISSING);
      const child = sup.startExecutable('proxy', file, config.command.slice(1));
      const url = `http://${spec.listen}/`;
      try {
        await waitForNghttpx(child, url, { streamWindow: spec.params.streamWindow, connWindow: spec.params.connWindow }, READY_TIMEOUT_MS);
      } catch (err) {
        const tail = child.stderrTail().trim();
        throw new Error(`${(err as Error).message}${tail ? `\n--- nghttpx stderr ---\n${tail}` : ''}`, { cause: err });
      }
      return { child, url, config };
    },
    async version(): Promise<string> {
      const file = locate();
      if (!file) throw new Error(NGHTTPX_MISSING);
      const r = await execa(file, ['--version'], { reject: false, timeout: 5000 });
      const first = String(r.stdout).split('\n')[0]?.trim() ?? '';
      if (r.failed || first === '') throw new Error(`${file} --version failed: ${String(r.stderr).trim() || r.message}`);
      return first;
    },
  };
}

export const nghttpxDriver: ProxyDriver = createNghttpxDriver(() => nghttpxOptionsFromEnv());
