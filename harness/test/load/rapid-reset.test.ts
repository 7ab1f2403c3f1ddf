// The rapid-reset attacker (LoadOptions.attack 'rapid-reset', CVE-2023-44487): every request is its HEADERS
// (and body) followed by RST_STREAM(CANCEL) in the same write, done without an answer. On the wire (a raw
// server reading the frames), against node:http2 (every stream it starts is cancelled), against a server that
// answers GOAWAY(ENHANCE_YOUR_CALM) after a number of resets and against node's own reset budget (the record
// shows the GOAWAYs, the connections closed and the reconnections), in open loop at its rate, and refused
// where it cannot be done.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net, { type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { LoadOptionsError } from '../../load/options.js';
import { runLoad } from '../../load/run-load.js';
import type { LoadOptions, Protocol } from '../../load/types.js';
import { FRAME, FrameReader, PREFACE, settingsFrame, windowUpdateFrame, type FrameHandler } from '../../../h2/frames.js';
import { h2Server, quickOptions } from './servers.js';

const { NGHTTP2_CANCEL, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

interface WireFrame {
  type: number;
  flags: number;
  streamId: number;
  /** RST_STREAM: its code. */
  code?: number;
}

/**
 * A raw h2c peer that sends an empty SETTINGS, never answers a stream, and keeps every frame the client sent;
 * like a real server it gives back the connection window of every DATA frame (reset streams' included).
 */
async function frameRecorder(): Promise<{ url: string; frames: WireFrame[]; closed: Promise<void>; close(): Promise<void> }> {
  const frames: WireFrame[] = [];
  const sockets = new Set<Socket>();
  let closedOne!: () => void;
  const closed = new Promise<void>((resolve) => (closedOne = resolve));
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.write(settingsFrame([]));
    const handler: FrameHandler = {
      onFrame: (type, flags, streamId, buf, start) =>
        void frames.push({ type, flags, streamId, ...(type === FRAME.RST_STREAM ? { code: buf.readUInt32BE(start) } : {}) }),
      onData: (streamId, flags, flowBytes) => {
        frames.push({ type: FRAME.DATA, flags, streamId });
        if (flowBytes > 0 && !socket.destroyed) socket.write(windowUpdateFrame(0, flowBytes));
      },
    };
    const reader = new FrameReader(handler);
    let preface = 0;
    socket.on('data', (chunk: Buffer) => {
      const skip = Math.min(PREFACE.length - preface, chunk.length);
      preface += skip;
      if (skip < chunk.length) reader.push(chunk.subarray(skip));
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      closedOne();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    frames,
    closed,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const attackOptions = (url: string, protocol: Protocol, overrides: Partial<LoadOptions> = {}): LoadOptions =>
  quickOptions(url, protocol, { connections: 1, streamsPerConnection: 4, durationMs: 300, warmupMs: 0, attack: 'rapid-reset', ...overrides });

// Every attack case on both connections: connection.ts's (rapid-reset.ts) and the h2/ library's (h2-connection.ts's H2LibraryRapidReset).
const on = (c: 'wire' | 'h2'): string => (c === 'h2' ? ' on h2/connection.ts' : '');
for (const wireConnection of ['wire', 'h2'] as const) {
  const attackOn = (url: string, protocol: Protocol, overrides: Partial<LoadOptions> = {}): LoadOptions => attackOptions(url, protocol, { wireConnection, ...overrides });
  for (const protocol of ['h2', 'grpc'] as const) {
    test(`rapid reset${on(wireConnection)} (${protocol}): every stream is HEADERS${protocol === 'grpc' ? ', its DATA' : ''} and RST_STREAM(CANCEL), adjacent on the wire`, async () => {
      const peer = await frameRecorder();
      try {
        const r = await runLoad(attackOn(peer.url, protocol));
        await peer.closed;
        const streamFrames = peer.frames.filter((f) => f.streamId !== 0);
        const perStream = protocol === 'grpc' ? 3 : 2;
        assert.ok(streamFrames.length >= perStream, 'some streams were sent');
        for (let i = 0; i + perStream <= streamFrames.length; i += perStream) {
          const [headers, ...rest] = streamFrames.slice(i, i + perStream);
          const rst = rest[rest.length - 1]!;
          assert.equal(headers!.type, FRAME.HEADERS, `frame ${i}`);
          if (protocol === 'grpc') {
            // The request message goes whole, with END_STREAM, before the reset.
            assert.deepEqual(rest[0], { type: FRAME.DATA, flags: 0x1, streamId: headers!.streamId });
          } else {
            assert.equal(headers!.flags & 0x1, 0x1, 'HEADERS with END_STREAM');
          }
          assert.deepEqual(rst, { type: FRAME.RST_STREAM, flags: 0, streamId: headers!.streamId, code: NGHTTP2_CANCEL });
        }
        assert.equal(streamFrames.length % perStream, 0);
        // Every stream written in the window reached the peer, and is counted apart from requests.
        assert.equal(r.attack?.streams, streamFrames.length / perStream);
        assert.equal(r.requests, 0);
        assert.deepEqual(r.errors, {});
        assert.equal(r.attack?.kind, 'rapid-reset');
      } finally {
        await peer.close();
      }
    });
  }

  test(`rapid reset${on(wireConnection)} against node:http2: every stream the server starts is cancelled by the generator`, async () => {
    let streams = 0;
    let cancelled = 0;
    const otherCodes: number[] = [];
    const server = await h2Server((stream) => {
      streams++;
      // Never answered: only the generator's RST_STREAM ends it.
      stream.on('close', () => {
        if (stream.rstCode === NGHTTP2_CANCEL) cancelled++;
        else otherCodes.push(stream.rstCode);
      });
    });
    try {
      // Open loop, about 400 streams: under node's own reset budget (nghttp2: a burst of 1000). A closed loop sent
      // 10 000 here; past the budget the server ends the session with GOAWAY and closes a stream it had started
      // itself, REFUSED_STREAM (CI saw one in 10 384), which is the budget's doing, not the generator's.
      const r = await runLoad(attackOn(server.url, 'h2', { durationMs: 200, rate: 2000 }));
      assert.ok(r.attack!.streams < 1000, `${r.attack!.streams} streams: under nghttp2's reset burst`);
      assert.deepEqual(r.goawayReceived ?? {}, {}, 'the server never ended the session');
      // The last closes may come a moment after the run (seconds on a loaded machine: CI once saw one missing at 0.5 s,
      // and one failed at 3 s with two other test files running beside it).
      const giveUp = Date.now() + 10_000;
      while (cancelled + otherCodes.length < streams && Date.now() < giveUp) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(streams > 0);
      assert.equal(cancelled, streams, `${streams} started, ${cancelled} cancelled, closed with other codes: ${JSON.stringify(otherCodes)}`);
      assert.ok(r.attack!.streams >= streams, `${r.attack!.streams} sent, ${streams} started by the server`);
      assert.equal(r.requests, 0);
      assert.equal(r.latencyMs.max, 0, 'no latency outcome');
    } finally {
      await server.close();
    }
  });

  test(`rapid reset${on(wireConnection)}: a server that answers GOAWAY(ENHANCE_YOUR_CALM) after 50 resets: the record shows the GOAWAYs and the reconnections`, async () => {
    const RESETS = 50;
    const sessions = new Set<http2.ServerHttp2Session>();
    const resets = new Map<http2.ServerHttp2Session, number>();
    const server = await h2Server((stream, _n, session) => {
      sessions.add(session);
      stream.on('close', () => {
        if (stream.rstCode !== NGHTTP2_CANCEL || session.destroyed) return;
        const n = (resets.get(session) ?? 0) + 1;
        resets.set(session, n);
        // The final GOAWAY carries the code (only when destroy is given an error too), then the socket closes.
        if (n === RESETS) session.destroy(new Error('enhance your calm'), NGHTTP2_ENHANCE_YOUR_CALM);
      });
    });
    try {
      // Long enough for two closes and their reconnections on a busy host (an idle one does it in ~0.1 s).
      const r = await runLoad(attackOn(server.url, 'h2', { durationMs: 1500 }));
      const attack = r.attack!;
      assert.ok((attack.goaway['ENHANCE_YOUR_CALM'] ?? 0) >= 2, JSON.stringify(attack));
      assert.deepEqual(Object.keys(attack.goaway), ['ENHANCE_YOUR_CALM']);
      assert.deepEqual(attack.goaway, r.goawayReceived);
      assert.ok(attack.connectionsClosed >= 2 && attack.reconnects >= 2, JSON.stringify(attack));
      // Each connection the server closed was replaced (the last one may still be closing when the run ends).
      assert.ok(attack.reconnects >= attack.connectionsClosed - 1, JSON.stringify(attack));
      assert.ok(sessions.size >= 3, `${sessions.size} sessions`);
      assert.deepEqual(r.connections, { closedByPeer: attack.connectionsClosed, opened: attack.reconnects });
    } finally {
      await server.close();
    }
  });

  test(`rapid reset${on(wireConnection)} against node:http2's own reset budget (nghttp2 >= 1.57): GOAWAY(INTERNAL_ERROR), then a new connection`, async () => {
    const server = await h2Server(() => undefined);
    try {
      // Long enough for a burst of 1000 resets and a reconnection on a busy host.
      const r = await runLoad(attackOn(server.url, 'h2', { durationMs: 2000, streamsPerConnection: 16 }));
      const attack = r.attack!;
      // 1000 resets in a burst, 33 a second after that, per connection.
      assert.ok(attack.streams > 1000, JSON.stringify(attack));
      assert.ok((attack.goaway['INTERNAL_ERROR'] ?? 0) >= 1, JSON.stringify(attack));
      assert.ok(attack.connectionsClosed >= 1 && attack.reconnects >= 1, JSON.stringify(attack));
    } finally {
      await server.close();
    }
  });

  test(`rapid reset${on(wireConnection)} in open loop: streams at the rate, none of them a request`, async () => {
    const peer = await frameRecorder();
    try {
      const r = await runLoad(attackOn(peer.url, 'h2', { rate: 2000, durationMs: 500 }));
      const streams = r.attack!.streams;
      // Against the schedule the window really had (its length is the timer's), then the schedule against the rate.
      const due = r.openLoop?.due ?? 0;
      assert.ok(Math.abs(streams - due) <= 0.05 * due, `${streams} streams sent, ${due} due`);
      assert.ok(Math.abs(due - 1000) <= 100, `${due} streams due at 2000/s for 0.5 s`);
      assert.equal(r.openLoop?.sent, streams);
      assert.equal(r.requests, 0);
    } finally {
      await peer.close();
    }
  });
}

test('rapid reset is refused where it cannot be done, naming attack', async () => {
  const base = quickOptions('http://127.0.0.1:1/', 'h2');
  const cases: Partial<LoadOptions>[] = [
    { attack: 'rapid-reset', protocol: 'h1' },
    { attack: 'rapid-reset', client: 'lib' },
    { attack: 'rapid-reset', protocol: 'grpc', client: 'lib' },
    { attack: 'rapid-reset', generator: 'h2load' },
    { attack: 'rapid-reset', stallStreams: 1 },
    { attack: 'slowloris' as 'rapid-reset' },
  ];
  for (const override of cases) {
    await assert.rejects(runLoad({ ...base, ...override }), (err: unknown) => err instanceof LoadOptionsError && err.option === 'attack', JSON.stringify(override));
  }
});
