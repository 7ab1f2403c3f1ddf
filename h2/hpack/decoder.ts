// A full HPACK decoder (RFC 7541): static and dynamic tables, every field representation, dynamic table size
// updates, Huffman-coded literals. Every header block of a connection must pass through it in order, even
// for streams nobody waits for, or the dynamic table falls out of step with the peer's encoder.
// Bounded for a server facing hostile clients: the DECODED header list (not only the encoded block) is
// measured as RFC 9113 6.5.2 measures SETTINGS_MAX_HEADER_LIST_SIZE; past the bound the block is still read to
// its end (so the dynamic table stays in step) but no further field is handed over, and HeaderListTooLargeError
// is thrown once the block is done. Reading on costs no more than the block's own bytes: an indexed field
// hands over strings already held, and a literal is no longer than the block.
import { H2ProtocolError, HeaderListTooLargeError } from '../errors.js';
import { decodeInteger, STATIC_COUNT, STATIC_TABLE, type IntegerAt } from './table.js';
import { huffmanDecode } from './huffman.js';
import { BlockCache, MAX_CACHED_BLOCK, MAX_CACHED_FIELDS } from './block-cache.js';
import { LiteralCache } from './literal-cache.js';

const COMPRESSION_ERROR = 0x9;
/** RFC 7541 section 4.1: an entry's size is its name and value octets plus 32. */
const ENTRY_OVERHEAD = 32;
/** SETTINGS_HEADER_TABLE_SIZE's default: what a decoder allows unless it announces otherwise. */
export const DEFAULT_TABLE_SIZE = 4096;
/**
 * The default bound on a decoded header list, in RFC 9113 6.5.2 octets (name + value + 32 per field): 64 KiB,
 * nghttp2's NGHTTP2_MAX_HEADERSLEN (the bound nghttp2 applies when no SETTINGS_MAX_HEADER_LIST_SIZE is set).
 */
export const DEFAULT_MAX_HEADER_LIST_SIZE = 65_536;

/** Receives each decoded field of a block, in order. */
export interface HeaderSink {
  onHeader(name: string, value: string): void;
}

export class HpackDecoder {
  // The dynamic table as a ring: newest entry at (head - 1), oldest at (head - count).
  private names: string[];
  private values: string[];
  private head = 0;
  private count = 0;
  private bytes = 0;
  /** The limit the encoder chose with a size update, never above the one we announced. */
  private limit: number;
  private readonly int: IntegerAt = { value: 0, next: 0 };
  /** Our SETTINGS_HEADER_TABLE_SIZE changed: the next block must open with a size update (RFC 7541 4.2). */
  private updateRequired = false;
  // A decoded literal, returned through fields to avoid an object per string.
  private text = '';
  private readonly literals = new LiteralCache();
  private readonly blocks = new BlockCache();
  /** Bumped at every change to the dynamic table (insertion, eviction, size update): a kept block is valid only at its epoch. */
  private epoch = 0;
  // The fields of the block being decoded, for the block cache (short blocks only).
  private readonly seenNames = new Array<string>(MAX_CACHED_FIELDS).fill('');
  private readonly seenValues = new Array<string>(MAX_CACHED_FIELDS).fill('');

  /**
   * `maxTableSize`: the SETTINGS_HEADER_TABLE_SIZE this side announced (4096 unless it said otherwise); a size
   * update above it is a COMPRESSION_ERROR. `maxHeaderListSize`: the bound on each decoded list (Infinity: none).
   * `cacheBlocks`: keep short blocks that left the table unchanged, decoded (block-cache.ts); off only to compare.
   */
  constructor(
    private maxTableSize = DEFAULT_TABLE_SIZE,
    private readonly maxHeaderListSize = DEFAULT_MAX_HEADER_LIST_SIZE,
    private readonly cacheBlocks = true,
  ) {
    this.limit = maxTableSize;
    const capacity = Math.floor(maxTableSize / ENTRY_OVERHEAD) + 1;
    this.names = new Array<string>(capacity).fill('');
    this.values = new Array<string>(capacity).fill('');
  }

