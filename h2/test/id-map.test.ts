// IdMap against a Map as the oracle (random operations, both id parities, growth), and what it is for: churned
// through while it lives in the old generation, it does not drag the values it held there (a Map does: its
// replaced tables link to their successors, and the scavenger keeps the chain; see id-map.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { IdMap } from '../id-map.js';

/** A seeded xorshift, so a failure replays. */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('IdMap', () => {
  test('matches a Map over random set / delete / get / has, values by ascending id', () => {
    for (const seed of [1, 2, 3, 42]) {
      const rand = rng(seed);
      const map = new IdMap<{ id: number }>();
      const oracle = new Map<number, { id: number }>();
      let next = 1;
      for (let op = 0; op < 20_000; op++) {
        const r = rand();
        if (r < 0.4) {
          // mostly new ids in order (streams opening), sometimes an old or a far one
          const id = rand() < 0.9 ? (next += 1 + Math.floor(rand() * 2)) : 1 + Math.floor(rand() * 0x7ffffffe);
          const v = { id };
          map.set(id, v);
          oracle.set(id, v);
        } else if (r < 0.8) {
          const keys = [...oracle.keys()];
          const id = keys.length > 0 && rand() < 0.9 ? keys[Math.floor(rand() * keys.length)]! : next + 7;
          assert.equal(map.delete(id), oracle.delete(id), `seed ${seed} op ${op}: delete ${id}`);
        } else {
          const id = Math.floor(rand() * (next + 2));
          assert.equal(map.get(id), oracle.get(id), `seed ${seed} op ${op}: get ${id}`);
          assert.equal(map.has(id), oracle.has(id));
        }
        assert.equal(map.size, oracle.size);
      }
      const sorted = [...oracle.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
      assert.deepEqual(map.values(), sorted);
      for (const [id, v] of oracle) assert.equal(map.get(id), v);
    }
  });

  test('set replaces a value; clear empties; 0 and ids past 2^31-1 are refused', () => {
    const map = new IdMap<string>();
    map.set(5, 'a').set(5, 'b');
    assert.equal(map.size, 1);
    assert.equal(map.get(5), 'b');
    for (let id = 1; id < 200; id += 2) map.set(id, String(id));
    assert.equal(map.size, 100);
    map.clear();
    assert.equal(map.size, 0);
    assert.equal(map.get(5), undefined);
    assert.deepEqual(map.values(), []);
    assert.equal(map.get(0), undefined);
    assert.throws(() => map.set(0, 'x'), RangeError);
    assert.throws(() => map.set(2 ** 31, 'x'), RangeError);
    map.set(2 ** 31 - 1, 'last');
    assert.equal(map.get(2 ** 31 - 1), 'last');
  });

  test('churned while it lives in the old generation, it does not promote the values it held', () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as (opts?: { type: 'minor' | 'major' }) => void;
    const map = new IdMap<object[]>();
    for (let id = 1; id < 16; id += 2) map.set(id, []);
    gc({ type: 'major' });
    gc({ type: 'major' }); // the map is old now, as a connection's is after its first seconds

    // A connection's life: 8 streams open at a time, each holding ~30 KB of objects, ~60 MB in all.
    const profiler = new v8.GCProfiler();
    profiler.start();
    let id = 101;
    for (let n = 0; n < 2000; n++, id += 2) {
      map.set(id, Array.from({ length: 1000 }, (_, i) => ({ i })));
      if (n >= 8) map.delete(id - 16);
      if (n % 100 === 99) gc({ type: 'minor' });
    }
    const { statistics } = profiler.stop();
    const oldSpace = (s: { heapSpaceStatistics: v8.HeapSpaceStatistics[] }): number =>
      s.heapSpaceStatistics.find((x) => x.spaceName === 'old_space')!.spaceUsedSize;
    const scavenges = statistics.filter((s) => s.gcType === 'Scavenge');
    const promoted = scavenges.reduce((sum, s) => sum + oldSpace(s.afterGC) - oldSpace(s.beforeGC), 0);
    assert.ok(scavenges.length >= 20, `${scavenges.length} scavenges`);
    // No stream lives across two scavenges, so none should be promoted. (A Map here promoted 14-27 MB: the
    // values its replaced tables still held.)
    assert.ok(promoted < 2 * 2 ** 20, `${(promoted / 2 ** 20).toFixed(1)} MB promoted by ${scavenges.length} scavenges`);
  });
});
