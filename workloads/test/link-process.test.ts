// The link as the harness runs it: dist/workloads/link/main.js as a child process on 127.0.0.1, its ready line
// read from stdout, stopped with SIGTERM in a finally. Timing assertions are bounds a loaded machine keeps:
// a delay is at least the rtt, a limited transfer takes at least ~80% of its ideal time.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../link/main.js', import.meta.url));

interface Ready {
  event: string;
  routes: Array<{ listen: string; to: string }>;
  admin: string;
  warning?: string;
}

interface Link {
  ready: Ready;
  /** host and port of the i-th route's listener. */
  listen(i?: number): { host: string; port: number };
  stats(): Promise<Stats>;
  /** SIGTERM; resolves with the exit code and how long the exit took. */
  stop(): Promise<{ code: number | null; ms: number }>;
  stderr(): string;
}

interface DirectionStats {
  bytes: number;
  chunks: number;
  queuedBytes: number;
  maxQueuedBytes: number;
  pauses: number;
  pausedS: number;
  lateness: { count: number; p50Ms: number; p99Ms: number; maxMs: number };
}

interface Stats {
  settings: { rttMs: number; jitterMs: number; bandwidthBps: number; queueLimitBytes: number };
  directions: { forward: DirectionStats; reverse: DirectionStats };
  connections: { open: number; total: number; connectFailures: number; resets: number };
  cpuS: number;
  saturated: boolean;
  reason: string | null;
}

function hostPort(text: string): { host: string; port: number } {
  const at = text.lastIndexOf(':');
  return { host: text.slice(0, at), port: Number(text.slice(at + 1)) };
}

async function startLink(argv: string[]): Promise<Link> {
  const child = spawn(process.execPath, [MAIN, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<Ready>((resolve, reject) => {
    let stdout = '';
    const guard = setTimeout(() => reject(new Error(`no ready line in 5 s; stderr: ${stderr}`)), 5000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('\n')) {
        clearTimeout(guard);
        resolve(JSON.parse(stdout.slice(0, stdout.indexOf('\n'))) as Ready);
      }
    });
    void exited.then((code) => reject(new Error(`link exited (${code}) before ready: ${stderr}`)));
  });
  return {
    ready,
    listen: (i = 0) => hostPort(ready.routes[i]!.listen),
    stats: async () => (await (await fetch(`http://${ready.admin}/stats`)).json()) as Stats,
    stop: async () => {
      const started = performance.now();
      child.kill('SIGTERM');
      const code = await exited;
      return { code, ms: performance.now() - started };
    },
    stderr: () => stderr,
  };
}

/** Runs `body` against a started link, and always stops it, asserting a clean, prompt exit. */
async function withLink(argv: string[], body: (link: Link) => Promise<void>): Promise<void> {
  const link = await startLink(argv);
  try {
    await body(link);
  } finally {
    const { code, ms } = await link.stop();
    assert.equal(code, 0, link.stderr());
    assert.ok(ms < 1500, `exit took ${ms} ms`);
  }
}

interface Server {
  port: number;
  close(): Promise<void>;
}

async function server(onSocket: (socket: net.Socket) => void): Promise<Server> {
  const sockets = new Set<net.Socket>();
  const s = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return {
    port: (s.address() as AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

function route(port: number): string[] {
  return ['--listen', '127.0.0.1:0', '--to', `127.0.0.1:${port}`];
}

function connect(address: { host: string; port: number }): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ ...address, allowHalfOpen: true, noDelay: true });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the socket receives until its FIN; rejects on an error. */
function readAll(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

/** How the socket ended: its error code, or 'end' for a FIN, or 'close'. */
function outcome(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    socket.once('end', () => resolve('end'));
    socket.once('close', () => resolve('close'));
  });
}