  /**
   * Our SETTINGS_HEADER_TABLE_SIZE is now `size` (call it when the peer acknowledges the SETTINGS that changed
   * it). As nghttp2 does, the peer's next header block must then open with a dynamic table size update (RFC 7541
   * 4.2: "MUST occur at the beginning of the first header block following the change"); one that does not is a
   * COMPRESSION_ERROR. A smaller size evicts at once.
   */
  setMaxTableSize(size: number): void {
    if (size === this.maxTableSize) return;
    this.maxTableSize = size;
    this.epoch++;
    this.updateRequired = true;
    if (size < this.limit) {
      this.limit = size;
      this.evictTo(size);
    }
    const capacity = Math.floor(size / ENTRY_OVERHEAD) + 1;
    if (capacity > this.names.length) {
      // Grown: the ring rebuilt, oldest first, in arrays large enough for the new size.
      const order = Array.from({ length: this.count }, (_, i) => STATIC_COUNT + this.count - i);
      const names = order.map((index) => this.nameAt(index));
      const values = order.map((index) => this.valueAt(index));
      this.names = new Array<string>(capacity).fill('');
      this.values = new Array<string>(capacity).fill('');
      names.forEach((name, i) => {
        this.names[i] = name;
        this.values[i] = values[i]!;
      });
      this.head = this.count % capacity;
    }
  }

  /** The dynamic table's size in RFC 7541 terms (for tests and diagnostics). */
  get tableSize(): number {
    return this.bytes;
  }

  /** The dynamic table, newest first (index 62 first). */
  entries(): Array<[string, string]> {
    return Array.from({ length: this.count }, (_, i) => [this.nameAt(STATIC_COUNT + 1 + i), this.valueAt(STATIC_COUNT + 1 + i)]);
  }

  /**
   * Decodes one whole header block buf[start, end) and returns the decoded list's size (6.5.2 octets). Throws
   * H2ProtocolError(COMPRESSION_ERROR) if the block is bad (a connection error: the table is out of step), or
   * HeaderListTooLargeError after the whole block if the list exceeded the bound (the fields past the bound were
   * not handed to the sink; the table is in step).
   */
  decode(buf: Buffer, start: number, end: number, sink: HeaderSink | undefined): number {
    const bound = this.maxHeaderListSize;
    // A block that must open with a size update changes the table: never a hit, never kept.
    const cacheable = this.cacheBlocks && end - start <= MAX_CACHED_BLOCK && !this.updateRequired;
    if (cacheable) {
      const hit = this.blocks.get(buf, start, end, this.epoch);
      if (hit !== undefined) {
        if (sink !== undefined) for (let i = 0; i < hit.count; i++) sink.onHeader(hit.names[i]!, hit.values[i]!);
        return hit.listSize;
      }
    }
    const epoch = this.epoch;
    let at = start;
    let fieldSeen = false;
    let listSize = 0;
    let fields = 0;
    let out = sink;
    if (this.updateRequired && at < end) {
      if ((buf[at]! & 0xe0) !== 0x20) throw new H2ProtocolError(COMPRESSION_ERROR, 'HPACK block without the size update our new SETTINGS_HEADER_TABLE_SIZE requires');
      this.updateRequired = false;
    }
    while (at < end) {
      const byte = buf[at]!;
      if (byte & 0x80) {
        // Indexed header field (6.1): the common case of a steady response, so one-byte indexes skip decodeInteger.
        let index = byte & 0x7f;
        if (index === 0x7f) {
          index = decodeInteger(buf, at, end, 7, this.int).value;
          at = this.int.next;
        } else {
          at++;
        }
        if (index === 0) throw new H2ProtocolError(COMPRESSION_ERROR, 'HPACK index 0');
        let name: string;
        let value: string;
        if (index <= STATIC_COUNT) {
          const entry = STATIC_TABLE[index - 1]!;
          name = entry[0];
          value = entry[1];
        } else {
          const slot = this.slot(index);
          name = this.names[slot]!;
          value = this.values[slot]!;
        }
        listSize += name.length + value.length + ENTRY_OVERHEAD;
        if (listSize > bound) out = undefined;
        out?.onHeader(name, value);
        if (cacheable && fields < MAX_CACHED_FIELDS) {
          this.seenNames[fields] = name;
          this.seenValues[fields] = value;
        }
        fields++;
        fieldSeen = true;
      } else if ((byte & 0xe0) === 0x20) {
        // Dynamic table size update (6.3): only before the first field of a block.
        if (fieldSeen) throw new H2ProtocolError(COMPRESSION_ERROR, 'HPACK table size update after a field');
        const size = decodeInteger(buf, at, end, 5, this.int).value;
        at = this.int.next;
        if (size > this.maxTableSize) throw new H2ProtocolError(COMPRESSION_ERROR, `HPACK table size ${size} above ${this.maxTableSize}`);
        this.limit = size;
        this.epoch++;
        this.evictTo(size);
      } else {
        // Literal with incremental indexing (6.2.1, 6-bit prefix), without indexing or never indexed (4-bit).
        const indexing = (byte & 0xc0) === 0x40;
        const nameIndex = decodeInteger(buf, at, end, indexing ? 6 : 4, this.int).value;
        at = this.int.next;
        let name: string;
        if (nameIndex === 0) {
          at = this.readString(buf, at, end);
          name = this.text;
        } else {
          name = this.nameAt(nameIndex);
        }
        at = this.readString(buf, at, end);
        const value = this.text;
        if (indexing) this.insert(name, value);
        listSize += name.length + value.length + ENTRY_OVERHEAD;
        if (listSize > bound) out = undefined;
        out?.onHeader(name, value);
        if (cacheable && fields < MAX_CACHED_FIELDS) {
          this.seenNames[fields] = name;
          this.seenValues[fields] = value;
        }
        fields++;
        fieldSeen = true;
      }
    }
    if (listSize > bound) throw new HeaderListTooLargeError(listSize, bound);
    // Kept only if the table is as it was (a block that changed it could never hit again: its epoch has passed).
    if (cacheable && this.epoch === epoch) this.blocks.set(buf, start, end, epoch, fields, this.seenNames, this.seenValues, listSize);
    return listSize;
  }

