import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamTable } from '../../load/wire/stream-table.js';
import type { WireStream } from '../../load/wire/stream.js';

const stream = (id: number): WireStream => ({ id }) as WireStream;

test('StreamTable agrees with a Map under opens, ends out of order, lingering streams and growth', () => {
  const table = new StreamTable();
  const model = new Map<number, WireStream>();
  let seed = 7;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let nextId = 1;
  // Stream 1 lingers for the whole run (a stalled stream), as do a few others picked at random.
  for (let step = 0; step < 20_000; step++) {
    const open = [...model.keys()];
    // Sometimes many streams at once (the ring grows), mostly few.
    const target = step % 5000 < 1000 ? 300 : 40;
    if (open.length < target || random() < 0.5) {
      const s = stream(nextId);
      table.set(nextId, s);
      model.set(nextId, s);
      nextId += 2;
    } else {
      const id = open[Math.floor(random() * open.length)]!;
      if (id === 1 || (id % 7 === 0 && random() < 0.9)) continue;
      assert.equal(table.delete(id), true);
      model.delete(id);
    }
    assert.equal(table.size, model.size);
    if (step % 97 === 0) {
      assert.deepEqual(
        table.values().map((s) => s.id),
        [...model.keys()],
        'values() in id (insertion) order',
      );
      for (let id = 1; id < nextId + 4; id += 2) assert.equal(table.get(id), model.get(id), `get(${id})`);
      assert.equal(table.delete(nextId + 2), false, 'an id never opened');
    }
  }
  table.clear();
  assert.equal(table.size, 0);
  assert.equal(table.get(1), undefined);
});
