// A worker thread's main: runs one share (worker/share.ts) in this thread with its own client, event loop and
// histograms, and posts its ticks and its result to the coordinating thread (worker/pool.ts). It ends by
// itself once the share has closed everything it opened.
import { parentPort, workerData } from 'node:worker_threads';
import { loadClientFactory } from '../run-load.js';
import type { FromWorker, ToWorker, WorkerInput } from './messages.js';
import { runShare } from './share.js';

const port = parentPort;
if (!port) throw new Error('harness/load/worker/entry.js runs only as a worker thread');
const { share } = workerData as WorkerInput;
const post = (message: FromWorker): void => port.postMessage(message);

const aborter = new AbortController();
let start!: () => void;
const started = new Promise<void>((resolve) => (start = resolve));
const onMessage = (message: ToWorker): void => {
  if (message.type === 'abort') aborter.abort();
  // An abort before the start still lets the share start, see the signal, and answer at once.
  start();
};
port.on('message', onMessage);

try {
  const createClient = await loadClientFactory(share.options);
  const result = await runShare(share, createClient, {
    signal: aborter.signal,
    onTick: (tick) => post({ type: 'tick', tick }),
    ready: async () => {
      post({ type: 'ready' });
      await started;
    },
  });
  post({ type: 'result', result });
} catch (err) {
  const error = err instanceof Error ? err : new Error(String(err));
  post({ type: 'failed', error: { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) } });
} finally {
  // Without a listener the port no longer keeps this thread alive: it exits when nothing else is open.
  port.off('message', onMessage);
}
