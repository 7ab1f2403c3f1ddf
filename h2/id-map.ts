// A map from stream id to value, for the maps a connection churns (a stream in and out per request): an
// open-addressing table (linear probing, backward-shift deletion) over an Int32Array of ids and an array of values.
//
// Why not a Map: V8's Map (an OrderedHashTable) reallocates its table every few insert/delete pairs, and the old
// table keeps a pointer to its successor (for live iterators) and the entries it held. Once one such table has been
// promoted to the old generation (a map idle across two scavenges, e.g. at startup), each later table is reachable
// from a dead old-space object, so the scavenger keeps it, with the values in it, and promotes it: the whole chain
// of tables since the last mark-compact survives, and every stream's objects they held with it. In the proxy at
// 10k requests/s that was ~1.6 MB promoted per scavenge, 3-9 ms scavenges and a mark-compact a second
// (--trace-gc-nvp): the P99 tail at concurrency 8. Here a delete clears its slot in place, and the table is only
// replaced when it grows (the old one links to nothing).
const EMPTY = 0;

export class IdMap<V> {
  private ids: Int32Array;
  private vals: Array<V | undefined>;
  private mask: number;
  private shift: number;
  private count = 0;

  constructor(capacity = 16) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.ids = new Int32Array(cap);
    this.vals = new Array<V | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
  }

  get size(): number {
    return this.count;
  }

  get(id: number): V | undefined {
    const i = this.find(id);
    return i < 0 ? undefined : this.vals[i];
  }

  has(id: number): boolean {
    return this.find(id) >= 0;
  }

  /** `id` is a stream id: 1 to 2^31-1. */
  set(id: number, value: V): this {
    if (!(id > 0 && id <= 0x7fffffff)) throw new RangeError(`IdMap: id ${id} is not a stream id`);
    const { ids, mask } = this;
    let i = this.home(id);
    for (;;) {
      const at = ids[i]!;
      if (at === id) {
        this.vals[i] = value;
        return this;
      }
      if (at === EMPTY) break;
      i = (i + 1) & mask;
    }
    ids[i] = id;
    this.vals[i] = value;
    if (++this.count * 2 > ids.length) this.grow();
    return this;
  }

  delete(id: number): boolean {
    let i = this.find(id);
    if (i < 0) return false;
    const { ids, vals, mask } = this;
    // Backward shift: each later entry of the run whose probe path passes through the hole moves into it.
    for (let j = (i + 1) & mask; ids[j] !== EMPTY; j = (j + 1) & mask) {
      const k = ids[j]!;
      if (((j - this.home(k)) & mask) >= ((j - i) & mask)) {
        ids[i] = k;
        vals[i] = vals[j];
        i = j;
      }
    }
    ids[i] = EMPTY;
    vals[i] = undefined;
    this.count--;
    return true;
  }

  /** A copy of the values, by ascending id (the order one side's streams open in, as a Map would give them). */
  values(): V[] {
    if (this.count === 0) return [];
    const slots: number[] = [];
    for (let i = 0; i < this.ids.length; i++) if (this.ids[i] !== EMPTY) slots.push(i);
    slots.sort((a, b) => this.ids[a]! - this.ids[b]!);
    return slots.map((i) => this.vals[i]!);
  }

  clear(): void {
    this.ids.fill(EMPTY);
    this.vals.fill(undefined);
    this.count = 0;
  }

  private home(id: number): number {
    return Math.imul(id, 0x9e3779b1) >>> this.shift; // Fibonacci hashing: consecutive ids spread over the table
  }

  private find(id: number): number {
    const { ids, mask } = this;
    for (let i = this.home(id); ; i = (i + 1) & mask) {
      const at = ids[i]!;
      if (at === id) return id === EMPTY ? -1 : i;
      if (at === EMPTY) return -1;
    }
  }

  private grow(): void {
    const { ids, vals } = this;
    const cap = ids.length * 2;
    this.ids = new Int32Array(cap);
    this.vals = new Array<V | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
    this.count = 0;
    for (let i = 0; i < ids.length; i++) if (ids[i] !== EMPTY) this.set(ids[i]!, vals[i]!);
    vals.fill(undefined); // the old array links to nothing once replaced
  }
}
