// Starts child processes and guarantees they are stopped: on success, on error and on SIGINT.
// Every process the harness starts goes through here; stopAll() is the one way out.
import { execa, type ResultPromise } from 'execa';
import { pinnedCommand, pinnedExecutable, type ChildCpus } from './pinning.js';

const STDERR_TAIL_BYTES = 4096;

const CHILD_OPTIONS = {
  buffer: false,
  reject: false,
  stdin: 'ignore',
  stdout: 'pipe',
  stderr: 'pipe',
  forceKillAfterDelay: 2000,
  // Each child leads its own process group: a terminal's Ctrl-C reaches the harness only, which then stops its
  // children in order (so an interrupted cell is recorded as such), and a stop reaches whatever a child started.
  detached: true,
  // execa's own cleanup skips detached children; the exit hook below does it.
  cleanup: false,
} as const;

/** Process groups still running, killed if this process exits without stopAll() (e.g. an uncaught error). */
const liveGroups = new Set<number>();
let exitHook = false;

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already (ESRCH).
  }
}

function trackGroup(pid: number | undefined, exited: Promise<unknown>): void {
  if (pid === undefined) return;
  liveGroups.add(pid);
  void exited.then(() => liveGroups.delete(pid));
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const group of liveGroups) signalGroup(group, 'SIGKILL');
  });
}

export interface Child {
  name: string;
  pid: number | undefined;
  /** The command line it was started with (under `taskset -c` when pinned). */
  command: string[];
  process: ResultPromise<typeof CHILD_OPTIONS>;
  /** The last few KiB of the child's stderr, for the error of a failed cell. */
  stderrTail(): string;
  /** Resolves with a description when the child exits. */
  exited: Promise<string>;
  hasExited(): boolean;
}

export class Supervisor {
  private readonly children = new Set<Child>();
  private readonly started: Child[] = [];

  /** `cpus`: the CPUs each child is started on, by its name (--pin); absent, children inherit the harness's. */
  constructor(private readonly cpus?: ChildCpus) {}

  /** A Node script of ours (proxy, backends, link, ...), under `taskset` when its role is pinned. */
  start(name: string, file: string, args: string[], env: Record<string, string> = {}): Child {
    const [command, argv] = pinnedCommand(file, args, this.cpus?.(name));
    return this.spawn(name, command, argv, env);
  }

  /**
   * An executable found on PATH (Debian's prometheus, a proxy of another make), under `taskset` when its role is
   * pinned (a driver's proxy is named `proxy`, like ours).
   */
  startExecutable(name: string, command: string, args: string[], env: Record<string, string> = {}): Child {
    const [pinned, argv] = pinnedExecutable(command, args, this.cpus?.(name));
    return this.spawn(name, pinned, argv, env);
  }

  private spawn(name: string, command: string, argv: string[], env: Record<string, string>): Child {
    const subprocess = execa(command, argv, { ...CHILD_OPTIONS, env });
    let tail = '';
    subprocess.stderr?.setEncoding('utf8');
    subprocess.stderr?.on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-STDERR_TAIL_BYTES);
    });
    let done = false;
    const exited = subprocess.then((r) => {
      done = true;
      return r.signal ? `${name} was killed by ${r.signal}` : `${name} exited with code ${String(r.exitCode)}`;
    });
    const child: Child = {
      name,
      pid: subprocess.pid,
      command: [command, ...argv],
      process: subprocess,
      stderrTail: () => tail,
      exited,
      hasExited: () => done,
    };
    this.children.add(child);
    this.started.push(child);
    trackGroup(subprocess.pid, exited);
    void exited.then(() => this.children.delete(child));
    return child;
  }

  /**
   * SIGTERM every live child's process group, SIGKILL those still alive after `graceMs`; resolves when all have
   * exited, then kills what a child left in its group.
   */
  async stopAll(graceMs = 2000): Promise<void> {
    const live = [...this.children];
    const kill = (c: Child, signal: NodeJS.Signals): void => {
      if (c.pid !== undefined) signalGroup(c.pid, signal);
      else c.process.kill(signal);
    };
    for (const c of live) if (!c.hasExited()) kill(c, 'SIGTERM');
    const timer = setTimeout(() => {
      for (const c of live) if (!c.hasExited()) kill(c, 'SIGKILL');
    }, graceMs);
    await Promise.all(live.map((c) => c.exited));
    clearTimeout(timer);
    for (const c of live) if (c.pid !== undefined) signalGroup(c.pid, 'SIGKILL');
  }

  /** The stderr tails of every child started, labelled, for the error report of a failed cell. */
  stderrTails(): string {
    return this.started
      .filter((c) => c.stderrTail().trim() !== '')
      .map((c) => `--- ${c.name} stderr ---\n${c.stderrTail()}`)
      .join('\n');
  }

  get size(): number {
    return this.children.size;
  }
}

/** A child exited before it was ready; its stderr's tail says why (a port taken, a bad flag). */
export class ExitedBeforeReadyError extends Error {
  constructor(
    message: string,
    readonly stderrTail: string,
  ) {
    super(message);
    this.name = 'ExitedBeforeReadyError';
  }
}

/** Reads stdout lines until one parses as JSON with event "ready"; fails if the child exits or time runs out. */
export function waitForReadyLine<T extends { event: string }>(child: Child, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let buffered = '';
    const stdout = child.process.stdout;
    const timer = setTimeout(() => finish(new Error(`${child.name} did not report ready within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        try {
          const msg = JSON.parse(line) as T;
          if (msg.event === 'ready') return finish(undefined, msg);
        } catch {
          // not our line: keep reading
        }
      }
    };
    const finish = (err?: Error, value?: T) => {
      clearTimeout(timer);
      stdout?.off('data', onData);
      if (err) reject(err);
      else resolve(value as T);
    };
    stdout?.on('data', onData);
    void child.exited.then((why) => finish(new ExitedBeforeReadyError(`${why} before it was ready`, child.stderrTail())));
  });
}

/** Polls an HTTP URL until it answers 200; fails if the child exits first or time runs out. */
export async function waitForHttpReady(url: string, child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.hasExited()) throw new ExitedBeforeReadyError(`${await child.exited} before ${url} was ready`, child.stderrTail());
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(500) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${url} was not ready within ${timeoutMs} ms (${last})`);
}
