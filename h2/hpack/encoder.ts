// HPACK encoding. encodeHeaderBlock: for a generator whose request headers never change during a run: the block is encoded
// once and its bytes reused for every request. It uses only the static table and literals without
// indexing (RFC 7541 sections 6.1 and 6.2.2), so it never touches the peer's dynamic table: the same
// bytes stay valid on every connection and for every request.
import { huffmanEncode, huffmanLength } from './huffman.js';
import { encodeInteger, STATIC_TABLE } from './table.js';

export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>;

/** Encodes header fields (names lower-case, pseudo-headers first) as one HPACK header block. */
export function encodeHeaderBlock(headers: HeaderList): Buffer {
  const out: number[] = [];
  for (const [name, value] of headers) {
    if (name !== name.toLowerCase()) throw new RangeError(`header name "${name}" must be lower-case in HTTP/2`);
    let nameIndex = 0;
    let fullIndex = 0;
    STATIC_TABLE.forEach(([n, v], i) => {
      if (n !== name) return;
      if (nameIndex === 0) nameIndex = i + 1;
      if (v === value && fullIndex === 0) fullIndex = i + 1;
    });
    if (fullIndex > 0) {
      encodeInteger(out, fullIndex, 7, 0x80); // indexed header field
      continue;
    }
    encodeInteger(out, nameIndex, 4, 0x00); // literal without indexing; index 0 = the name follows as a literal
    if (nameIndex === 0) pushString(out, name);
    pushString(out, value);
  }
  return Buffer.from(out);
}

/** A string literal, not Huffman-coded (H = 0): the block is encoded once, so size hardly matters. */
function pushString(out: number[], text: string): void {
  const bytes = Buffer.from(text, 'latin1');
  encodeInteger(out, bytes.length, 7, 0x00);
  for (const byte of bytes) out.push(byte);
}

const ENTRY_OVERHEAD = 32;
/** Blocks remembered for reuse (a server's response and trailers, a client's request and another), and their bound. */
const REMEMBERED_BLOCKS = 4;
const REMEMBER_MAX_BYTES = 1024;
/**
 * What the encoder's dynamic table may use at most, whatever the peer allows: nghttp2's
 * NGHTTP2_HD_DEFAULT_MAX_DEFLATE_BUFFER_SIZE (4096), so a peer announcing a huge table costs us no memory.
 */
export const DEFAULT_MAX_ENCODER_TABLE_SIZE = 4096;
/**
 * Below this many value octets a cookie is never indexed (small cookies are guessable, RFC 7541 7.1.3); nghttp2's
 * rule (deflate_nv in nghttp2_hd.c: authorization, and cookie with valuelen < 20, are NEVER_INDEXING).
 */
export const COOKIE_NEVER_INDEX_BELOW = 20;

/** Static table: name -> its first index, and value -> index for the entries that have a value. */
const STATIC = new Map<string, { nameIndex: number; values: Map<string, number> }>();
STATIC_TABLE.forEach(([name, value], i) => {
  let entry = STATIC.get(name);
  if (!entry) STATIC.set(name, (entry = { nameIndex: i + 1, values: new Map() }));
  if (!entry.values.has(value)) entry.values.set(value, i + 1);
});

/** Fields whose values never enter a table anywhere (literal never indexed, 6.2.3): nghttp2's two, plus proxy-authorization. */
function neverIndexed(name: string, value: string): boolean {
  return name === 'authorization' || name === 'proxy-authorization' || (name === 'cookie' && value.length < COOKIE_NEVER_INDEX_BELOW);
}

/**
 * Fields whose values change per request: sent without indexing, so they do not flush the table. nghttp2's set
 * (hd_deflate_decide_indexing: :path, age, content-length, etag, if-modified-since, if-none-match, location,
 * set-cookie), plus last-modified and gRPC's grpc-timeout (a deadline that differs per call).
 */
const NOT_INDEXED = new Set([':path', 'age', 'content-length', 'location', 'set-cookie', 'etag', 'if-modified-since', 'if-none-match', 'last-modified', 'grpc-timeout']);

/**
 * A stateful HPACK encoder (RFC 7541): static-table matches, a dynamic table with incremental indexing
 * bounded by the peer's SETTINGS_HEADER_TABLE_SIZE (and by DEFAULT_MAX_ENCODER_TABLE_SIZE), a size update at
 * the start of the next block whenever that bound changes, Huffman-coded strings when shorter, and never-indexed
 * literals for credentials. Blocks must reach the peer in the order they were encoded.
 */
