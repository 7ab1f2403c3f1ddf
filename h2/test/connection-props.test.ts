// fast-check over generated frame sequences fed to a server connection in arbitrary chunks, with an
// application that answers, streams bodies, consumes and resets at random, and a transport that sometimes
// stops reading: receive() never throws, the state stays under the configured bounds after every chunk, and
// the connection ends open (no reason) or closed with a recorded reason. A fake clock advances between reads and
// the timers (tick) run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { H2Connection } from '../connection.js';
import { encodeFrame, PREFACE, settingsFrame } from '../frames.js';
import { HpackEncoder } from '../hpack/encoder.js';
import { MemoryTransport, u32 } from './wire.js';

const LIMITS = { maxOutboundControlFrames: 50, maxOutboundFrames: 200, maxBufferedBytes: 100_000, resetBurst: 20, streamIdleTimeoutMs: 3000, settingsTimeoutMs: 10_000 };
const MAX_STREAMS = 4;

const encoder = new HpackEncoder();
const requestBlock = encoder.encode([[':method', 'POST'], [':scheme', 'http'], [':authority', 'x'], [':path', '/p']]);

/** A peer's script: each op writes one frame given the streams it opened so far (so most sequences are plausible, some hostile). */
interface Ctx {
  next: number;
  opened: number[];
}
type Op = (ctx: Ctx) => Buffer;

/** A stream of the script: one opened (mostly), else 0, an even id or any id. */
const target = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 0, max: 5 }).map((back) => (ctx: Ctx): number => ctx.opened[Math.max(0, ctx.opened.length - 1 - back)] ?? 1) },
  { weight: 1, arbitrary: fc.constantFrom(0, 2).map((id) => (): number => id) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** 31 - 1 }).map((id) => (): number => id) },
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.boolean().map((end) => (ctx: Ctx): Buffer => {
      const id = ctx.next;
      ctx.next += 2;
      ctx.opened.push(id);
      return encodeFrame(0x1, 0x4 | (end ? 1 : 0), id, requestBlock);
    }),
  },
  { weight: 1, arbitrary: fc.tuple(target, fc.boolean()).map(([t, end]) => (ctx: Ctx) => encodeFrame(0x1, 0x4 | (end ? 1 : 0), t(ctx), requestBlock)) },
  {
    weight: 10,
    arbitrary: fc
      .tuple(target, fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 16_384 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 17_000 }) }), fc.boolean())
      .map(([t, n, end]) => (ctx: Ctx) => encodeFrame(0x0, end ? 1 : 0, t(ctx), Buffer.alloc(n, 1))),
  },
  { weight: 3, arbitrary: fc.tuple(target, fc.oneof(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }))).map(([t, inc]) => (ctx: Ctx) => encodeFrame(0x8, 0, t(ctx), u32(inc))) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 100_000 }).map((inc) => () => encodeFrame(0x8, 0, 0, u32(inc))) },
  { weight: 2, arbitrary: fc.tuple(target, fc.integer({ min: 0, max: 13 })).map(([t, code]) => (ctx: Ctx) => encodeFrame(0x3, 0, t(ctx), u32(code))) },
  { weight: 2, arbitrary: fc.boolean().map((ack) => () => encodeFrame(0x6, ack ? 1 : 0, 0, Buffer.alloc(8))) },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.tuple(fc.integer({ min: 1, max: 8 }), fc.oneof(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 16_384, max: 200_000 }), fc.integer({ min: 0, max: 2 ** 31 }))), { maxLength: 6 })
      .map((s) => () => settingsFrame(s)),
  },
  { weight: 1, arbitrary: fc.constant(() => encodeFrame(0x4, 1, 0)) },
  { weight: 1, arbitrary: fc.tuple(target, fc.boolean()).map(([t, end]) => (ctx: Ctx) => encodeFrame(0x9, end ? 4 : 0, t(ctx), Buffer.from([0x82]))) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 255 }), target, fc.uint8Array({ maxLength: 40 })).map(([type, f, t, p]) => (ctx: Ctx) => encodeFrame(type, f, t(ctx), Buffer.from(p))) },
  { weight: 1, arbitrary: fc.constant(() => encodeFrame(0x7, 0, 0, Buffer.concat([u32(0), u32(0)]))) },
);

