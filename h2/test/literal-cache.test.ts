// The decoder's cache of short literals: a hit must give exactly the text those encoded octets decode to,
// whatever else shared its slot before; a block's literals decode the same whether or not they were seen.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { HpackDecoder } from '../hpack/decoder.js';
import { huffmanEncode } from '../hpack/huffman.js';
import { LiteralCache, MAX_CACHED_LITERAL } from '../hpack/literal-cache.js';

test('h2 literal cache: a hit is the text last stored for exactly those octets and that Huffman bit, never another', () => {
  // A tiny alphabet and short lengths, so literals repeat and collide in the eight slots.
  const literal = fc.record({ octets: fc.uint8Array({ minLength: 0, maxLength: 6 }).map((a) => a.map((b) => b % 3)), huffman: fc.boolean() });
  fc.assert(
    fc.property(fc.array(literal, { maxLength: 60 }), (steps) => {
      const cache = new LiteralCache();
      const oracle = new Map<string, string>();
      for (const [i, { octets, huffman }] of steps.entries()) {
        const key = `${huffman ? 'h' : 'p'}:${Array.from(octets).join(',')}`;
        // Offset in a larger buffer, as literals sit inside a block.
        const buf = Buffer.concat([Buffer.from([9, 9]), octets, Buffer.from([7])]);
        const hit = cache.get(buf, 2, 2 + octets.length, huffman);
        if (hit !== undefined) assert.equal(hit, oracle.get(key), `step ${i}: ${key}`);
        const text = `text of ${key}`;
        if (hit === undefined) {
          cache.set(buf, 2, 2 + octets.length, huffman, text);
          oracle.set(key, text);
        }
      }
    }),
  );
});

test('h2 literal cache: literals longer than the bound are never kept', () => {
  const cache = new LiteralCache();
  const long = Buffer.alloc(MAX_CACHED_LITERAL + 1, 0x61);
  cache.set(long, 0, long.length, false, 'a'.repeat(long.length));
  assert.equal(cache.get(long, 0, long.length, false), undefined);
  const short = Buffer.alloc(MAX_CACHED_LITERAL, 0x61);
  cache.set(short, 0, short.length, false, 'kept');
  assert.equal(cache.get(short, 0, short.length, false), 'kept');
  assert.equal(cache.get(short, 0, short.length, true), undefined, 'the same octets Huffman-coded are another literal');
});

/** A literal without indexing (RFC 7541 6.2.2) of a new name; the value plain or Huffman-coded. */
function notIndexed(name: string, value: string, huffman: boolean): Buffer {
  const v = huffman ? huffmanEncode(value) : Buffer.from(value, 'latin1');
  return Buffer.concat([Buffer.from([0x00, name.length]), Buffer.from(name, 'latin1'), Buffer.from([(huffman ? 0x80 : 0) | v.length]), v]);
}

test('h2 literal cache: repeated and colliding never-indexed literals decode to their own values, block after block', () => {
  const decoder = new HpackDecoder();
  const values = ['16', '17', '61', '/', '/a', '/b', 'gzip', 'x'.repeat(MAX_CACHED_LITERAL + 5)];
  for (let round = 0; round < 3; round++) {
    for (const [i, value] of values.entries()) {
      const huffman = (i + round) % 2 === 0;
      const block = Buffer.concat([notIndexed('content-length', value, huffman), notIndexed('x-other', values[(i + 1) % values.length]!, !huffman)]);
      const fields: Array<[string, string]> = [];
      decoder.decode(block, 0, block.length, { onHeader: (n, v) => fields.push([n, v]) });
      assert.deepEqual(fields, [
        ['content-length', value],
        ['x-other', values[(i + 1) % values.length]!],
      ]);
    }
  }
});
