// The decoder's cache of whole header blocks: a hit must decode exactly as the block would decode now, so a
// block's octets seen again after the dynamic table changed are decoded again, and a block that changed the
// table is never replayed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { H2ProtocolError, HeaderListTooLargeError } from '../errors.js';
import { BlockCache, MAX_CACHED_BLOCK } from '../hpack/block-cache.js';
import { HpackDecoder } from '../hpack/decoder.js';

type Fields = Array<[string, string]>;

/** The fields a block decodes to, or the error it throws, as a comparable value. */
function outcome(decoder: HpackDecoder, block: Buffer): { fields: Fields; size?: number; error?: string } {
  const fields: Fields = [];
  try {
    const size = decoder.decode(block, 0, block.length, { onHeader: (n, v) => fields.push([n, v]) });
    return { fields, size };
  } catch (err) {
    if (err instanceof H2ProtocolError || err instanceof HeaderListTooLargeError) return { fields, error: err.constructor.name };
    throw err;
  }
}

const lit = (s: string): number[] => [s.length, ...Buffer.from(s, 'latin1')];
/** Blocks that repeat, refer to the dynamic table by index, add to it, evict from it and resize it. */
const POOL: number[][] = [
  [0x88], // :status 200 (static)
  [0xbe], // dynamic index 62: the newest entry
  [0xbf], // 63
  [0x88, 0xbe, 0xbf],
  [0x40, ...lit('a'), ...lit('b')], // literal with incremental indexing: adds a: b
  [0x40, ...lit('a'), ...lit('c')],
  [0x7e, ...lit('long value to fill the small table')], // 62's name, incremental indexing
  [0x0f, 0x0d, ...lit('16')], // content-length: 16, without indexing (name index 28)
  [0x88, 0x0f, 0x0d, ...lit('16'), 0xbe],
  [0x20], // size update to 0: empties the table
  [0x3f, 0x41], // size update to 96
  [0x3f, 0xe1, 0x1f], // size update to 4096
  [0x88, 0x20], // size update after a field: an error
  [0xc8], // dynamic index 72: usually beyond the table
];

test('h2 block cache: a caching decoder decodes every block sequence exactly as one without the cache', () => {
  const block = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...POOL) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }).map((a) => Array.from(a)) },
  );
  fc.assert(
    fc.property(fc.array(block, { minLength: 1, maxLength: 40 }), fc.constantFrom(100, 4096, Number.POSITIVE_INFINITY), (blocks, bound) => {
      const cached = new HpackDecoder(4096, bound);
      const plain = new HpackDecoder(4096, bound, false);
      for (const [i, bytes] of blocks.entries()) {
        const a = outcome(cached, Buffer.from(bytes));
        const b = outcome(plain, Buffer.from(bytes));
        assert.deepEqual(a, b, `block ${i}: ${Buffer.from(bytes).toString('hex')}`);
        assert.deepEqual(cached.entries(), plain.entries(), `block ${i}: the tables agree`);
        if (a.error === 'H2ProtocolError') return; // a connection error: the table is done for
      }
    }),
    { numRuns: 1000 },
  );
});

test('h2 block cache: the same octets after the table changed are decoded again (index 62 is now another entry)', () => {
  const decoder = new HpackDecoder();
  const decode = (bytes: number[]): Fields => outcome(decoder, Buffer.from(bytes)).fields;
  decode([0x40, ...lit('x-first'), ...lit('1')]);
  assert.deepEqual(decode([0xbe]), [['x-first', '1']]);
  assert.deepEqual(decode([0xbe]), [['x-first', '1']], 'kept and replayed');
  decode([0x40, ...lit('x-second'), ...lit('2')]);
  assert.deepEqual(decode([0xbe]), [['x-second', '2']], 'an insertion moved index 62 on');
  decode([0x20]); // size update to 0: evicts everything
  assert.equal(outcome(decoder, Buffer.from([0xbe])).error, 'H2ProtocolError', 'index 62 no longer exists');
});

test('h2 block cache: a block that changed the table is never replayed', () => {
  const decoder = new HpackDecoder();
  const adds = Buffer.from([0x40, ...lit('a'), ...lit('b')]);
  for (let i = 1; i <= 3; i++) {
    assert.deepEqual(outcome(decoder, adds).fields, [['a', 'b']]);
    assert.equal(decoder.entries().length, i, `decode ${i} added its entry`);
  }
});

test('h2 block cache: only short blocks are kept, and a hit is those exact octets at that epoch', () => {
  const cache = new BlockCache();
  const long = Buffer.alloc(MAX_CACHED_BLOCK + 1, 0x88);
  cache.set(long, 0, long.length, 0, 1, [':status'], ['200'], 42);
  assert.equal(cache.get(long, 0, long.length, 0), undefined);
  const block = Buffer.from([9, 0x88, 0xbe, 9]);
  cache.set(block, 1, 3, 7, 2, [':status', 'x'], ['200', 'y'], 75);
  const hit = cache.get(Buffer.from([0x88, 0xbe]), 0, 2, 7);
  assert.ok(hit, 'the same octets elsewhere, at the same epoch');
  assert.deepEqual([hit.count, hit.names.slice(0, hit.count), hit.values.slice(0, hit.count), hit.listSize], [2, [':status', 'x'], ['200', 'y'], 75]);
  assert.equal(cache.get(block, 1, 3, 8), undefined, 'another epoch');
  assert.equal(cache.get(Buffer.from([0x88, 0xbf]), 0, 2, 7), undefined, 'other octets');
});
