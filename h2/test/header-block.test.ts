// Header blocks joined over CONTINUATION, nothing else in between, and the CONTINUATION-flood bounds (frame count,
// encoded octets) refused with ENHANCE_YOUR_CALM; over generated splits (fast-check) the block comes back whole.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { H2_ERROR, H2ProtocolError, H2StreamError } from '../errors.js';
import { parseFrame, type Frame } from '../frame-parse.js';
import { encodeFrame, FLAG, FRAME, FrameReader, headersFrames, pingFrame } from '../frames.js';
import { HeaderBlockAssembler, type HeaderBlock, type HeaderBlockLimits } from '../header-block.js';

/** Feeds a byte stream through the reader, the parser and the assembler; returns the blocks (copied). */
function assemble(bytes: Buffer, limits?: HeaderBlockLimits): Array<Omit<HeaderBlock, 'block'> & { block: string }> {
  const blocks: Array<Omit<HeaderBlock, 'block'> & { block: string }> = [];
  const assembler = new HeaderBlockAssembler((b) => blocks.push({ ...b, block: b.block.toString('hex') }), limits);
  const reader = new FrameReader({
    onFrame: (type, flags, streamId, payload, start, end) => {
      assembler.frame(parseFrame(type, flags, streamId, payload, start, end));
    },
    onData: () => {
      if (assembler.pending) throw new H2ProtocolError(H2_ERROR.PROTOCOL_ERROR, 'DATA inside a header block');
    },
  }, 16_384);
  reader.push(bytes);
  return blocks;
}

const conn = (code: number) => (err: unknown): boolean => err instanceof H2ProtocolError && err.h2Code === code;
const continuation = (streamId: number, fragment: Buffer, end: boolean): Buffer => encodeFrame(FRAME.CONTINUATION, end ? FLAG.END_HEADERS : 0, streamId, fragment);

test('h2 header blocks: one HEADERS, and HEADERS + CONTINUATION, come out whole with their flags', () => {
  const block = Buffer.from(Array.from({ length: 40_000 }, (_, i) => i & 0xff));
  const [one, split] = [assemble(headersFrames(1, Buffer.from([0x82, 0x86]), true)), assemble(headersFrames(3, block, false))];
  assert.deepEqual(one, [{ kind: 'HEADERS', streamId: 1, endStream: true, priority: undefined, promisedStreamId: 0, continuations: 0, block: '8286' }]);
  assert.equal(split.length, 1);
  assert.equal(split[0]!.block, block.toString('hex'));
  assert.equal(split[0]!.continuations, 2);
  assert.equal(split[0]!.endStream, false);
  const promise = assemble(Buffer.concat([encodeFrame(FRAME.PUSH_PROMISE, 0, 1, Buffer.from([0, 0, 0, 2, 0x82])), continuation(1, Buffer.from([0x84]), true)]));
  assert.deepEqual(promise.map((b) => [b.kind, b.promisedStreamId, b.block]), [['PUSH_PROMISE', 2, '8284']]);
});

test('h2 header blocks: any other frame inside a block, or a stray CONTINUATION, is a PROTOCOL_ERROR', () => {
  const open = encodeFrame(FRAME.HEADERS, 0, 1, Buffer.from([0x82]));
  for (const [what, next] of [
    ['PING', pingFrame(Buffer.alloc(8), false)],
    ['an unknown type', encodeFrame(0x42, 0, 0, Buffer.alloc(1))],
    ['HEADERS', open],
    ['CONTINUATION on another stream', continuation(3, Buffer.from([0x84]), true)],
  ] as const) {
    assert.throws(() => assemble(Buffer.concat([open, next])), conn(H2_ERROR.PROTOCOL_ERROR), what);
  }
  assert.throws(() => assemble(continuation(1, Buffer.from([0x84]), true)), conn(H2_ERROR.PROTOCOL_ERROR), 'CONTINUATION with no block open');
});

test('h2 header blocks: a CONTINUATION flood is ENHANCE_YOUR_CALM past 8 frames or 64 KiB', () => {
  const open = encodeFrame(FRAME.HEADERS, 0, 1, Buffer.from([0x82]));
  const flood = (n: number): Buffer => Buffer.concat([open, ...Array.from({ length: n }, (_, i) => continuation(1, Buffer.alloc(0), i === n - 1))]);
  assert.equal(assemble(flood(8)).length, 1, 'eight CONTINUATION frames: accepted');
  assert.throws(() => assemble(flood(9)), conn(H2_ERROR.ENHANCE_YOUR_CALM), 'nine');
  assert.throws(() => assemble(flood(100_000)), conn(H2_ERROR.ENHANCE_YOUR_CALM), 'a hundred thousand: refused at the ninth');
  const big = Buffer.concat([encodeFrame(FRAME.HEADERS, 0, 1, Buffer.alloc(16_384)), ...Array.from({ length: 4 }, (_, i) => continuation(1, Buffer.alloc(16_384), i === 3))]);
  assert.throws(() => assemble(big), conn(H2_ERROR.ENHANCE_YOUR_CALM), '80 KiB encoded');
  assert.equal(assemble(big, { maxBlockBytes: 100_000 }).length, 1, 'within a larger bound');
});

test('h2 header blocks props: a block split at any sizes comes back whole; random frame orders throw only typed errors', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 8 }), (bytes, sizes) => {
      const block = Buffer.from(bytes);
      const frames: Buffer[] = [];
      let from = 0;
      sizes.forEach((size, i) => {
        const to = Math.min(block.length, from + size);
        frames.push(i === 0 ? encodeFrame(FRAME.HEADERS, 0, 5, block.subarray(from, to)) : continuation(5, block.subarray(from, to), false));
        from = to;
      });
      const last = block.subarray(from);
      frames.push(frames.length === 0 ? encodeFrame(FRAME.HEADERS, FLAG.END_HEADERS, 5, last) : continuation(5, last, true));
      const blocks = assemble(Buffer.concat(frames));
      assert.deepEqual(blocks.map((b) => [b.block, b.continuations]), [[block.toString('hex'), frames.length - 1]]);
    }),
    { numRuns: 300 },
  );
  const anyFrame = fc.tuple(fc.constantFrom(FRAME.HEADERS, FRAME.CONTINUATION, FRAME.PUSH_PROMISE, FRAME.PING, FRAME.DATA, 0x42), fc.nat({ max: 0xff }), fc.nat({ max: 3 }), fc.uint8Array({ maxLength: 12 }));
  fc.assert(
    fc.property(fc.array(anyFrame, { maxLength: 12 }), (frames) => {
      const assembler = new HeaderBlockAssembler(() => {}, { maxContinuations: 3, maxBlockBytes: 40 });
      try {
        for (const [type, flags, streamId, payload] of frames) {
          const frame: Frame = parseFrame(type, flags, streamId, Buffer.from(payload), 0, payload.length);
          assembler.frame(frame);
        }
      } catch (err) {
        if (!(err instanceof H2ProtocolError || err instanceof H2StreamError)) throw err;
      }
    }),
    { numRuns: 2000 },
  );
});
