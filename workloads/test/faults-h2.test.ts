import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { describe, it } from 'node:test';
import { H2_CODE } from '../../common/h2-codes.js';
import { start } from '../backends/h2.js';
import { seededRandom } from '../backends/latency.js';
import type { RunningBackends, StartOptions } from '../backends/types.js';
import { config, connectOutcome, h2Connect, h2Request, ping, sleep } from './fault-clients.js';

async function withBackends(argv: string[], body: (backends: RunningBackends) => Promise<void>, options: StartOptions = {}): Promise<void> {
  const backends = await start(config(['--protocol', 'h2', ...argv]), options);
  try {
    await body(backends);
  } finally {
    await backends.close();
  }
}

/** Runs `body` with an h2 session to the port, closed (destroyed) whatever happens. */
async function withSession(port: number, body: (session: http2.ClientHttp2Session) => Promise<void>): Promise<void> {
  const session = await h2Connect(port);
  session.on('error', () => undefined);
  try {
    await body(session);
  } finally {
    session.destroy();
  }
}

const stats = (backends: RunningBackends, index = 0) => backends.faults.stats().endpoints[index]!;

describe('h2 backend faults', { timeout: 20_000 }, () => {
  it('--reset-share 1 --reset-code: every request is reset with that RST_STREAM code, the session lives on', async () => {
    await withBackends(['--reset-share', '1', '--reset-code', 'ENHANCE_YOUR_CALM'], async (backends) => {
      await withSession(backends.ports[0]!, async (session) => {
        const outcomes = await Promise.all([h2Request(session), h2Request(session, { ':method': 'POST' }, Buffer.alloc(100_000))]);
        for (const outcome of outcomes) {
          assert.equal(outcome.rstCode, H2_CODE.ENHANCE_YOUR_CALM);
          assert.equal(outcome.status, undefined, 'a reset request got a response');
        }
        assert.equal(session.destroyed, false);
        assert.equal(stats(backends).requests.reset, 2);
      });
    });
  });

  it('--reset-share defaults to INTERNAL_ERROR', async () => {
    await withBackends(['--reset-share', '1'], async (backends) => {
      await withSession(backends.ports[0]!, async (session) => {
        assert.equal((await h2Request(session)).rstCode, H2_CODE.INTERNAL_ERROR);
      });
    });
  });

  it('--fail-share answers --fail-status; a share of 0.5 over 200 requests lands within 0.35..0.65', async () => {
    await withBackends(['--fail-share', '1', '--fail-status', '429'], async (backends) => {
      await withSession(backends.ports[0]!, async (session) => {
        const outcome = await h2Request(session);
        assert.equal(outcome.status, 429);
        assert.equal(outcome.rstCode, 0);
      });
    });
    await withBackends(
      ['--fail-share', '0.5'],
      async (backends) => {
        await withSession(backends.ports[0]!, async (session) => {
          const outcomes = await Promise.all(Array.from({ length: 200 }, () => h2Request(session)));
          const failed = outcomes.filter((o) => o.status === 503).length;
          assert.equal(outcomes.filter((o) => o.status === 200).length + failed, 200);
          assert.ok(failed >= 70 && failed <= 130, `${failed} of 200 failed`);
          assert.deepEqual(stats(backends).requests.answered, { 200: 200 - failed, 503: failed });
        });
      },
      { random: seededRandom(12) },
    );
  });

  it('--early-status 413: answered while the client is still uploading, then RST_STREAM(NO_ERROR) on the request side', async () => {
    await withBackends(['--early-status', '413'], async (backends) => {
      await withSession(backends.ports[0]!, async (session) => {
        const total = 8 * 1024 * 1024;
        const stream = session.request({ ':method': 'POST', ':path': '/upload', 'content-length': total });
        stream.on('error', () => undefined);
        let status = 0;
        let bodyEnded = false;
        const responded = new Promise<void>((resolve) => stream.on('response', (headers) => ((status = Number(headers[':status'])), resolve())));
        stream.on('end', () => (bodyEnded = true));
        stream.resume();
        stream.write(Buffer.alloc(64 * 1024, 1)); // 64 KiB of 8 MiB; the client never finishes
        await responded;
        assert.equal(status, 413);
        await new Promise<void>((resolve) => stream.on('close', () => resolve()));
        assert.equal(stream.rstCode, H2_CODE.NO_ERROR);
        assert.ok(bodyEnded, 'the response ended with END_STREAM before the reset');
        assert.equal(stats(backends).requests.early, 1);
        // A request without a body is answered as usual, on the same session.
        assert.equal((await h2Request(session)).status, 200);
      });
    });
  });

  it('--stall-read: a request with a body is never answered, and the client\'s stream window stays at 0 after one window', async () => {
    const streamWindow = 65_535;
    await withBackends(['--stall-read', '--stream-window', String(streamWindow)], async (backends) => {
      await withSession(backends.ports[0]!, async (session) => {
        await ping(session); // the server's SETTINGS and connection WINDOW_UPDATE are in
        const before = session.state.remoteWindowSize!;
        const stream = session.request({ ':method': 'POST', ':path': '/upload' });
        stream.on('error', () => undefined);
        let answered = false;
        stream.on('response', () => (answered = true));
        stream.write(Buffer.alloc(1024 * 1024, 1));
        await sleep(500);
        await ping(session);
        // Only the stream's window went out: the connection window (16 MiB, updated at half) shows every byte sent.
        assert.equal(before - session.state.remoteWindowSize!, streamWindow);
        assert.equal(answered, false);
        assert.equal(stats(backends).requests.stalled, 1);
        const plain = await h2Request(session);
        assert.equal(plain.status, 200, 'a request without a body is answered');
        stream.close();
      });
    });
  });

  it('--refuse reset: the connection is reset before the session starts', async () => {
    await withBackends(['--refuse', 'reset'], async (backends) => {
      assert.equal(await connectOutcome(backends.ports[0]!), 'ECONNRESET');
      await assert.rejects(h2Connect(backends.ports[0]!), (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET');
    });
  });
});
