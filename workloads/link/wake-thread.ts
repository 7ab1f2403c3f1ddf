// The link's helper thread (wake.ts): it sleeps in Atomics.wait, which a futex times to tens of µs where
// Node's timers have a millisecond's grain, and posts a message to the main thread when the time it was given
// arrives. The main loop meanwhile idles in epoll as usual: precise wake-ups without polling a core.
// Shared memory: Int32 [0] the request number (bumped at every new time, -1 to end); Float64 [1] the time to
// wake at, in epoch milliseconds (performance.timeOrigin + performance.now(), the same in both threads).
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

const port = parentPort;
if (!port) throw new Error('wake-thread.js runs only as a worker thread');
const control = new Int32Array(workerData as SharedArrayBuffer, 0, 2);
const target = new Float64Array(workerData as SharedArrayBuffer, 8, 1);
const origin = performance.timeOrigin;
/** Closer than this, a futex wait is not worth it. */
const MIN_WAIT_MS = 0.01;

let answered = 0;
for (;;) {
  const request = Atomics.load(control, 0);
  if (request < 0) break;
  if (request === answered) {
    Atomics.wait(control, 0, request);
    continue;
  }
  const wait = target[0]! - (origin + performance.now());
  // Woken before the time by a new request (look again), or spuriously (wait on).
  if (wait > MIN_WAIT_MS && Atomics.wait(control, 0, request, wait) !== 'timed-out') continue;
  if (Atomics.load(control, 0) !== request) continue;
  answered = request;
  port.postMessage(request);
}