const action = fc.constantFrom('respond', 'data', 'trailers', 'consume', 'reset', 'ping', 'goaway', 'none');

const seen = { runs: 0, headers: 0, data: 0, open: 0, codes: new Map<number, number>() };

test('h2 connection props: receive() never throws, bounds hold, the end state is defined', () => {
  fc.assert(
    fc.property(
      fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      fc.array(opArb, { maxLength: 60 }),
      fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 20 }),
      fc.array(action, { minLength: 1, maxLength: 20 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }),
      fc.array(fc.integer({ min: 0, max: 4000 }), { minLength: 1, maxLength: 10 }),
      fc.boolean(),
      (goodStart, ops, cuts, actions, accepts, advances, adaptive) => {
        let now = 0;
        const t = new MemoryTransport();
        let step = 0;
        const conn: H2Connection = new H2Connection(
          'server',
          t,
          {
            onHeaders: (id) => {
              seen.headers++;
              act(id);
            },
            onData: (id, d) => {
              seen.data++;
              act(id);
              if (step % 2 === 0) conn.consume(id, d.length);
            },
          },
          { settings: { maxConcurrentStreams: MAX_STREAMS }, limits: LIMITS, now: () => now, flow: adaptive ? { adaptive: { minIntervalMs: 0 } } : 'fixed' },
        );
        const act = (id: number): void => {
          const a = actions[step++ % actions.length]!;
          if (a === 'respond') conn.respond(id, [[':status', '200']]);
          else if (a === 'data') conn.sendData(id, Buffer.alloc(30_000), false);
          else if (a === 'trailers') conn.sendTrailers(id, [['grpc-status', '0']]);
          else if (a === 'consume') conn.consume(id, 1000);
          else if (a === 'reset') conn.reset(id);
          else if (a === 'ping') conn.ping();
          else if (a === 'goaway') conn.goaway();
        };
        // The first stream is opened up front (else most scripts die at once on an idle stream).
        const ctx: Ctx = { next: 3, opened: [1] };
        const bytes = Buffer.concat([goodStart ? Buffer.concat([PREFACE, settingsFrame([]), encodeFrame(0x1, 0x4, 1, requestBlock)]) : Buffer.alloc(0), ...ops.map((op) => op(ctx))]);
        let at = 0;
        for (let i = 0; at < bytes.length; i++) {
          const n = cuts[i % cuts.length]!;
          t.accept = accepts[i % accepts.length]!;
          assert.doesNotThrow(() => conn.receive(bytes.subarray(at, at + n)));
          at += n;
          if (t.accept) conn.drained();
          // Time passes between reads; the timers run (idle streams, SETTINGS_TIMEOUT, the graceful GOAWAY's PING).
          now += advances[i % advances.length]!;
          assert.doesNotThrow(() => conn.tick());
          const s = conn.stats();
          assert.ok(s.streams <= MAX_STREAMS, `streams ${s.streams}`);
          assert.ok(s.bufferedBytes <= LIMITS.maxBufferedBytes, `buffered ${s.bufferedBytes}`);
          assert.ok(s.queuedControlFrames <= LIMITS.maxOutboundControlFrames, `control ${s.queuedControlFrames}`);
          assert.ok(s.queuedFrames <= LIMITS.maxOutboundFrames, `frames ${s.queuedFrames}`);
          assert.ok(s.bufferedBytes >= 0);
        }
        seen.runs++;
        if (conn.state !== 'closed') seen.open++;
        else seen.codes.set(conn.closeReason!.code, (seen.codes.get(conn.closeReason!.code) ?? 0) + 1);
        if (conn.state === 'closed') {
          assert.ok(conn.closeReason !== undefined, 'a closed connection says why');
          assert.deepEqual(conn.stats(), { streams: 0, bufferedBytes: 0, queuedControlFrames: 0, queuedFrames: 0, queuedOutputBytes: 0 });
        } else {
          assert.equal(conn.closeReason, undefined);
          assert.ok(conn.state === 'open' || conn.state === 'draining');
        }
      },
    ),
    { numRuns: 300 },
  );
  // The generator reaches the paths it means to: streams opened, bodies read, runs that end open and closed.
  assert.ok(seen.headers > 50 && seen.data > 20 && seen.open > 10 && seen.codes.size >= 3, JSON.stringify({ ...seen, codes: [...seen.codes] }));
});
