// Whole header blocks a peer sends again and again, decoded once. A steady peer's blocks repeat octet for octet:
// once its encoder has indexed what it indexes, every answer of node:http2 (or request of h2load) is the same few
// indexed fields and unindexed literals. A block's decoding depends only on its octets and on the dynamic table's
// contents, so a block that changed nothing in the table, seen again with the table unchanged (the decoder's
// epoch, bumped at every insertion and eviction), decodes to the same fields: a hit is exact.
// Kept only for short blocks that made no change to the table (no literal with incremental indexing, no size
// update): replaying one of those leaves the table as decoding it would. Keyed by octets and epoch (octet-keys.ts).
import { OctetKeys } from './octet-keys.js';

/** Blocks longer than this are decoded every time: a steady block is a handful of octets. */
export const MAX_CACHED_BLOCK = 64;
/** Fields of a block kept; a block with more is decoded every time. */
export const MAX_CACHED_FIELDS = 16;
const SLOTS = 4;

/** A decoded block, as kept: its fields as parallel name and value lists, and its decoded size (RFC 9113 6.5.2). */
export interface CachedBlock {
  readonly count: number;
  readonly names: readonly string[];
  readonly values: readonly string[];
  readonly listSize: number;
}

interface Entry {
  count: number;
  names: string[];
  values: string[];
  listSize: number;
}

export class BlockCache {
  private readonly keys = new OctetKeys(SLOTS, MAX_CACHED_BLOCK);
  private readonly entries: Entry[] = Array.from({ length: SLOTS }, () => ({
    count: 0,
    names: new Array<string>(MAX_CACHED_FIELDS).fill(''),
    values: new Array<string>(MAX_CACHED_FIELDS).fill(''),
    listSize: 0,
  }));

  /** The fields of buf[from, to) decoded at table `epoch`, if that block was kept at that epoch; else undefined. */
  get(buf: Uint8Array, from: number, to: number, epoch: number): CachedBlock | undefined {
    const slot = this.keys.find(buf, from, to, epoch);
    return slot < 0 ? undefined : this.entries[slot];
  }

  /**
   * Keeps the decoding of buf[from, to) at table `epoch`: `count` fields from names and values (the caller's
   * lists, copied), of decoded size `listSize`. Only for a block that changed nothing in the table.
   */
  set(buf: Uint8Array, from: number, to: number, epoch: number, count: number, names: readonly string[], values: readonly string[], listSize: number): void {
    if (count > MAX_CACHED_FIELDS) return;
    const slot = this.keys.claim(buf, from, to, epoch);
    if (slot < 0) return;
    const entry = this.entries[slot]!;
    entry.count = count;
    for (let i = 0; i < count; i++) {
      entry.names[i] = names[i]!;
      entry.values[i] = values[i]!;
    }
    entry.listSize = listSize;
  }
}
