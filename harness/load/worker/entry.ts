// A worker thread's main: opens one share's session (worker/share.ts) in this thread with its own client,
// event loop and histograms, then runs what the coordinating thread (worker/pool.ts) asks, posting ticks,
// window phases and each run's result. It ends by itself once told to close and everything it opened is closed.
import { parentPort, workerData } from 'node:worker_threads';
import { loadClientFactory } from '../run-load.js';
import type { FromWorker, ToWorker, WorkerError, WorkerInput } from './messages.js';
import { ShareSession } from './share.js';

const port = parentPort;
if (!port) throw new Error('harness/load/worker/entry.js runs only as a worker thread');
const { share } = workerData as WorkerInput;
const post = (message: FromWorker): void => port.postMessage(message);
const asError = (err: unknown): WorkerError => {
  const error = err instanceof Error ? err : new Error(String(err));
  return { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
};

let session: ShareSession | undefined;
let aborter: AbortController | undefined;
let running: Promise<void> = Promise.resolve();

const onMessage = (message: ToWorker): void => {
  switch (message.type) {
    case 'abort':
      aborter?.abort();
      return;
    case 'run':
      running = running.then(() => runOnce(message.plan.warmupMs, message.plan.durationMs));
      return;
    case 'close':
      running = running.then(async () => {
        await session?.close();
        // Without a listener the port no longer keeps this thread alive: it exits when nothing else is open.
        port.off('message', onMessage);
      });
      return;
  }
};

async function runOnce(warmupMs: number, durationMs: number): Promise<void> {
  if (!session) return;
  aborter = new AbortController();
  try {
    const result = await session.run(
      { warmupMs, durationMs },
      {
        signal: aborter.signal,
        onTick: (tick) => post({ type: 'tick', tick }),
        onLive: (delta) => post({ type: 'live', delta }),
        onPhase: (phase) => post({ type: 'phase', phase }),
      },
    );
    post({ type: 'result', result });
  } catch (err) {
    post({ type: 'failed', error: asError(err) });
  } finally {
    aborter = undefined;
  }
}

port.on('message', onMessage);
try {
  session = await ShareSession.open(share, await loadClientFactory(share.options));
  post({ type: 'ready', setup: session.setup });
} catch (err) {
  post({ type: 'failed', error: asError(err) });
  port.off('message', onMessage);
}
