// HPACK against RFC 7541's own examples (Appendix C): integers (C.1), single representations (C.2), requests without and with Huffman
// coding (C.3, C.4, 4096-byte table) and responses with evictions (C.5, C.6, 256-byte table); the Huffman
// code over every byte value; and the encoder's blocks read back by the decoder.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H2ProtocolError } from '../errors.js';
import { HpackDecoder } from '../hpack/decoder.js';
import { encodeHeaderBlock, HpackEncoder } from '../hpack/encoder.js';
import { decodeInteger, encodeInteger } from '../hpack/table.js';
import { huffmanDecode, huffmanEncode } from '../hpack/huffman.js';

type Fields = Array<[string, string]>;

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

function decode(decoder: HpackDecoder, block: Buffer): Fields {
  const fields: Fields = [];
  decoder.decode(block, 0, block.length, { onHeader: (name, value) => fields.push([name, value]) });
  return fields;
}

interface Example {
  block: string;
  fields: Fields;
  table: Fields;
  size: number;
}

const REQUEST_FIELDS: Fields[] = [
  [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':path', '/'],
    [':authority', 'www.example.com'],
  ],
  [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':path', '/'],
    [':authority', 'www.example.com'],
    ['cache-control', 'no-cache'],
  ],
  [
    [':method', 'GET'],
    [':scheme', 'https'],
    [':path', '/index.html'],
    [':authority', 'www.example.com'],
    ['custom-key', 'custom-value'],
  ],
];
const REQUEST_TABLES: Array<[Fields, number]> = [
  [[[':authority', 'www.example.com']], 57],
  [
    [
      ['cache-control', 'no-cache'],
      [':authority', 'www.example.com'],
    ],
    110,
  ],
  [
    [
      ['custom-key', 'custom-value'],
      ['cache-control', 'no-cache'],
      [':authority', 'www.example.com'],
    ],
    164,
  ],
];

const DATE_1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE_2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const LOCATION = 'https://www.example.com';
const RESPONSE_FIELDS: Fields[] = [
  [
    [':status', '302'],
    ['cache-control', 'private'],
    ['date', DATE_1],
    ['location', LOCATION],
  ],
  [
    [':status', '307'],
    ['cache-control', 'private'],
    ['date', DATE_1],
    ['location', LOCATION],
  ],
  [
    [':status', '200'],
    ['cache-control', 'private'],
    ['date', DATE_2],
    ['location', LOCATION],
    ['content-encoding', 'gzip'],
    ['set-cookie', COOKIE],
  ],
];
const RESPONSE_TABLES: Array<[Fields, number]> = [
  [
    [
      ['location', LOCATION],
      ['date', DATE_1],
      ['cache-control', 'private'],
      [':status', '302'],
    ],
    222,
  ],
  [
    [
      [':status', '307'],
      ['location', LOCATION],
      ['date', DATE_1],
      ['cache-control', 'private'],
    ],
    222,
  ],
  [
    [
      ['set-cookie', COOKIE],
      ['content-encoding', 'gzip'],
      ['date', DATE_2],
    ],
    215,
  ],
];

function examples(blocks: string[], fields: Fields[], tables: Array<[Fields, number]>): Example[] {
  return blocks.map((block, i) => ({ block, fields: fields[i]!, table: tables[i]![0], size: tables[i]![1] }));
}

const C3 = examples(
  [
    '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
    '8286 84be 5808 6e6f 2d63 6163 6865',
    '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
  ],
  REQUEST_FIELDS,
  REQUEST_TABLES,
);
const C4 = examples(
  ['8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff', '8286 84be 5886 a8eb 1064 9cbf', '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf'],
  REQUEST_FIELDS,
  REQUEST_TABLES,
);
const C5 = examples(
  [
    `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d
     546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
    '4803 3330 37c1 c0bf',
    `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f
     6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b
     2076 6572 7369 6f6e 3d31`,
  ],
  RESPONSE_FIELDS,
  RESPONSE_TABLES,
);
const C6 = examples(
  [
    `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7
     8f0b 97c8 e9ae 82ae 43d3`,
    '4883 640e ffc1 c0bf',
    `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335
     dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
  ],
  RESPONSE_FIELDS,
  RESPONSE_TABLES,
);

for (const [section, list, tableSize] of [
  ['C.3', C3, 4096],
  ['C.4', C4, 4096],
  ['C.5', C5, 256],
  ['C.6', C6, 256],
] as const) {
  test(`h2 hpack: RFC 7541 ${section} decodes to its header lists and dynamic tables`, () => {
    const decoder = new HpackDecoder(tableSize);
    list.forEach((example, i) => {
      assert.deepEqual(decode(decoder, hex(example.block)), example.fields, `${section}.${i + 1} fields`);
      assert.deepEqual(decoder.entries(), example.table, `${section}.${i + 1} table`);
      assert.equal(decoder.tableSize, example.size, `${section}.${i + 1} table size`);
    });
  });
}

