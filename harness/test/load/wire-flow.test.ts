// Seed 000 in miniature: a stream that never reads its body. With the strict receiver (credit returned only
// as data is read, the Rust h2 crate's way) and a 65 535-byte connection window it takes the whole window,
// and a second stream on the connection cannot get its response; with a 16 MiB window, or with the eager
// receiver (node:http2's way), the second stream is answered.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createH2WireClient } from '../../load/clients/h2-wire.js';
import { RequestFailed } from '../../load/clients/client.js';
import { initHistograms } from '../../load/statistic/histogram.js';
import type { LoadOptions } from '../../load/types.js';
import type { WirePool } from '../../load/wire/pool.js';
import { h2Server, quickOptions, measuringRecorder } from './servers.js';

const BODY = Buffer.alloc(100_000, 0x61);

interface StallOutcome {
  /** How the second request ended: 'ok' or its error class. */
  second: string;
  /** Whether the server finished writing the second response's body within the wait. */
  secondDrained: boolean;
}

/**
 * One connection: the first stream is stalled; the server answers it at once (100 000 bytes unless told), and the
 * second one 200 ms later (so the stalled stream has taken what it can of the window first).
 */
async function stallRun(overrides: Partial<LoadOptions>, firstBody = BODY): Promise<StallOutcome> {
  let secondDrained = false;
  const server = await h2Server((stream, n) => {
    stream.resume();
    const answer = (): void => {
      if (stream.destroyed) return;
      const body = n === 1 ? firstBody : BODY;
      stream.respond({ ':status': 200, 'content-length': String(body.length) });
      stream.end(body, () => {
        if (n === 2) secondDrained = true;
      });
    };
    if (n === 1) answer();
    else setTimeout(answer, 200);
  });
  await initHistograms();
  const { recorder, destroy } = measuringRecorder();
  const options = quickOptions(server.url, 'h2', { connections: 1, streamsPerConnection: 2, timeoutMs: 1000, stallStreams: 1, ...overrides });
  const client = createH2WireClient(options, recorder) as WirePool;
  try {
    const stalled = client.startRequest();
    stalled.catch(() => undefined); // settles only when the client closes
    const second = await client.startRequest().then(
      () => 'ok',
      (err: unknown) => (err instanceof RequestFailed ? err.errorClass : String(err)),
    );
    return { second, secondDrained };
  } finally {
    await client.close();
    destroy();
    await server.close();
  }
}

// Each case on both connections: connection.ts's own, and the h2/ library's (wire/h2-connection.ts, `wireConnection: 'h2'`).
const on = (c: 'wire' | 'h2'): string => (c === 'h2' ? ' on h2/connection.ts' : '');
for (const wireConnection of ['wire', 'h2'] as const) {
  test(`wire flow${on(wireConnection)}: strict receiver, one stalled stream, 65 535-byte connection window: the second stream is starved`, async () => {
    const outcome = await stallRun({ wireConnection, receiver: 'strict', h2ConnWindow: 65_535 });
    assert.deepEqual(outcome, { second: 'timeout', secondDrained: false });
  });

  test(`wire flow${on(wireConnection)}: strict receiver, one stalled stream, 16 MiB connection window: the second stream is answered`, async () => {
    const outcome = await stallRun({ wireConnection, receiver: 'strict', h2ConnWindow: 16 * 1024 * 1024 });
    assert.deepEqual(outcome, { second: 'ok', secondDrained: true });
  });

  test(`wire flow${on(wireConnection)}: eager receiver, one stalled stream, 65 535-byte connection window: the second stream is answered`, async () => {
    const outcome = await stallRun({ wireConnection, receiver: 'eager', h2ConnWindow: 65_535 });
    assert.deepEqual(outcome, { second: 'ok', secondDrained: true });
  });

  test(`wire flow${on(wireConnection)}: the strict receiver returns credit as bodies are read, so many large responses pass a 65 535 window`, async () => {
    const server = await h2Server((stream) => {
      stream.resume();
      stream.respond({ ':status': 200, 'content-length': String(BODY.length) });
      stream.end(BODY);
    });
    await initHistograms();
    const { recorder, destroy } = measuringRecorder();
    const options = quickOptions(server.url, 'h2', { wireConnection, connections: 1, receiver: 'strict', h2ConnWindow: 65_535, h2StreamWindow: 16_384 });
    const client = createH2WireClient(options, recorder) as WirePool;
    try {
      const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => client.startRequest()));
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 20, JSON.stringify(recorder.counts().errors));
    } finally {
      await client.close();
      destroy();
      await server.close();
    }
  });

  test(`wire flow${on(wireConnection)}: strict receiver, a stalled stream holding part of a 65 535 window: the rest still cycles`, async () => {
    // The stalled stream's whole 30 000-byte answer sits unread; WINDOW_UPDATEs for the second stream's reads must
    // still go out although the window left never gets back above half its size (h2's rule, not a fixed threshold).
    const outcome = await stallRun({ wireConnection, receiver: 'strict', h2ConnWindow: 65_535 }, Buffer.alloc(30_000, 0x62));
    assert.deepEqual(outcome, { second: 'ok', secondDrained: true });
  });
}
