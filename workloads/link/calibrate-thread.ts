// The calibration's far ends (calibrate.ts), in a thread of their own so that their reading and writing is not
// charged to the relay's event loop: a sink that counts what arrives, and a sender that writes as fast as the
// relay takes it. Messages: out {sinkPort}, in {relayPort}, out {bytes, ms} (the measured window).
import net, { type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

const port = parentPort;
if (!port) throw new Error('calibrate-thread.js runs only as a worker thread');
const { warmupMs, measureMs } = workerData as { warmupMs: number; measureMs: number };
const CHUNK = Buffer.alloc(64 * 1024, 0x5a);

let received = 0;
const sockets = new Set<net.Socket>();
const sink = net.createServer((socket) => {
  sockets.add(socket);
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  socket.on('error', () => undefined);
});
sink.listen(0, '127.0.0.1', () => port.postMessage({ sinkPort: (sink.address() as AddressInfo).port }));

port.once('message', ({ relayPort }: { relayPort: number }) => {
  const sender = net.connect({ host: '127.0.0.1', port: relayPort, noDelay: true });
  sockets.add(sender);
  sender.on('error', () => undefined);
  let sending = true;
  const send = (): void => {
    while (sending && sender.write(CHUNK));
    if (sending) sender.once('drain', send);
  };
  sender.once('connect', () => {
    send();
    setTimeout(() => {
      const startBytes = received;
      const startMs = performance.now();
      setTimeout(() => {
        const result = { bytes: received - startBytes, ms: performance.now() - startMs };
        sending = false;
        for (const socket of sockets) socket.destroy();
        sink.close();
        port.postMessage(result);
      }, measureMs);
    }, warmupMs);
  });
});
