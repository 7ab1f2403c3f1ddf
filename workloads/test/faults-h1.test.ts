import assert from 'node:assert/strict';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { start } from '../backends/h1.js';
import { seededRandom } from '../backends/latency.js';
import type { RunningBackends, StartOptions } from '../backends/types.js';
import { config, connectOutcome, h1Request, rawConnect, rawEnd, sleep, until } from './fault-clients.js';

/** Runs `body` against backends started from `argv`, and closes them whatever happens. */
async function withBackends(argv: string[], body: (backends: RunningBackends) => Promise<void>, options: StartOptions = {}): Promise<void> {
  const backends = await start(config(argv), options);
  try {
    await body(backends);
  } finally {
    await backends.close();
  }
}

/** withBackends for a body that returns what it measured. */
async function withBackendsValue<T>(argv: string[], body: (backends: RunningBackends) => Promise<T>): Promise<T> {
  let value!: T;
  await withBackends(argv, async (backends) => void (value = await body(backends)));
  return value;
}

const stats = (backends: RunningBackends, index = 0) => backends.faults.stats().endpoints[index]!;

describe('h1 backend faults', { timeout: 20_000 }, () => {
  it('--refuse closed: connects are refused (ECONNREFUSED); --refuse reset: accepted, then reset (ECONNRESET)', async () => {
    await withBackends(['--endpoints', '2', '--slow-endpoints', '1', '--refuse', 'closed'], async (backends) => {
      assert.equal(await connectOutcome(backends.ports[0]!), 'ECONNREFUSED');
      assert.equal((await h1Request(backends.ports[1]!)).status, 200, 'the healthy endpoint still answers');
    });
    await withBackends(['--endpoints', '2', '--slow-endpoints', '1', '--refuse', 'reset'], async (backends) => {
      assert.equal(await connectOutcome(backends.ports[0]!), 'ECONNRESET');
      await assert.rejects(h1Request(backends.ports[0]!), { code: 'ECONNRESET' });
      assert.equal((await h1Request(backends.ports[1]!)).status, 200);
      assert.deepEqual(stats(backends).connections, { accepted: 0, refused: 2, reset: 0, dropped: 0, idleClosed: 0, open: 0 });
    });
  });

  it('--reset-share 1 resets the connection instead of answering', async () => {
    await withBackends(['--reset-share', '1'], async (backends) => {
      await assert.rejects(h1Request(backends.ports[0]!, { method: 'POST' }, Buffer.alloc(1000)), { code: 'ECONNRESET' });
      const s = stats(backends);
      assert.equal(s.requests.reset, 1);
      assert.equal(s.connections.reset, 1);
      assert.deepEqual(s.requests.answered, {});
    });
  });

  it('--fail-share answers --fail-status; a share of 0.5 over 200 requests lands within 0.35..0.65', async () => {
    await withBackends(['--fail-share', '1', '--fail-status', '502'], async (backends) => {
      const answer = await h1Request(backends.ports[0]!);
      assert.equal(answer.status, 502);
      assert.equal(answer.headers['x-sluice-endpoint'], String(backends.ports[0]));
    });
    await withBackends(
      ['--fail-share', '0.5'],
      async (backends) => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
        try {
          const answers = await Promise.all(Array.from({ length: 200 }, () => h1Request(backends.ports[0]!, { agent })));
          const failed = answers.filter((a) => a.status === 503).length;
          assert.equal(answers.filter((a) => a.status === 200).length + failed, 200);
          assert.ok(failed >= 70 && failed <= 130, `${failed} of 200 failed`);
          const s = stats(backends);
          assert.deepEqual(s.requests.answered, { 200: 200 - failed, 503: failed });
          assert.equal(s.requests.failed, failed);
          assert.equal(s.requests.total, 200);
        } finally {
          agent.destroy();
        }
      },
      { random: seededRandom(11) },
    );
  });

  it('--idle-close: an idle keep-alive connection gets a plain FIN after D, never announced; a request written as the FIN arrives fails', async () => {
    const idleMs = 300;
    await withBackends(['--idle-close', `${idleMs}ms`], async (backends) => {
      const port = backends.ports[0]!;
      // allowHalfOpen: the client's side stays writable after the FIN, so the raced request really goes out.
      const socket = await rawConnect(port, { port, allowHalfOpen: true });
      const received: Buffer[] = [];
      const ended = rawEnd(socket, received);
      try {
        socket.write('GET /first HTTP/1.1\r\nHost: backend\r\n\r\n');
        const head = await until(socket, (text) => text.includes('\r\n\r\n') && text.length >= text.indexOf('\r\n\r\n') + 4 + 1024, 2000);
        const answeredAt = performance.now();
        assert.match(head, /^HTTP\/1\.1 200 /);
        assert.doesNotMatch(head, /^connection: close/im, 'the close must not be announced');
        assert.doesNotMatch(head, /^keep-alive:/im, 'no Keep-Alive: timeout= hint');
        socket.on('data', (chunk: Buffer) => received.push(chunk));
        // The race, provoked: the second request is written the moment the server's FIN arrives.
        let finAfterMs = 0;
        socket.once('end', () => {
          finAfterMs = performance.now() - answeredAt;
          socket.write('GET /second HTTP/1.1\r\nHost: backend\r\n\r\n');
          // The server's socket is gone, so its kernel answered the request with a reset: the next write fails.
          setTimeout(() => socket.write('GET /third HTTP/1.1\r\nHost: backend\r\n\r\n'), 100);
        });
        const end = await ended;
        assert.ok(finAfterMs >= idleMs * 0.9, `FIN after ${finAfterMs} ms, before the idle time`);
        assert.equal(end.received.length, 0, 'the raced request got an answer');
        assert.ok(end.error === 'EPIPE' || end.error === 'ECONNRESET', `the connection ended with ${end.error ?? 'no error'}`);
        const s = stats(backends);
        assert.equal(s.connections.idleClosed, 1);
        assert.equal(s.requests.total, 1, 'the raced request reached the backend');
      } finally {
        socket.destroy();
      }
    });
  });

  it('--idle-close: a keep-alive client that reuses the connection as it closes sees the reset (socket hang up)', async () => {
    await withBackends(['--idle-close', '200ms'], async (backends) => {
      const port = backends.ports[0]!;
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await h1Request(port, { agent });
        assert.equal(first.status, 200);
        assert.equal(first.headers['keep-alive'], undefined);
        await sleep(20); // the agent puts the socket back in its pool
        const [pooled] = Object.values(agent.freeSockets).flat();
        assert.ok(pooled, 'the connection is pooled');
        const raced = await new Promise<string>((resolve) => {
          pooled.prependOnceListener('end', () => {
            const req = http.get({ host: '127.0.0.1', port, agent, path: '/raced' }, (res) => resolve(`answered ${res.statusCode}`));
            req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
          });
        });
        assert.equal(raced, 'ECONNRESET');
        assert.equal(stats(backends).connections.idleClosed, 1);
      } finally {
        agent.destroy();
      }
    });
  });

  it('--idle-close does not close a connection while its request is in progress', async () => {
    await withBackends(['--idle-close', '100ms', '--latency', '300ms'], async (backends) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        assert.equal((await h1Request(backends.ports[0]!, { agent })).status, 200);
        assert.equal(stats(backends).connections.idleClosed, 0);
      } finally {
        agent.destroy();
      }
    });
  });

  it('--early-status 413: answered while the client is still uploading, Connection: close, then the connection closes', async () => {
    await withBackends(['--early-status', '413', '--early-after-bytes', '1024'], async (backends) => {
      const port = backends.ports[0]!;
      const socket = await rawConnect(port);
      const received: Buffer[] = [];
      const ended = rawEnd(socket, received);
      try {
        const total = 8 * 1024 * 1024;
        socket.write(`POST /upload HTTP/1.1\r\nHost: backend\r\nContent-Length: ${total}\r\n\r\n`);
        socket.write(Buffer.alloc(64 * 1024, 1)); // the first 64 KiB of 8 MiB: the upload is far from done
        const head = await until(socket, (text) => text.includes('\r\n\r\n'), 2000);
        assert.match(head, /^HTTP\/1\.1 413 /);
        assert.match(head, /^connection: close/im);
        socket.on('data', (chunk: Buffer) => received.push(chunk));
        await ended; // closed by the server without the body ever being sent
        assert.equal(stats(backends).requests.early, 1);
        assert.deepEqual(stats(backends).requests.answered, { 413: 1 });
      } finally {
        socket.destroy();
      }
      // A small body, and no body, are answered as usual.
      assert.equal((await h1Request(port, { method: 'POST' }, Buffer.alloc(1024))).status, 200);
      assert.equal((await h1Request(port)).status, 200);
    });
  });

  it('--early-linger: after the early answer the server half-closes and keeps reading, so the rest of the upload is no reset', async () => {
    // Without it the close leaves the body unread and the kernel resets the connection under the client's writes.
    const uploadAfterAnswer = async (argv: string[]): Promise<{ error?: string; fin: boolean; uploaded: number }> =>
      withBackendsValue(argv, async (backends) => {
        // Half-open allowed: like an uploading client, it keeps writing after the server's FIN.
        const port = backends.ports[0]!;
        const socket = await rawConnect(port, { port, allowHalfOpen: true });
        const received: Buffer[] = [];
        const ended = rawEnd(socket, received);
        let fin = false;
        socket.on('end', () => (fin = true));
        // Octets the kernel took without an error: the upload went as far as this before any reset.
        let uploaded = 0;
        const write = (chunk: Buffer): Promise<void> =>
          new Promise<void>((resolve) =>
            socket.write(chunk, (err) => {
              if (!err) uploaded += chunk.length;
              resolve();
            }),
          );
        const total = 8 * 1024 * 1024;
        socket.write(`POST /upload HTTP/1.1\r\nHost: backend\r\nContent-Length: ${total}\r\n\r\n`);
        const first = write(Buffer.alloc(64 * 1024, 1));
        await until(socket, (text) => text.includes('\r\n\r\n'), 2000);
        await first;
        await sleep(50); // the server has closed (or half-closed) by now
        // The rest of the upload, as a client that has not read the answer yet would send it.
        // Exactly Content-Length octets: more would be a next request, which the server could refuse with a reset.
        for (let sent = 64 * 1024; sent < total && !socket.destroyed; sent += 256 * 1024) await write(Buffer.alloc(Math.min(256 * 1024, total - sent), 1));
        socket.end();
        const outcome = await ended;
        return { ...(outcome.error ? { error: outcome.error } : {}), fin, uploaded };
      });
    // Long: the linger ends when the client closes, so this bounds only a slow host's upload.
    const lingering = await uploadAfterAnswer(['--early-status', '413', '--early-linger', '15s']);
    // The whole upload went and the server had half-closed with FIN. (Until 12-07 the test wrote 192 KiB past
    // Content-Length, a bogus next request, and CI once saw the server's answer to it: EPIPE. An error after the
    // whole body, at the client's own close, is not the reset under the upload this is about.)
    assert.equal(lingering.uploaded, 8 * 1024 * 1024, `the whole upload went (${JSON.stringify(lingering)})`);
    assert.equal(lingering.fin, true, 'the server half-closed with FIN');
    const abrupt = await uploadAfterAnswer(['--early-status', '413']);
    assert.match(abrupt.error ?? '', /ECONNRESET|EPIPE/, 'closing with the body unread resets the connection');
    assert.ok(abrupt.uploaded < 8 * 1024 * 1024, `the reset cut the upload (${abrupt.uploaded} octets went)`);
  });

  it('--early-status answers an Expect: 100-continue request without inviting the body', async () => {
    await withBackends(['--early-status', '413'], async (backends) => {
      const socket = await rawConnect(backends.ports[0]!);
      try {
        socket.write('POST / HTTP/1.1\r\nHost: backend\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n');
        const head = await until(socket, (text) => text.includes('\r\n\r\n'), 2000);
        assert.match(head, /^HTTP\/1\.1 413 /, 'no 100 Continue before the answer');
      } finally {
        socket.destroy();
      }
    });
  });

  it('--stall-read: a request with a body is never answered and its body is not read; one without is answered', async () => {
    await withBackends(['--stall-read'], async (backends) => {
      const port = backends.ports[0]!;
      const socket = await rawConnect(port);
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      try {
        const total = 256 * 1024 * 1024;
        socket.write(`POST /upload HTTP/1.1\r\nHost: backend\r\nContent-Length: ${total}\r\n\r\n`);
        // Write until the socket pushes back, then see whether the server drains it.
        const chunk = Buffer.alloc(1024 * 1024, 1);
        let written = 0;
        while (socket.write(chunk)) {
          written += chunk.length;
          if (written >= total) break;
        }
        const drained = await Promise.race([new Promise<boolean>((resolve) => socket.once('drain', () => resolve(true))), sleep(500).then(() => false)]);
        assert.equal(drained, false, 'the server kept reading the body');
        assert.ok(written < total, 'the whole body went out');
        assert.equal(received.length, 0, 'the request was answered');
        assert.equal(stats(backends).requests.stalled, 1);
        assert.equal((await h1Request(port)).status, 200, 'a request without a body is answered');
      } finally {
        socket.destroy();
      }
    });
  });

  it('--slow-endpoints 1 --slow-latency: only the first endpoint is slow, and faulty', async () => {
    const slowMs = 400;
    await withBackends(['--endpoints', '2', '--slow-endpoints', '1', '--slow-latency', `${slowMs}ms`, '--fail-share', '1'], async (backends) => {
      const timed = async (port: number): Promise<[number, number]> => {
        const t0 = performance.now();
        const answer = await h1Request(port);
        return [answer.status, performance.now() - t0];
      };
      const [slowStatus, slowMsTaken] = await timed(backends.ports[0]!);
      const [fastStatus, fastMsTaken] = await timed(backends.ports[1]!);
      assert.equal(slowStatus, 503);
      assert.equal(fastStatus, 200);
      assert.ok(slowMsTaken >= slowMs * 0.95, `the faulty endpoint took ${slowMsTaken} ms`);
      assert.ok(fastMsTaken < slowMs, `the healthy endpoint took ${fastMsTaken} ms`);
      const state = backends.faults.state();
      assert.deepEqual(state.faultySet, [0]);
      assert.deepEqual(
        state.endpoints.map((e) => [e.faulty, e.latency, e.failShare]),
        [
          [true, `${slowMs}ms`, 1],
          [false, '0ms', 0],
        ],
      );
    });
  });

  it('close() ends an idle keep-alive connection at once, without waiting out the grace period', async () => {
    const graceMs = 5000;
    const backends = await start(config([]), { closeGraceMs: graceMs });
    const socket = await rawConnect(backends.ports[0]!);
    try {
      socket.write('GET / HTTP/1.1\r\nHost: backend\r\n\r\n');
      await until(socket, (text) => text.includes('\r\n\r\n'), 2000);
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      const t0 = performance.now();
      await backends.close();
      await closed;
      assert.ok(performance.now() - t0 < graceMs / 2, 'close() waited out the grace period for an idle connection');
      assert.equal(await connectOutcome(backends.ports[0]!), 'ECONNREFUSED');
    } finally {
      socket.destroy();
      await backends.close();
    }
  });
});
