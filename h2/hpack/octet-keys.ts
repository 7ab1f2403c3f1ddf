// The keys of the decoder's two caches: a small direct-mapped table of short octet strings, each with a number
// (its tag) that must match too. literal-cache.ts keys a literal by its encoded octets and its Huffman bit,
// block-cache.ts a header block by its octets and the dynamic table's epoch. Only the keys live here: find()
// says which slot holds a key and claim() gives one a slot; each cache keeps its values by slot.

export class OctetKeys {
  private readonly octets: Uint8Array;
  /** Per slot: the key's length, or -1 for an empty slot. */
  private readonly lengths: Int32Array;
  /** Per slot: the key's tag. Int32: a tag past 2^31 (an epoch, after that many table changes) is stored wrapped
   *  and so never matches again, which only turns the cache off, never gives a wrong hit. */
  private readonly tags: Int32Array;

  /** `slots`: a power of two; keys longer than `maxLength` octets are never kept (comparing them would cost about as much as decoding). */
  constructor(
    private readonly slots: number,
    readonly maxLength: number,
  ) {
    this.octets = new Uint8Array(slots * maxLength);
    this.lengths = new Int32Array(slots).fill(-1);
    this.tags = new Int32Array(slots);
  }

  /** The slot holding exactly the octets buf[from, to) with `tag`, or -1. */
  find(buf: Uint8Array, from: number, to: number, tag: number): number {
    const length = to - from;
    if (length > this.maxLength || length === 0) return -1;
    const slot = this.slotOf(buf, from, length);
    if (this.lengths[slot] !== length || this.tags[slot] !== tag) return -1;
    const base = slot * this.maxLength;
    for (let i = 0; i < length; i++) if (this.octets[base + i] !== buf[from + i]) return -1;
    return slot;
  }

  /** Gives the key buf[from, to) with `tag` its slot, in place of whatever had it; -1 for an empty or too long key. */
  claim(buf: Uint8Array, from: number, to: number, tag: number): number {
    const length = to - from;
    if (length > this.maxLength || length === 0) return -1;
    const slot = this.slotOf(buf, from, length);
    this.octets.set(buf.subarray(from, to), slot * this.maxLength);
    this.lengths[slot] = length;
    this.tags[slot] = tag;
    return slot;
  }

  /** By length and the first and last octets: distinct keys in use together rarely collide. */
  private slotOf(buf: Uint8Array, from: number, length: number): number {
    return (length ^ buf[from]! ^ (buf[from + length - 1]! << 1)) & (this.slots - 1);
  }
}