export class HpackEncoder {
  /** Entries oldest first; the absolute id of entries[i] is this.evicted + i. */
  private readonly entries: Array<{ name: string; value: string; size: number }> = [];
  private evicted = 0;
  private size = 0;
  private limit: number;
  /** name -> (value -> newest id holding both), and name -> newest id holding the name. */
  private readonly full = new Map<string, Map<string, number>>();
  private readonly byName = new Map<string, number>();
  /** A size update owed at the next block's start: the smallest limit since the last block, then the current one. */
  private minPending: number | undefined;
  private out = Buffer.allocUnsafe(1024);
  private pos = 0;
  /** Bumped whenever the table or its limit changes: a remembered block is valid only in its generation. */
  private generation = 0;
  /** The last few blocks encoded without touching the table, with their fields: see recall(). */
  private readonly remembered: Array<{ names: string[]; values: string[]; bytes: Buffer; generation: number }> = [];
  private nextSlot = 0;
  /** Literals recently written: their Huffman code, or null where the raw octets are no longer. */
  private readonly huffman = new Map<string, Buffer | null>();

  constructor(
    peerTableSize = 4096,
    private readonly maxTableSize = DEFAULT_MAX_ENCODER_TABLE_SIZE,
  ) {
    this.limit = Math.min(peerTableSize, maxTableSize);
    // The decoder starts at the peer's announced size; tell it when we use less.
    if (this.limit !== peerTableSize) this.minPending = this.limit;
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE changed (a SETTINGS frame): the next block starts with a size update. */
  setPeerTableSize(peerTableSize: number): void {
    this.limit = Math.min(peerTableSize, this.maxTableSize);
    this.minPending = Math.min(this.minPending ?? this.limit, this.limit);
    this.evictTo(this.limit);
    this.generation++;
  }

  /** The dynamic table's size in RFC 7541 terms. */
  get tableSize(): number {
    return this.size;
  }

  /**
   * The dynamic table size update(s) the next block owes the peer (RFC 7541 4.2: after its SETTINGS_HEADER_TABLE_SIZE
   * changed, or at start when we use less than it announced), taken: the caller puts them in front of a block encoded
   * elsewhere (encodeHeaderBlock's, which never touches the table). Undefined when none is owed, the common case.
   */
  takeSizeUpdate(): Buffer | undefined {
    if (this.minPending === undefined) return undefined;
    this.pos = 0;
    this.integer(this.minPending, 5, 0x20);
    if (this.minPending !== this.limit) this.integer(this.limit, 5, 0x20);
    this.minPending = undefined;
    return Buffer.from(this.out.subarray(0, this.pos));
  }

  /** One header block (names lower-case, pseudo-headers first), as a new Buffer. */
  encode(headers: HeaderList): Buffer {
    return Buffer.from(this.encodeView(headers));
  }

  /** As encode(), but a view of the encoder's own buffer: valid only until the next encode (the connection copies it into its output at once). */
  encodeView(headers: HeaderList): Buffer {
    const steady = this.minPending === undefined;
    if (steady) {
      const bytes = this.recall(headers);
      if (bytes !== undefined) return bytes;
    }
    this.pos = 0;
    if (this.minPending !== undefined) {
      this.integer(this.minPending, 5, 0x20);
      if (this.minPending !== this.limit) this.integer(this.limit, 5, 0x20);
      this.minPending = undefined;
    }
    const generation = this.generation;
    for (const [name, value] of headers) this.field(name, value);
    if (steady && generation === this.generation && this.pos <= REMEMBER_MAX_BYTES) this.remember(headers);
    return this.out.subarray(0, this.pos);
  }

  /**
   * A block already encoded for the same fields while the table has not changed since: its bytes again, since
   * encoding is a function of the fields, the table and its limit (a steady client's request list, a server's
   * response and trailers lists, once all their fields are indexed). The encoder's Map lookups per field were
   * the largest part of encoding in the in-memory pair's profile; this compares strings instead.
   */
  private recall(headers: HeaderList): Buffer | undefined {
    for (const slot of this.remembered) {
      if (slot.generation !== this.generation || slot.names.length !== headers.length) continue;
      let same = true;
      for (let i = 0; same && i < headers.length; i++) {
        const field = headers[i]!;
        same = field[0] === slot.names[i] && field[1] === slot.values[i];
      }
      if (same) return slot.bytes;
    }
    return undefined;
  }

  private remember(headers: HeaderList): void {
    const slot = {
      names: headers.map((field) => field[0]),
      values: headers.map((field) => field[1]),
      bytes: Buffer.from(this.out.subarray(0, this.pos)),
      generation: this.generation,
    };
    if (this.remembered.length < REMEMBERED_BLOCKS) this.remembered.push(slot);
    else this.remembered[this.nextSlot] = slot;
    this.nextSlot = (this.nextSlot + 1) % REMEMBERED_BLOCKS;
  }

  private field(name: string, value: string): void {
    const statics = STATIC.get(name);
    const full = statics?.values.get(value) ?? this.dynamicIndex(this.full.get(name)?.get(value));
    if (full !== undefined) return this.integer(full, 7, 0x80);
    if (statics === undefined && name !== name.toLowerCase()) throw new RangeError(`header name "${name}" must be lower-case in HTTP/2`);
    const nameIndex = statics?.nameIndex ?? this.dynamicIndex(this.byName.get(name)) ?? 0;
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (neverIndexed(name, value)) this.integer(nameIndex, 4, 0x10);
    else if (NOT_INDEXED.has(name) || size > (this.limit * 3) / 4) this.integer(nameIndex, 4, 0x00);
    else {
      this.integer(nameIndex, 6, 0x40);
      this.insert(name, value, size);
    }
    if (nameIndex === 0) this.string(name);
    this.string(value);
  }

  private dynamicIndex(id: number | undefined): number | undefined {
    if (id === undefined) return undefined;
    // The newest entry is index 62.
    return STATIC_TABLE.length + this.evicted + this.entries.length - id;
  }

  private insert(name: string, value: string, size: number): void {
    this.evictTo(this.limit - size);
    if (size > this.limit) return;
    const id = this.evicted + this.entries.length;
    this.generation++;
    this.entries.push({ name, value, size });
    this.size += size;
    let values = this.full.get(name);
    if (!values) this.full.set(name, (values = new Map()));
    values.set(value, id);
    this.byName.set(name, id);
  }

  private evictTo(size: number): void {
    while (this.entries.length > 0 && this.size > Math.max(0, size)) {
      const oldest = this.entries.shift()!;
      this.generation++;
      const id = this.evicted++;
      this.size -= oldest.size;
      const values = this.full.get(oldest.name);
      if (values?.get(oldest.value) === id) {
        values.delete(oldest.value);
        if (values.size === 0) this.full.delete(oldest.name);
      }
      if (this.byName.get(oldest.name) === id) this.byName.delete(oldest.name);
    }
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.out.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.pos + n));
    this.out.copy(grown, 0, 0, this.pos);
    this.out = grown;
  }

  /** An N-bit-prefix integer (5.1); `high` holds the representation's leading bits. */
  private integer(value: number, prefixBits: number, high: number): void {
    this.reserve(6);
    const limit = (1 << prefixBits) - 1;
    if (value < limit) {
      this.out[this.pos++] = high | value;
      return;
    }
    this.out[this.pos++] = high | limit;
    let rest = value - limit;
    while (rest >= 128) {
      this.out[this.pos++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.out[this.pos++] = rest;
  }

  /** A string literal (5.2), Huffman-coded when that is shorter. */
  private string(text: string): void {
    let coded = this.huffman.get(text);
    if (coded === undefined) {
      coded = huffmanLength(text) < text.length ? huffmanEncode(text) : null;
      if (this.huffman.size >= HUFFMAN_CACHE_ENTRIES) this.huffman.clear();
      if (text.length <= HUFFMAN_CACHE_MAX_LENGTH) this.huffman.set(text, coded);
    }
    if (coded !== null) {
      this.integer(coded.length, 7, 0x80);
      this.reserve(coded.length);
      this.out.set(coded, this.pos);
      this.pos += coded.length;
    } else {
      this.integer(text.length, 7, 0x00);
      this.reserve(text.length);
      this.pos += this.out.write(text, this.pos, 'latin1');
    }
  }
}

/** The Huffman cache: a few hundred short strings (paths, authorities, deadlines), emptied when full. */
const HUFFMAN_CACHE_ENTRIES = 256;
const HUFFMAN_CACHE_MAX_LENGTH = 256;
