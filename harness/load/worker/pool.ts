// A load session in worker threads, one per share: each opens its own connections, then every run is told to
// all of them at once (so their windows line up), their ticks are merged per second and their window phases
// passed on once. close() returns once every thread has exited. A worker is expected to end by itself when
// closed (it closes everything it opened); one that has not a little after is terminated, with a process
// warning, so a leaked handle can never leave a thread behind.
import { Worker } from 'node:worker_threads';
import type { LoopTick } from '../sequencer/closed-loop.js';
import type { LiveDelta } from '../statistic/live.js';
import type { FromWorker, ToWorker, WorkerError, WorkerInput } from './messages.js';
import type { RunPlan, SessionSetup, ShareHooks, ShareResult } from './share.js';
import type { Share } from './split.js';
import { TickMerger } from './ticks.js';

/** The compiled worker entry, next to this file in dist/. */
const ENTRY = new URL('./entry.js', import.meta.url);
/** How long a worker may take to exit after being closed before it is terminated. */
export const EXIT_GRACE_MS = 5000;
export const WORKER_TERMINATED_WARNING = 'SluiceWorkerTerminated';

class WorkerFailedError extends Error {
  constructor(index: number, error: WorkerError) {
    super(`load worker ${index}: ${error.message}`);
    this.name = error.name;
    if (error.stack) this.stack = error.stack;
  }
}

/** What the current run of one worker waits for. */
interface Pending {
  resolve(result: ShareResult): void;
  reject(err: Error): void;
}

class RunningWorker {
  readonly worker: Worker;
  readonly ready: Promise<SessionSetup>;
  readonly exited: Promise<number>;
  /** Set while a run is under way. */
  pending: Pending | undefined;
  onTick: ((tick: LoopTick) => void) | undefined;
  onPhase: ((phase: 'measure' | 'done') => void) | undefined;
  onLive: ((delta: LiveDelta) => void) | undefined;

  constructor(share: Share, readonly index: number) {
    const input: WorkerInput = { share };
    this.worker = new Worker(ENTRY, { workerData: input });
    let readyResolve!: (setup: SessionSetup) => void;
    let readyReject!: (err: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      readyResolve = resolve;
      readyReject = reject;
    });
    this.ready.catch(() => undefined);
    const fail = (err: Error): void => {
      readyReject(err);
      this.pending?.reject(err);
      this.pending = undefined;
    };
    this.worker.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'ready':
          return readyResolve(message.setup);
        case 'tick':
          return this.onTick?.(message.tick);
        case 'phase':
          return this.onPhase?.(message.phase);
        case 'live':
          return this.onLive?.(message.delta);
        case 'result':
          this.pending?.resolve(message.result);
          this.pending = undefined;
          return;
        case 'failed':
          return fail(new WorkerFailedError(index, message.error));
      }
    });
    this.worker.on('error', (err: Error) => fail(new WorkerFailedError(index, err)));
    this.exited = new Promise<number>((resolve) => this.worker.once('exit', resolve));
    // A worker that exits without being asked (killed, out of memory) fails what waits on it.
    void this.exited.then((code) => fail(new WorkerFailedError(index, { name: 'Error', message: `exited with code ${code}` })));
  }

  tell(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  run(plan: RunPlan): Promise<ShareResult> {
    const result = new Promise<ShareResult>((resolve, reject) => (this.pending = { resolve, reject }));
    this.tell({ type: 'run', plan });
    return result;
  }
}

export class WorkerSession {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly workers: RunningWorker[],
    readonly setups: SessionSetup[],
  ) {}

  /** Starts one worker per share and waits until each has opened its connections. */
  static async open(shares: readonly Share[]): Promise<WorkerSession> {
    const workers = shares.map((share, index) => new RunningWorker(share, index));
    try {
      const setups = await Promise.all(workers.map((w) => w.ready));
      return new WorkerSession(workers, setups);
    } catch (err) {
      await closeAll(workers);
      throw err;
    }
  }

  /** One run in every worker at once; resolves with their results in order, or rejects with the first failure. */
  async run(plan: RunPlan, hooks: ShareHooks = {}): Promise<ShareResult[]> {
    if (this.closing) throw new Error('the load session is closed');
    const ticks = new TickMerger(this.workers.length, (tick) => hooks.onTick?.(tick));
    const told = new Set<string>();
    // Each worker says its own requests in flight; the session's are their sum.
    const inFlight = this.workers.map(() => 0);
    for (const w of this.workers) {
      w.onTick = (tick) => ticks.add(w.index, tick);
      w.onLive = (delta) => {
        if (delta.inFlight !== undefined) {
          inFlight[w.index] = delta.inFlight;
          delta.inFlight = inFlight.reduce((a, b) => a + b, 0);
        }
        hooks.onLive?.(delta);
      };
      // The workers' windows open and close within a millisecond of each other: the first one's says it.
      w.onPhase = (phase) => {
        if (told.has(phase)) return;
        told.add(phase);
        hooks.onPhase?.(phase);
      };
    }
    const abort = (): void => {
      for (const w of this.workers) w.tell({ type: 'abort' });
    };
    hooks.signal?.addEventListener('abort', abort, { once: true });
    const results = Promise.all(
      this.workers.map((w) =>
        w.run(plan).finally(() => {
          ticks.finish(w.index);
        }),
      ),
    );
    if (hooks.signal?.aborted) abort();
    results.catch(abort);
    try {
      return await results;
    } finally {
      hooks.signal?.removeEventListener('abort', abort);
      for (const w of this.workers) {
        w.onTick = undefined;
        w.onPhase = undefined;
        w.onLive = undefined;
      }
    }
  }

  /** Closes every worker's connections and waits until each thread has exited. Idempotent. */
  close(): Promise<void> {
    return (this.closing ??= closeAll(this.workers));
  }
}

async function closeAll(workers: readonly RunningWorker[]): Promise<void> {
  for (const w of workers) w.tell({ type: 'close' });
  await Promise.all(workers.map((w) => exitOrTerminate(w)));
}

async function exitOrTerminate(w: RunningWorker): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), EXIT_GRACE_MS)));
  const outcome = await Promise.race([w.exited, late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    process.emitWarning(`a load worker had not exited ${EXIT_GRACE_MS} ms after it was closed: terminated`, WORKER_TERMINATED_WARNING);
    await w.worker.terminate();
  }
}
