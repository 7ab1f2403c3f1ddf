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
/**
 * What the encoder's dynamic table may use at most, whatever the peer allows: nghttp2's
 * NGHTTP2_HD_DEFAULT_MAX_DEFLATE_BUFFER_SIZE (4096), so a peer announcing a huge table costs us no memory.
 */
export const DEFAULT_MAX_ENCODER_TABLE_SIZE = 4096;
/** Below this many value octets a cookie is never indexed (small cookies are guessable: RFC 7541 7.1.3; nghttp2's rule). */
export const COOKIE_NEVER_INDEX_BELOW = 20;

const STATIC_FULL = new Map<string, number>();
const STATIC_NAME = new Map<string, number>();
STATIC_TABLE.forEach(([name, value], i) => {
  if (!STATIC_FULL.has(`${name}\0${value}`)) STATIC_FULL.set(`${name}\0${value}`, i + 1);
  if (!STATIC_NAME.has(name)) STATIC_NAME.set(name, i + 1);
});

/** Fields whose values never enter a table anywhere (literal never indexed, 6.2.3). */
function neverIndexed(name: string, value: string): boolean {
  return name === 'authorization' || name === 'proxy-authorization' || (name === 'cookie' && value.length < COOKIE_NEVER_INDEX_BELOW);
}

/** Fields whose values change per request: sent without indexing, so they do not flush the table. */
const NOT_INDEXED = new Set([':path', 'content-length', 'location', 'set-cookie', 'etag', 'if-modified-since', 'if-none-match', 'last-modified', 'grpc-timeout']);

/**
 * A stateful HPACK encoder (RFC 7541): static-table matches, a dynamic table with incremental indexing
 * bounded by the peer's SETTINGS_HEADER_TABLE_SIZE (and by DEFAULT_MAX_ENCODER_TABLE_SIZE), a size update at
 * the start of the next block whenever that bound changes, Huffman-coded strings when shorter, and never-indexed
 * literals for credentials. Blocks must reach the peer in the order they were encoded.
 */
export class HpackEncoder {
  /** Entries oldest first; absolute id of entries[i] is this.evicted + i. */
  private readonly entries: Array<{ name: string; value: string; size: number }> = [];
  private evicted = 0;
  private size = 0;
  private limit: number;
  private readonly full = new Map<string, number>();
  private readonly byName = new Map<string, number>();
  /** A size update owed at the next block's start: the smallest limit since the last block, then the current one. */
  private minPending: number | undefined;

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
  }

  get tableSize(): number {
    return this.size;
  }

  encode(headers: HeaderList): Buffer {
    const out: number[] = [];
    if (this.minPending !== undefined) {
      encodeInteger(out, this.minPending, 5, 0x20);
      if (this.minPending !== this.limit) encodeInteger(out, this.limit, 5, 0x20);
      this.minPending = undefined;
    }
    for (const [name, value] of headers) {
      if (name !== name.toLowerCase()) throw new RangeError(`header name "${name}" must be lower-case in HTTP/2`);
      const key = `${name}\0${value}`;
      const full = STATIC_FULL.get(key) ?? this.dynamicIndex(this.full.get(key));
      if (full !== undefined) {
        encodeInteger(out, full, 7, 0x80);
        continue;
      }
      const nameIndex = STATIC_NAME.get(name) ?? this.dynamicIndex(this.byName.get(name)) ?? 0;
      const size = name.length + value.length + ENTRY_OVERHEAD;
      if (neverIndexed(name, value)) {
        encodeInteger(out, nameIndex, 4, 0x10);
      } else if (NOT_INDEXED.has(name) || size > (this.limit * 3) / 4) {
        encodeInteger(out, nameIndex, 4, 0x00);
      } else {
        encodeInteger(out, nameIndex, 6, 0x40);
        if (nameIndex === 0) pushHuffmanOrRaw(out, name);
        pushHuffmanOrRaw(out, value);
        this.insert(name, value, size, key);
        continue;
      }
      if (nameIndex === 0) pushHuffmanOrRaw(out, name);
      pushHuffmanOrRaw(out, value);
    }
    return Buffer.from(out);
  }

  private dynamicIndex(id: number | undefined): number | undefined {
    if (id === undefined) return undefined;
    // The newest entry is index 62.
    return STATIC_TABLE.length + this.evicted + this.entries.length - id;
  }

  private insert(name: string, value: string, size: number, key: string): void {
    this.evictTo(this.limit - size);
    if (size > this.limit) return;
    const id = this.evicted + this.entries.length;
    this.entries.push({ name, value, size });
    this.size += size;
    this.full.set(key, id);
    this.byName.set(name, id);
  }

  private evictTo(size: number): void {
    while (this.entries.length > 0 && this.size > Math.max(0, size)) {
      const oldest = this.entries.shift()!;
      const id = this.evicted++;
      this.size -= oldest.size;
      const key = `${oldest.name}\0${oldest.value}`;
      if (this.full.get(key) === id) this.full.delete(key);
      if (this.byName.get(oldest.name) === id) this.byName.delete(oldest.name);
    }
  }
}

/** A string literal, Huffman-coded when that is shorter (H = 1). */
function pushHuffmanOrRaw(out: number[], text: string): void {
  if (huffmanLength(text) < text.length) {
    const coded = huffmanEncode(text);
    encodeInteger(out, coded.length, 7, 0x80);
    for (const byte of coded) out.push(byte);
  } else {
    pushString(out, text);
  }
}
