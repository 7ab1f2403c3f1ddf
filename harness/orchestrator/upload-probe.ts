// A client that uploads first and reads the answer only once its body is sent, as curl and many HTTP/1.1
// libraries do (undici, the generator's h1 client, reads while it writes and so sees an early answer on its
// own). A server or proxy that answers early and then closes with the body unread makes the kernel reset the
// connection under the upload: such a client gets a send error and never reads the answer (seed 001). The
// probe runs uploads one after another through the cell's target while the window is open, each on a new
// connection, and counts what its user would have seen. Written by hand on node:net because no HTTP client
// library lets the caller hold back reading until the upload ends.
import net from 'node:net';
import type { UploadOutcomes } from '../../workloads/scenarios/types.js';

export class UploadProbe {
  private stopped = false;
  private readonly outcomes: UploadOutcomes = { attempts: 0, answered: {}, failed: {} };
  private loop: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly bodyBytes: number,
    /** An upload not settled in this time counts as failed: `timeout`. */
    private readonly timeoutMs = 5000,
  ) {}

  start(): void {
    this.stopped = false;
    this.loop = this.run();
  }

  /** Stops starting uploads, waits for the one in progress, and returns what was counted. */
  async stop(): Promise<UploadOutcomes> {
    this.stopped = true;
    await this.loop;
    return structuredClone(this.outcomes);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.outcomes.attempts++;
      const outcome = await uploadOnce(this.url, this.bodyBytes, this.timeoutMs);
      const tally = outcome.status !== undefined ? this.outcomes.answered : this.outcomes.failed;
      const key = outcome.status !== undefined ? String(outcome.status) : outcome.error;
      tally[key] = (tally[key] ?? 0) + 1;
    }
  }
}

/** One upload: headers and the whole body written with reading paused, then the answer's status line read. */
export function uploadOnce(url: string, bodyBytes: number, timeoutMs: number): Promise<{ status: number } | { status?: undefined; error: string }> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve) => {
    let settled = false;
    const socket = net.connect({ host: hostname, port: Number(port), allowHalfOpen: true });
    const finish = (outcome: { status: number } | { error: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ error: 'timeout' }), timeoutMs);
    socket.pause(); // nothing is read until the body is sent
    socket.on('error', (err: NodeJS.ErrnoException) => finish({ error: err.code ?? 'error' }));
    socket.on('close', () => finish({ error: 'closed' }));
    socket.once('connect', async () => {
      socket.write(`POST ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Length: ${bodyBytes}\r\nContent-Type: application/octet-stream\r\n\r\n`);
      const chunk = Buffer.alloc(Math.min(bodyBytes, 64 * 1024), 0x61);
      for (let sent = 0; sent < bodyBytes && !settled; sent += chunk.length) {
        const part = sent + chunk.length <= bodyBytes ? chunk : chunk.subarray(0, bodyBytes - sent);
        if (!socket.write(part)) await new Promise<void>((r) => socket.once('drain', r).once('close', r));
      }
      if (settled) return;
      let head = '';
      socket.on('data', (data: Buffer) => {
        head += data.toString('latin1');
        const line = /^HTTP\/1\.[01] (\d{3})/.exec(head);
        if (line) finish({ status: Number(line[1]) });
      });
      socket.resume();
    });
  });
}
