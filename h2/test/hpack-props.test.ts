// Properties of the HPACK codec over generated input (fast-check): our encoder's blocks decode to the lists
// given, across blocks and table size changes; the decoder on arbitrary bytes returns or throws only the
// library's typed errors; the bound on the decoded list holds, HPACK bombs included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { H2ProtocolError, HeaderListTooLargeError, isH2InputError } from '../errors.js';
import { HpackDecoder } from '../hpack/decoder.js';
import { HpackEncoder } from '../hpack/encoder.js';
import { decodeInteger } from '../hpack/table.js';

type Fields = Array<[string, string]>;

const latin1 = fc.uint8Array({ maxLength: 80 }).map((bytes) => Buffer.from(bytes).toString('latin1'));
const name = fc.oneof(fc.constantFrom(':path', ':status', 'cookie', 'authorization', 'content-length', 'x-a'), fc.stringMatching(/^[a-z0-9!#$%&'*+.^_`|~-]{1,24}$/));
const fieldList = fc.array(fc.tuple(name, fc.oneof(latin1, fc.constantFrom('', 'a', 'gzip, deflate'))), { maxLength: 10 });
const listSize = (fields: Fields): number => fields.reduce((sum, [n, v]) => sum + n.length + v.length + 32, 0);

function decode(decoder: HpackDecoder, block: Buffer): Fields {
  const fields: Fields = [];
  decoder.decode(block, 0, block.length, { onHeader: (n, v) => fields.push([n, v]) });
  return fields;
}

test('h2 hpack props: encode then decode gives the list back, across blocks and peer table size changes', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fieldList, fc.option(fc.integer({ min: 0, max: 8192 }))), { minLength: 1, maxLength: 10 }), (steps) => {
      const encoder = new HpackEncoder(4096, 8192);
      const decoder = new HpackDecoder(4096, Number.POSITIVE_INFINITY);
      for (const [list, newSize] of steps) {
        if (newSize !== null) {
          // We announce a new SETTINGS_HEADER_TABLE_SIZE; the peer's encoder learns it, ours enforces it.
          decoder.setMaxTableSize(newSize);
          encoder.setPeerTableSize(newSize);
        }
        assert.deepEqual(decode(decoder, encoder.encode(list)), list);
        assert.equal(decoder.tableSize, encoder.tableSize, 'both tables hold the same entries');
      }
    }),
    { numRuns: 300 },
  );
});

test('h2 hpack props: arbitrary bytes either decode or throw one of the typed errors, never a TypeError/RangeError', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 4096 }), (blocks, bound) => {
      const decoder = new HpackDecoder(4096, bound);
      for (const bytes of blocks) {
        const block = Buffer.from(bytes);
        try {
          decoder.decode(block, 0, block.length, { onHeader: () => {} });
        } catch (err) {
          if (!isH2InputError(err)) throw err;
          if (err instanceof H2ProtocolError) return; // a connection error: the table is done for
        }
      }
    }),
    { numRuns: 2000 },
  );
});

test('h2 hpack props: the decoded-size bound holds: under it the list passes whole, over it a prefix within it and the typed error', () => {
  fc.assert(
    fc.property(fc.array(fieldList, { minLength: 1, maxLength: 5 }), fc.integer({ min: 0, max: 2000 }), (lists, bound) => {
      const encoder = new HpackEncoder();
      const decoder = new HpackDecoder(4096, bound);
      for (const list of lists) {
        const block = encoder.encode(list);
        const seen: Fields = [];
        let thrown: unknown;
        try {
          assert.equal(decoder.decode(block, 0, block.length, { onHeader: (n, v) => seen.push([n, v]) }), listSize(list));
        } catch (err) {
          thrown = err;
        }
        if (listSize(list) <= bound) {
          assert.equal(thrown, undefined);
          assert.deepEqual(seen, list);
        } else {
          assert.ok(thrown instanceof HeaderListTooLargeError, String(thrown));
          assert.ok(listSize(seen) <= bound);
          assert.deepEqual(seen, list.slice(0, seen.length));
        }
        // Either way the table is in step: the next block still decodes.
        assert.equal(decoder.tableSize, encoder.tableSize);
      }
    }),
    { numRuns: 300 },
  );
});

test('h2 hpack props: an HPACK bomb (one 4 KB entry referenced 16 000 times) is refused after the bound, cheaply', () => {
  const decoder = new HpackDecoder(4096);
  const big = 'x'.repeat(4000);
  // Literal with incremental indexing, new name "b", value of 4000 octets (raw).
  const header = Buffer.from([0x40, 0x01, 0x62, 0x7f, 4000 - 127 - 128 * Math.floor((4000 - 127) / 128) + 128, Math.floor((4000 - 127) / 128)]);
  const insert = Buffer.concat([header, Buffer.from(big, 'latin1')]);
  let fields = 0;
  assert.equal(decoder.decode(insert, 0, insert.length, { onHeader: () => fields++ }), 1 + 4000 + 32);
  const bomb = Buffer.alloc(16_000, 0xbe); // index 62, sixteen thousand times: 64 MB decoded from 16 KB
  const started = process.hrtime.bigint();
  fields = 0;
  assert.throws(() => decoder.decode(bomb, 0, bomb.length, { onHeader: () => fields++ }), (err) => err instanceof HeaderListTooLargeError && err.size > 60_000_000);
  assert.equal(fields, Math.floor(65_536 / 4033), 'only the fields within the 64 KiB bound were handed over');
  assert.ok(process.hrtime.bigint() - started < 200_000_000n, 'refused in well under 200 ms');
  assert.equal(decoder.tableSize, 4033, 'the table is intact');
});

test('h2 hpack props: integers with padding octets or above 2^31 are COMPRESSION_ERROR, never NaN', () => {
  const isCompression = (err: unknown): boolean => err instanceof H2ProtocolError && err.h2Code === 0x9;
  const into = { value: 0, next: 0 };
  // 0x1f then six continuation octets (zeros with the continuation bit): would read as NaN without the cap.
  assert.throws(() => decodeInteger(Buffer.from([0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), 0, 8, 5, into), isCompression);
  assert.throws(() => decodeInteger(Buffer.from([0x1f, 0xff, 0xff, 0xff, 0xff, 0x0f]), 0, 6, 5, into), isCompression);
  assert.equal(decodeInteger(Buffer.from([0x1f, 0xe1, 0xff, 0xff, 0xff, 0x07]), 0, 6, 5, into).value, 2 ** 31);
});

test('h2 hpack props: after our SETTINGS_HEADER_TABLE_SIZE changes, a block without a size update first is COMPRESSION_ERROR', () => {
  const isCompression = (err: unknown): boolean => err instanceof H2ProtocolError && err.h2Code === 0x9;
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  decode(decoder, encoder.encode([['x-a', 'b'.repeat(300)]]));
  assert.equal(decoder.tableSize, 335);
  decoder.setMaxTableSize(256);
  assert.equal(decoder.tableSize, 0, 'the entry no longer fits: evicted at once');
  assert.throws(() => decode(decoder, Buffer.from([0x82])), isCompression);
  const other = new HpackDecoder();
  other.setMaxTableSize(256);
  assert.throws(() => decode(other, Buffer.from([0x3f, 0xe2, 0x01, 0x82])), isCompression, 'an update to 257, above 256');
  assert.deepEqual(decode(other, Buffer.from([0x3f, 0xe1, 0x01, 0x82])), [[':method', 'GET']], 'an update to 256 first: accepted');
  assert.deepEqual(decode(other, Buffer.from([0x82])), [[':method', 'GET']], 'required once only');
});
