// Whole header blocks a peer sends again and again, decoded once. A steady peer's blocks repeat octet for octet:
// once its encoder has indexed what it indexes, every answer of node:http2 (or request of h2load) is the same few
// indexed fields and unindexed literals. A block's decoding depends only on its octets and on the dynamic table's
// contents, so a block that changed nothing in the table, seen again with the table unchanged (the decoder's
// epoch, bumped at every insertion and eviction), decodes to the same fields: a hit is exact.
// Kept only for short blocks that made no change to the table (no literal with incremental indexing, no size
// update): replaying one of those leaves the table as decoding it would.

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

interface Slot extends CachedBlock {
  length: number;
  epoch: number;
  count: number;
  names: string[];
  values: string[];
  listSize: number;
}

export class BlockCache {
  private readonly octets = new Uint8Array(SLOTS * MAX_CACHED_BLOCK);
  private readonly slots: Slot[] = Array.from({ length: SLOTS }, () => ({
    length: -1,
    epoch: -1,
    count: 0,
    names: new Array<string>(MAX_CACHED_FIELDS).fill(''),
    values: new Array<string>(MAX_CACHED_FIELDS).fill(''),
    listSize: 0,
  }));

  /** The fields of buf[from, to) decoded at table `epoch`, if that block was kept at that epoch; else undefined. */
  get(buf: Uint8Array, from: number, to: number, epoch: number): CachedBlock | undefined {
    const length = to - from;
    if (length > MAX_CACHED_BLOCK || length === 0) return undefined;
    const index = slotOf(buf, from, length);
    const slot = this.slots[index]!;
    if (slot.length !== length || slot.epoch !== epoch) return undefined;
    const base = index * MAX_CACHED_BLOCK;
    for (let i = 0; i < length; i++) if (this.octets[base + i] !== buf[from + i]) return undefined;
    return slot;
  }

  /**
   * Keeps the decoding of buf[from, to) at table `epoch`: `count` fields from names and values (the caller's
   * lists, copied), of decoded size `listSize`. Only for a block that changed nothing in the table.
   */
  set(buf: Uint8Array, from: number, to: number, epoch: number, count: number, names: readonly string[], values: readonly string[], listSize: number): void {
    const length = to - from;
    if (length > MAX_CACHED_BLOCK || length === 0 || count > MAX_CACHED_FIELDS) return;
    const index = slotOf(buf, from, length);
    const slot = this.slots[index]!;
    this.octets.set(buf.subarray(from, to), index * MAX_CACHED_BLOCK);
    slot.length = length;
    slot.epoch = epoch;
    slot.count = count;
    for (let i = 0; i < count; i++) {
      slot.names[i] = names[i]!;
      slot.values[i] = values[i]!;
    }
    slot.listSize = listSize;
  }
}

/** Direct-mapped by length and the first and last octets (as LiteralCache). */
function slotOf(buf: Uint8Array, from: number, length: number): number {
  return (length ^ buf[from]! ^ (buf[from + length - 1]! << 1)) & (SLOTS - 1);
}
