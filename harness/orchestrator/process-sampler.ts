// A process's CPU and memory over one measured window, from /proc (Linux). CPU is the difference of two
// readings, so it covers the window only; memory is sampled during the window, because the process's own
// peak (VmHWM) would also hold its start-up and every earlier repetition.
// Only the one pid is read: a proxy run as a tree of processes (a wrapper script, worker processes) would need
// its descendants summed too (/proc/PID/task/*/children); every proxy driver (harness/proxies/) runs its proxy
// as one process (ours is; nghttpx single-process, HAProxy without master-worker), so not done yet.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** USER_HZ: /proc/PID/stat counts utime and stime in these ticks. The kernel fixes it at 100 for user space
 *  on every Linux ABI Node runs on (`getconf CLK_TCK` says 100), whatever the kernel's own HZ is. */
const CLOCK_TICKS_PER_S = 100;

/** What one window measured. `samples` is 0 when nothing could be read: no pid (a `target: direct` cell has
 *  no proxy), no /proc, or a process already gone at start; every number is then 0. */
export interface ProcessWindow {
  /** CPU seconds (user + system, all threads) used from start() to stop(), or to the last reading before the
   *  process went away. */
  cpuS: number;
  /** The largest VmRSS sampled in the window (at start, every interval, at stop). */
  peakRssBytes: number;
  /** VmRSS at stop; if the process had gone by then, its last sampled VmRSS. */
  endRssBytes: number;
  /** RSS readings taken. */
  samples: number;
  /** Each RSS reading with its time (performance.now() ms): memory over the window, for a scenario's outcome. */
  series: { atMs: number; rssBytes: number }[];
}

export class ProcessSampler {
  private timer: NodeJS.Timeout | undefined;
  private cpuAtStart: number | undefined;
  private cpuLast: number | undefined;
  private peak = 0;
  private last = 0;
  private samples = 0;
  private series: ProcessWindow['series'] = [];

  /** `pid` undefined: there is no process to measure, and stop() reports zeros with `samples: 0`. */
  constructor(
    private readonly pid: number | undefined,
    private readonly intervalMs = 100,
  ) {}

  /** Reads the CPU time now and samples RSS now and every interval until stop(). Starting again begins a new
   *  window, so one sampler can measure every repetition of a cell. */
  start(): void {
    this.clearTimer();
    this.cpuAtStart = this.cpuLast = processCpuSeconds(this.pid);
    this.peak = this.last = this.samples = 0;
    this.series = [];
    this.sample();
    if (this.pid === undefined) return;
    // unref'd: a sampler left running must never keep the harness alive.
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  /** Takes the last sample and stops the timer; never throws, also when the process has exited. */
  stop(): ProcessWindow {
    this.sample();
    this.clearTimer();
    const cpuS = this.cpuAtStart === undefined || this.cpuLast === undefined ? 0 : this.cpuLast - this.cpuAtStart;
    return { cpuS: Math.max(0, cpuS), peakRssBytes: this.peak, endRssBytes: this.last, samples: this.samples, series: this.series };
  }

  private sample(): void {
    const rss = rssBytes(this.pid);
    if (rss === undefined) return; // gone (or a zombie, which has no VmRSS line): keep what was sampled
    this.samples++;
    this.series.push({ atMs: performance.now(), rssBytes: rss });
    this.last = rss;
    this.peak = Math.max(this.peak, rss);
    this.cpuLast = processCpuSeconds(this.pid) ?? this.cpuLast;
  }

  private clearTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** User + system CPU seconds a process has used so far (every thread; not its children), or undefined when it
 *  cannot be read. Fields 14 and 15 of proc(5); the command name may hold spaces and ')', so fields are
 *  counted from the last ')'. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks / CLOCK_TICKS_PER_S : undefined;
}

/** Current resident set size (VmRSS), or undefined when it cannot be read. */
export function rssBytes(pid: number | undefined): number | undefined {
  return statusKb(pid, 'VmRSS');
}

/** CPU seconds a process has used so far; 0 where it cannot be read. */
export function cpuSeconds(pid: number | undefined): number {
  return processCpuSeconds(pid) ?? 0;
}

/** Peak resident set size over the process's whole life (VmHWM); 0 where it cannot be read. A window's peak is
 *  ProcessSampler's `peakRssBytes`. */
export function peakRssBytes(pid: number | undefined): number {
  return statusKb(pid, 'VmHWM') ?? 0;
}

const STATUS_FIELD = { VmRSS: /^VmRSS:\s+(\d+)\s+kB/m, VmHWM: /^VmHWM:\s+(\d+)\s+kB/m };

function statusKb(pid: number | undefined, field: keyof typeof STATUS_FIELD): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kb = STATUS_FIELD[field].exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}