describe('link process', { timeout: 60_000 }, () => {
  it('relays bytes intact and in order both ways, with jitter and a bandwidth limit, keeping a half-close', async () => {
    // The server reads until the client's FIN, then answers the bytes reversed and closes its side.
    const target = await server(async (socket) => {
      const request = await readAll(socket);
      socket.end(Buffer.from(request).reverse());
    });
    try {
      await withLink([...route(target.port), '--rtt', '10ms', '--jitter', '4ms', '--bandwidth', '200mbit'], async (link) => {
        const sent = randomBytes(1024 * 1024);
        const client = await connect(link.listen());
        const answer = readAll(client);
        for (let at = 0; at < sent.length; at += 10_000) client.write(sent.subarray(at, at + 10_000));
        client.end(); // half-close: the answer must still come back
        const received = await answer;
        assert.equal(received.length, sent.length);
        assert.ok(received.equals(Buffer.from(sent).reverse()), 'bytes changed or reordered');
        const stats = await link.stats();
        assert.equal(stats.directions.forward.bytes, sent.length);
        assert.equal(stats.directions.reverse.bytes, sent.length);
        assert.equal(stats.connections.total, 1);
      });
    } finally {
      await target.close();
    }
  });

  it('a FIN from the server arrives as a FIN, and the client can still send after it', async () => {
    let heard: Promise<Buffer> = Promise.resolve(Buffer.alloc(0));
    const target = await server((socket) => {
      heard = readAll(socket);
      socket.end('bye');
    });
    try {
      await withLink([...route(target.port), '--rtt', '6ms'], async (link) => {
        const client = await connect(link.listen());
        assert.equal((await readAll(client)).toString(), 'bye');
        client.end('still here');
        assert.equal((await heard).toString(), 'still here');
      });
    } finally {
      await target.close();
    }
  });

  it('says so in the ready line when the bandwidth is above what it can relay', async () => {
    await withLink([...route(9), '--bandwidth', '100gbit'], async (link) => {
      assert.match(link.ready.warning ?? '', /--bandwidth 100gbit is above what this process can relay/);
    });
  });

  it('carries each route to its own target', async () => {
    const a = await server((socket) => socket.end('a'));
    const b = await server((socket) => socket.end('b'));
    try {
      await withLink([...route(a.port), ...route(b.port), '--rtt', '2ms'], async (link) => {
        assert.equal(link.ready.routes.length, 2);
        assert.equal(link.ready.routes[1]!.to, `127.0.0.1:${b.port}`);
        const fromA = await readAll(await connect(link.listen(0)));
        const fromB = await readAll(await connect(link.listen(1)));
        assert.equal(fromA.toString(), 'a');
        assert.equal(fromB.toString(), 'b');
      });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a far side that refuses resets the client, a round trip later', async () => {
    const gone = await server(() => undefined);
    const port = gone.port;
    await gone.close();
    await withLink([...route(port), '--rtt', '20ms'], async (link) => {
      const started = performance.now();
      const client = await connect(link.listen());
      const how = await outcome(client);
      const ms = performance.now() - started;
      assert.equal(how, 'ECONNRESET', `client saw ${how}`);
      assert.ok(ms >= 20, `reset after ${ms} ms, before the round trip`);
      const stats = await link.stats();
      assert.equal(stats.connections.connectFailures, 1);
    });
  });

  it('a reset by the server reaches the client as a reset', async () => {
    const target = await server((socket) => socket.once('data', () => socket.resetAndDestroy()));
    try {
      await withLink([...route(target.port), '--rtt', '4ms'], async (link) => {
        const client = await connect(link.listen());
        const how = outcome(client);
        client.write('hello');
        assert.equal(await how, 'ECONNRESET');
      });
    } finally {
      await target.close();
    }
  });

  it('a reset by the client reaches the server as a reset, even after its FIN', async () => {
    let serverSaw: Promise<string> = Promise.resolve('no connection');
    let accepted: () => void = () => undefined;
    const connected = new Promise<void>((resolve) => (accepted = resolve));
    const target = await server((socket) => {
      serverSaw = new Promise((resolve) => {
        socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        socket.on('close', () => resolve('close without a reset'));
      });
      socket.resume();
      // A socket that has read its peer's FIN notices a reset only when it next writes: the link learns of
      // the client's reset so, and so does this server of the link's.
      socket.once('end', () => {
        const writes = setInterval(() => socket.write('late answer'), 30);
        socket.once('close', () => clearInterval(writes));
      });
      accepted();
    });
    try {
      await withLink([...route(target.port), '--rtt', '4ms'], async (link) => {
        const client = await connect(link.listen());
        client.on('error', () => undefined);
        client.end('bye');
        await connected;
        await new Promise((resolve) => setTimeout(resolve, 20)); // the FIN has crossed
        client.resetAndDestroy();
        const saw = await serverSaw;
        assert.ok(saw === 'ECONNRESET' || saw === 'EPIPE', `server saw ${saw}`);
      });
    } finally {
      await target.close();
    }
  });

  it('adds at least the rtt to a round trip (rtt 50ms: each in [50, 150) ms)', async () => {
    const echo = await server((socket) => socket.on('data', (chunk: Buffer) => socket.write(chunk)));
    try {
      await withLink([...route(echo.port), '--rtt', '50ms'], async (link) => {
        const client = await connect(link.listen());
        for (let i = 0; i < 5; i++) {
          const started = performance.now();
          const back = new Promise((resolve) => client.once('data', resolve));
          client.write('p');
          await back;
          const ms = performance.now() - started;
          assert.ok(ms >= 50 && ms < 150, `round trip ${ms} ms`);
        }
        client.destroy();
      });
    } finally {
      await echo.close();
    }
  });

  it('a bandwidth limit slows a 2 MB transfer to at least 80% of its ideal time', async () => {
    const bytes = 2_000_000;
    let received = 0;
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const sink = await server((socket) =>
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= bytes) done();
      }),
    );
    try {
      // 20 Mbit/s: 2 MB take 800 ms at best.
      await withLink([...route(sink.port), '--bandwidth', '20mbit'], async (link) => {
        const client = await connect(link.listen());
        const started = performance.now();
        client.write(Buffer.alloc(bytes, 7));
        await finished;
        const ms = performance.now() - started;
        assert.ok(ms >= 0.8 * 800, `2 MB in ${ms} ms at 20 Mbit/s`);
        client.destroy();
      });
    } finally {
      await sink.close();
    }
  });

  it('the queue limit bounds what is buffered when the receiver does not read', async () => {
    const limit = 200_000;
    const ONE_READ = 64 * 1024;
    // The receiver never reads: its kernel buffers fill, then the link's queue, then the client is held back.
    const stalled = await server((socket) => socket.pause());
    try {
      await withLink([...route(stalled.port), '--rtt', '10ms', '--queue-bytes', String(limit)], async (link) => {
        const client = await connect(link.listen());
        const chunk = Buffer.alloc(ONE_READ, 1);
        for (let i = 0; i < 512; i++) client.write(chunk); // 32 MiB, more than the sockets' buffers hold
        let stats = await link.stats();
        for (let waited = 0; waited < 5000 && (stats.directions.forward.pauses === 0 || stats.directions.forward.queuedBytes < limit); waited += 100) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          stats = await link.stats();
        }
        const forward = stats.directions.forward;
        assert.ok(forward.pauses >= 1, `never paused: ${JSON.stringify(forward)}`);
        assert.ok(forward.maxQueuedBytes <= limit + ONE_READ, `queued up to ${forward.maxQueuedBytes}`);
        assert.ok(client.writableLength > 0, 'the client was never held back');
        client.destroy();
      });
    } finally {
      await stalled.close();
    }
  });

  it('/stats and /metrics answer', async () => {
    const echo = await server((socket) => socket.on('data', (chunk: Buffer) => socket.write(chunk)));
    try {
      await withLink([...route(echo.port), '--rtt', '4ms', '--bandwidth', '100mbit'], async (link) => {
        const client = await connect(link.listen());
        const back = new Promise((resolve) => client.once('data', resolve));
        client.write('ping');
        await back;
        const stats = await link.stats();
        assert.equal(stats.settings.rttMs, 4);
        assert.equal(stats.settings.bandwidthBps, 100_000_000);
        assert.equal(stats.settings.queueLimitBytes, 50_000 + 65_536);
        assert.equal(stats.directions.forward.bytes, 4);
        assert.equal(stats.directions.reverse.bytes, 4);
        assert.equal(stats.directions.reverse.lateness.count, 1);
        assert.equal(stats.connections.open, 1);
        assert.equal(typeof stats.cpuS, 'number');
        assert.equal(typeof stats.saturated, 'boolean');
        const res = await fetch(`http://${link.ready.admin}/metrics`);
        assert.equal(res.status, 200);
        const text = await res.text();
        for (const name of [
          'sluice_link_queue_bytes{direction="forward"}',
          'sluice_link_bytes_total{direction="reverse"} 4',
          'sluice_link_delivery_lateness_seconds_bucket',
          'sluice_link_connections 1',
          'sluice_link_saturated',
        ]) {
          assert.ok(text.includes(name), `no ${name} in /metrics`);
        }
        client.destroy();
      });
    } finally {
      await echo.close();
    }
  });

  it('exits 2 on a bad flag, naming it, with nothing on stdout', async () => {
    const cases: Array<[string[], string]> = [
      [['--listen', '127.0.0.1:0', '--to', '127.0.0.1:9', '--rtt', '40'], '--rtt'],
      [['--listen', '127.0.0.1:0', '--to', '127.0.0.1:9', '--bandwidth', '100mbps'], '--bandwidth'],
      [['--listen', '127.0.0.1:0'], '--to'],
    ];
    for (const [argv, flag] of cases) {
      const child: ChildProcess = spawn(process.execPath, [MAIN, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise((resolve) => child.once('close', resolve));
      assert.equal(code, 2, argv.join(' '));
      assert.ok(stderr.includes(flag), stderr);
      assert.equal(stdout, '');
    }
  });
});