test('h2 hpack: RFC 7541 C.1 integers encode and decode', () => {
  for (const [value, prefix, bytes] of [
    [10, 5, '0a'],
    [1337, 5, '1f9a0a'],
    [42, 8, '2a'],
  ] as const) {
    const out: number[] = [];
    encodeInteger(out, value, prefix, 0);
    assert.equal(Buffer.from(out).toString('hex'), bytes);
    assert.deepEqual(decodeInteger(Buffer.from(out), 0, out.length, prefix, { value: 0, next: 0 }), { value, next: out.length });
  }
});

test('h2 hpack: Huffman round-trips every byte value; EOS and bad padding are COMPRESSION_ERROR', () => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('latin1');
  for (const text of [all, 'www.example.com', 'no-cache', '', 'a', all.split('').reverse().join('')]) {
    const encoded = huffmanEncode(text);
    assert.equal(huffmanDecode(encoded, 0, encoded.length), text);
  }
  assert.equal(huffmanEncode('www.example.com').toString('hex'), 'f1e3c2e5f23a6ba0ab90f4ff');
  const isCompressionError = (err: unknown): boolean => err instanceof H2ProtocolError && err.h2Code === 0x9;
  // 30 one-bits (EOS) inside the string.
  assert.throws(() => huffmanDecode(Buffer.from([0xff, 0xff, 0xff, 0xff]), 0, 4), isCompressionError);
  // 'a' (00011) padded with zeros instead of ones.
  assert.throws(() => huffmanDecode(Buffer.from([0x18]), 0, 1), isCompressionError);
  // A whole byte of padding (more than 7 bits).
  assert.throws(() => huffmanDecode(Buffer.from([0x1f, 0xff]), 0, 2), isCompressionError);
});

test('h2 hpack: the encoder uses static indexes and literals without indexing, and decodes back', () => {
  const fields: Fields = [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':authority', '127.0.0.1:8080'],
    [':path', '/echo?x=1'],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
  ];
  const block = encodeHeaderBlock(fields);
  assert.equal(block[0], 0x82, ':method GET is static index 2');
  assert.equal(block[1], 0x86, ':scheme http is static index 6');
  assert.equal(block[2], 0x01, ':authority: literal without indexing, name index 1');
  const decoder = new HpackDecoder();
  assert.deepEqual(decode(decoder, block), fields);
  assert.equal(decoder.tableSize, 0, 'nothing was added to the dynamic table');
  assert.throws(() => encodeHeaderBlock([['Content-Type', 'x']]), RangeError);
});

test('h2 hpack: an index beyond the tables and a size update above the limit are COMPRESSION_ERROR', () => {
  const isCompressionError = (err: unknown): boolean => err instanceof H2ProtocolError && err.h2Code === 0x9;
  assert.throws(() => decode(new HpackDecoder(), Buffer.from([0xbe])), isCompressionError);
  assert.throws(() => decode(new HpackDecoder(256), hex('3fe201')), isCompressionError);
  assert.throws(() => decode(new HpackDecoder(), hex('82 20')), isCompressionError);
  const decoder = new HpackDecoder();
  decode(decoder, hex('20'));
  assert.equal(decoder.tableSize, 0);
});

test('h2 hpack: RFC 7541 C.2 (one representation of each kind) decodes to its field and table', () => {
  for (const [section, block, fields, table, size] of [
    ['C.2.1', '400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572', [['custom-key', 'custom-header']], [['custom-key', 'custom-header']], 55],
    ['C.2.2', '040c 2f73 616d 706c 652f 7061 7468', [[':path', '/sample/path']], [], 0],
    ['C.2.3', '1008 7061 7373 776f 7264 0673 6563 7265 74', [['password', 'secret']], [], 0],
    ['C.2.4', '82', [[':method', 'GET']], [], 0],
  ] as const) {
    const decoder = new HpackDecoder();
    assert.deepEqual(decode(decoder, hex(block)), fields, section);
    assert.deepEqual(decoder.entries(), table, section);
    assert.equal(decoder.tableSize, size, section);
  }
});

test('h2 hpack: the stateful encoder writes RFC 7541 C.4 (requests with Huffman) octet for octet', () => {
  const encoder = new HpackEncoder();
  C4.forEach((example, i) => {
    assert.equal(encoder.encode(example.fields).toString('hex'), hex(example.block).toString('hex'), `C.4.${i + 1}`);
    assert.equal(encoder.tableSize, example.size, `C.4.${i + 1} table size`);
  });
});
