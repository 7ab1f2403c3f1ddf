// How many bits per second this process can relay, measured at start in ~150 ms: a sender and a sink in a
// helper thread (calibrate-thread.ts) push bytes through this process's own relay path (no delay, unlimited
// bandwidth), so a --bandwidth above it is flagged before the run rather than discovered in its numbers.
// A measure of this machine at this moment: a busy neighbour lowers it.
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { defaultQueueLimit } from './link-model.js';
import { LinkStats } from './link-stats.js';
import { Relay } from './relay.js';
import { Wakes } from './wake.js';

const THREAD = new URL('./calibrate-thread.js', import.meta.url);
export const CALIBRATION = { warmupMs: 30, measureMs: 100 } as const;
/**
 * The calibration copies without delay (read, write, same turn); with delay each chunk also costs a wake-up, and
 * bench:link measured 1.8-2.6x the CPU per MB at 1 Gbit/s with rtt 40 ms. So a bandwidth above this share of
 * the calibrated rate is flagged: about where the link stops keeping its schedule here.
 */
export const DELAYED_SHARE = 0.4;

export interface Calibration {
  /** Bits per second relayed through one connection during the measured window. */
  relayBps: number;
  /** The whole calibration, thread start included. */
  tookMs: number;
}

export async function calibrate(): Promise<Calibration> {
  const started = performance.now();
  const worker = new Worker(THREAD, { workerData: CALIBRATION });
  let relay: Relay | undefined;
  const wakes = new Wakes('timer');
  try {
    const result = await new Promise<{ bytes: number; ms: number }>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`calibration thread exited (${code}) before it measured`)));
      worker.on('message', (message: { sinkPort?: number; bytes?: number; ms?: number }) => {
        if (message.sinkPort !== undefined) {
          const to = { host: '127.0.0.1', port: message.sinkPort };
          const settings = { rttMs: 0, jitterMs: 0, bandwidthBps: 0, queueLimitBytes: defaultQueueLimit(0, 0) };
          Relay.start([{ listen: { host: '127.0.0.1', port: 0 }, to }], { settings, wakes, stats: new LinkStats() }).then((started) => {
            relay = started;
            worker.postMessage({ relayPort: started.routes[0]!.listen.port });
          }, reject);
        } else if (message.bytes !== undefined && message.ms !== undefined) {
          resolve({ bytes: message.bytes, ms: message.ms });
        }
      });
    });
    return { relayBps: (result.bytes * 8 * 1000) / result.ms, tookMs: performance.now() - started };
  } finally {
    await relay?.close();
    await wakes.close();
    await worker.terminate();
  }
}
