// Runs shares in worker threads, one each: starts them together once all are set up, passes an abort on,
// merges their ticks, and returns their results once every thread has exited. A worker is expected to end
// by itself (it closes everything it opened); one that has not a little after its result is terminated, with
// a process warning, so a leaked handle can never leave a thread behind.
import { Worker } from 'node:worker_threads';
import type { LoopTick } from '../sequencer/closed-loop.js';
import type { FromWorker, ToWorker, WorkerInput } from './messages.js';
import type { ShareResult } from './share.js';
import type { Share } from './split.js';
import { TickMerger } from './ticks.js';

/** The compiled worker entry, next to this file in dist/. */
const ENTRY = new URL('./entry.js', import.meta.url);
/** How long a worker may take to exit after its result (or after an abort) before it is terminated. */
export const EXIT_GRACE_MS = 2000;
export const WORKER_TERMINATED_WARNING = 'SluiceWorkerTerminated';

class WorkerFailedError extends Error {
  constructor(index: number, name: string, message: string, stack?: string) {
    super(`load worker ${index}: ${message}`);
    this.name = name;
    if (stack) this.stack = stack;
  }
}

interface Running {
  worker: Worker;
  ready: Promise<void>;
  result: Promise<ShareResult>;
  exited: Promise<number>;
}

function spawn(share: Share, index: number, ticks: TickMerger): Running {
  const input: WorkerInput = { share };
  const worker = new Worker(ENTRY, { workerData: input });
  let onReady!: () => void;
  let onResult!: (result: ShareResult) => void;
  let onFailure!: (err: Error) => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const result = new Promise<ShareResult>((resolve, reject) => {
    onResult = resolve;
    onFailure = reject;
  });
  worker.on('message', (message: FromWorker) => {
    switch (message.type) {
      case 'ready':
        return onReady();
      case 'tick':
        return ticks.add(index, message.tick);
      case 'result':
        ticks.finish(index);
        return onResult(message.result);
      case 'failed':
        ticks.finish(index);
        return onFailure(new WorkerFailedError(index, message.error.name, message.error.message, message.error.stack));
    }
  });
  worker.on('error', (err: Error) => {
    ticks.finish(index);
    onFailure(new WorkerFailedError(index, err.name, err.message, err.stack));
  });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  // A worker that exits without a result (killed, out of memory) fails the run; after a result this is a no-op.
  void exited.then((code) => {
    ticks.finish(index);
    onFailure(new WorkerFailedError(index, 'Error', `exited with code ${code} before its result`));
  });
  return { worker, ready, result, exited };
}

/**
 * Runs each share in a worker thread; resolves with their results in order, or rejects with the first
 * failure (the other workers are aborted). Never returns while one of its threads is still alive.
 */
export async function runInWorkers(shares: readonly Share[], onTick?: (tick: LoopTick) => void, signal?: AbortSignal): Promise<ShareResult[]> {
  const ticks = new TickMerger(shares.length, (tick) => onTick?.(tick));
  const running = shares.map((share, index) => spawn(share, index, ticks));
  const tell = (message: ToWorker): void => {
    for (const { worker } of running) worker.postMessage(message);
  };
  const abort = (): void => tell({ type: 'abort' });
  signal?.addEventListener('abort', abort, { once: true });
  if (signal?.aborted) abort();
  const results = Promise.all(running.map((r) => r.result));
  // Start the clocks together once every worker is set up; a failure while setting up starts nothing.
  void Promise.all(running.map((r) => r.ready)).then(() => tell({ type: 'start' }));
  results.catch(abort);
  try {
    return await results;
  } finally {
    signal?.removeEventListener('abort', abort);
    await Promise.all(running.map((r) => settleAndExit(r)));
  }
}

async function settleAndExit({ worker, result, exited }: Running): Promise<void> {
  await result.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), EXIT_GRACE_MS)));
  const outcome = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    process.emitWarning(`a load worker had not exited ${EXIT_GRACE_MS} ms after its result: terminated`, WORKER_TERMINATED_WARNING);
    await worker.terminate();
  }
}