  private nameAt(index: number): string {
    if (index <= STATIC_COUNT) return STATIC_TABLE[index - 1]![0];
    return this.names[this.slot(index)]!;
  }

  private valueAt(index: number): string {
    if (index <= STATIC_COUNT) return STATIC_TABLE[index - 1]![1];
    return this.values[this.slot(index)]!;
  }

  private slot(index: number): number {
    const i = index - STATIC_COUNT - 1;
    if (i >= this.count) throw new H2ProtocolError(COMPRESSION_ERROR, `HPACK index ${index} beyond the table`);
    const capacity = this.names.length;
    return (this.head - 1 - i + capacity) % capacity;
  }

  /** Reads a string literal at buf[at] into this.text; returns where it ends. */
  private readString(buf: Buffer, at: number, end: number): number {
    if (at >= end) throw new H2ProtocolError(COMPRESSION_ERROR, 'HPACK string missing');
    const huffman = (buf[at]! & 0x80) !== 0;
    const length = decodeInteger(buf, at, end, 7, this.int).value;
    const from = this.int.next;
    const to = from + length;
    if (to > end) throw new H2ProtocolError(COMPRESSION_ERROR, 'HPACK string cut short');
    const known = this.literals.get(buf, from, to, huffman);
    if (known !== undefined) {
      this.text = known;
      return to;
    }
    this.text = huffman ? huffmanDecode(buf, from, to) : buf.toString('latin1', from, to);
    this.literals.set(buf, from, to, huffman, this.text);
    return to;
  }

  private insert(name: string, value: string): void {
    this.epoch++;
    const size = name.length + value.length + ENTRY_OVERHEAD;
    // An entry larger than the table empties it and is not added (4.4).
    this.evictTo(this.limit - size);
    if (size > this.limit) return;
    const capacity = this.names.length;
    this.names[this.head] = name;
    this.values[this.head] = value;
    this.head = (this.head + 1) % capacity;
    this.count++;
    this.bytes += size;
  }

  private evictTo(size: number): void {
    const capacity = this.names.length;
    while (this.count > 0 && this.bytes > Math.max(0, size)) {
      this.epoch++;
      const oldest = (this.head - this.count + capacity) % capacity;
      this.bytes -= this.names[oldest]!.length + this.values[oldest]!.length + ENTRY_OVERHEAD;
      this.names[oldest] = '';
      this.values[oldest] = '';
      this.count--;
    }
  }
}
