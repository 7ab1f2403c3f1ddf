// A connection's open streams by id, for the per-request path: the Map it replaces cost a hash and, as ids only
// grow, a rehash of its table every so often (garbage per request). Client stream ids are odd and increasing, so
// id >>> 1 indexes a ring: a stream's slot is free again long before its id comes round, unless it outlives a
// ring's worth of newer streams (a stalled one, a slow one), which then moves to a Map on the side.
import type { WireStream } from './stream.js';

const INITIAL_CAPACITY = 64;

export class StreamTable {
  private ring: (WireStream | undefined)[] = new Array<WireStream | undefined>(INITIAL_CAPACITY).fill(undefined);
  private mask = INITIAL_CAPACITY - 1;
  /** Streams pushed out of the ring by a newer stream that wanted their slot. */
  private readonly aside = new Map<number, WireStream>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: number): WireStream | undefined {
    const stream = this.ring[(id >>> 1) & this.mask];
    if (stream !== undefined && stream.id === id) return stream;
    return this.aside.size === 0 ? undefined : this.aside.get(id);
  }

  /** Adds `stream` under its id (`stream.id === id`); the id must not be in the table. */
  set(id: number, stream: WireStream): void {
    if (2 * (this.count + 1) > this.ring.length) this.grow();
    this.place(id, stream);
    this.count++;
  }

  delete(id: number): boolean {
    const slot = (id >>> 1) & this.mask;
    const stream = this.ring[slot];
    if (stream !== undefined && stream.id === id) {
      this.ring[slot] = undefined;
      this.count--;
      return true;
    }
    if (this.aside.size === 0 || !this.aside.delete(id)) return false;
    this.count--;
    return true;
  }

  /** Every stream, oldest (lowest id) first, as a Map's insertion order would give them; a copy. */
  values(): WireStream[] {
    const all: WireStream[] = [...this.aside.values()];
    for (const stream of this.ring) if (stream !== undefined) all.push(stream);
    return all.sort((a, b) => a.id - b.id);
  }

  clear(): void {
    this.ring.fill(undefined);
    this.aside.clear();
    this.count = 0;
  }

  private place(id: number, stream: WireStream): void {
    const slot = (id >>> 1) & this.mask;
    const old = this.ring[slot];
    if (old !== undefined) this.aside.set(old.id, old);
    this.ring[slot] = stream;
  }

  private grow(): void {
    const all = this.values();
    const capacity = this.ring.length * 2;
    this.ring = new Array<WireStream | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    this.aside.clear();
    for (const stream of all) this.place(stream.id, stream);
  }
}
